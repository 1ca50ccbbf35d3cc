"""Two consoles on one hub (a real nats-server from the wheel, the simulator, Pilot):
a stop from alice's console shows in bob's panel and outcome log; hub gone → DESK DOWN."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from console.core.model import Target
from console.core.ports import FeedStatus
from console.core.session import SessionOptions
from console.desk.desk_console import DeskConsoleApp, open_desk
from console.desk.desk_control import DeskControl
from console.desk.desk_state import DESK_DOWN, DeskState
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import PROFILE, running_hub
from tests.tui.pilot_support import cell, log_text, wait_for
from tests.tui.test_sim_actions import cursor_to, first_row, specials

SIZE = (120, 40)
OPTIONS = SessionOptions(profile=PROFILE, label="DESK")


@asynccontextmanager
async def desk_console(
    server: LocalNats, user: str, *, down_after_s: float = 3.0
) -> AsyncIterator[tuple[DeskState, DeskControl]]:
    name, password = server.creds(user)
    state, control = await open_desk(
        server.url, OPTIONS, user=name, auth={"user": name, "password": password},
        down_after_s=down_after_s, host=f"{user}-desk",
    )  # fmt: skip
    try:
        yield state, control
    finally:
        await state.aclose()


async def until(
    state: DeskState, predicate: Callable[[], bool], what: str, timeout_s: float = 30.0
) -> None:
    """Wait on the state's changes until ``predicate()`` holds (bounded; fails with ``what``)."""
    try:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                await state.next_change()
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


def down(state: DeskState) -> bool:
    return all(
        state.store.venue_health(v).status is FeedStatus.DOWN
        and state.store.venue_health(v).detail.startswith(DESK_DOWN)
        for v in state.venues
    )


async def test_a_stop_from_alices_console_shows_in_bobs_panel_and_log(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (a_state, a_control),
        desk_console(nats_server, "bob") as (b_state, b_control),
    ):
        assert a_state.venues == b_state.venues == ["x3algo"]
        hub_targets = {t.key for t in desk.session.store.all_targets()}
        await until(a_state, lambda: {t.key for t in a_state.store.all_targets()} == hub_targets,
                    "alice's picture")  # fmt: skip
        alice = DeskConsoleApp(a_state, a_control)
        bob = DeskConsoleApp(b_state, b_control)
        async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
            await pa.press("2")
            await pb.press("2")
            odd = set(specials(sim, "x3algo").values())

            def pick(t: Target) -> bool:
                return t.raw_status == "active" and t.id not in odd

            await wait_for(pa, lambda: first_row(alice, pick) is not None, "a row to stop")
            target = first_row(alice, pick)
            assert target is not None
            key = f"x3algo/{target.id}"
            await cursor_to(pa, alice, key)
            await pa.press("X")
            await pa.press("y")
            await alice.workers.wait_for_complete()
            report = alice.last_report
            assert report is not None and report.all_verified, report and report.summary()
            assert report.batch_id in a_control.own_batches
            # Bob's console: the panel and the outcome log, from the hub.
            await wait_for(pb, lambda: cell(bob, key, "status") == "STOPPED", "bob's panel")
            line = f"alice@alice-desk: stop x3algo {target.name} — applied"
            await wait_for(pb, lambda: line in log_text(bob), "bob's outcome log")
            assert not any(line in text for text in alice.activity_lines)  # alice's own
            # The journal is the hub's, alice journaled by her NATS user.
            rows = desk.session.journal.entries(batch_id=report.batch_id)
            assert {r.operator for r in rows} == {"alice"}
            await wait_for(pb, lambda: b_state.journal.last_seq >= rows[-1].seq, "bob's copy")
            assert b_state.journal.entries(batch_id=report.batch_id) == rows
            assert b_state.journal.verify_chain().ok
            assert b_control.chain_head() == desk.session.journal.chain_head()


async def test_hub_gone_shows_desk_down_and_nothing_is_sent(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice", down_after_s=1.0) as (state, control),
    ):
        app = DeskConsoleApp(state, control)
        async with app.run_test(size=SIZE) as pilot:
            assert state.down is None and not down(state)
            await desk.hub.aclose()  # the hub stops beating
            await wait_for(pilot, lambda: down(state), "DESK DOWN on every venue")
            await wait_for(pilot, lambda: DESK_DOWN in log_text(app), "said in the log")
            refusal = control.journal_refusal()
            assert refusal is not None and refusal.startswith(DESK_DOWN)


async def test_a_watch_whose_all_in_marker_comes_first_still_reads_the_whole_bucket(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats-py's watch can say "the initial values are all in" before they arrive (its
    consumer count read while they were on their way here; seen in a loaded suite): the
    console then read a served bucket as empty and said no hub ever served it."""
    from nats.js.kv import KeyValue

    watchall = KeyValue.watchall

    class MarkerFirst:
        """The real watch, its "all in" marker moved to the front."""

        def __init__(self, watcher: KeyValue.KeyWatcher) -> None:
            self.watcher, self.marked = watcher, False

        def __aiter__(self) -> MarkerFirst:
            return self

        async def __anext__(self) -> KeyValue.Entry | None:
            if not self.marked:
                self.marked = True
                return None
            entry = await self.watcher.__anext__()
            return await self.watcher.__anext__() if entry is None else entry

        async def stop(self) -> None:
            await self.watcher.stop()  # type: ignore[no-untyped-call]

    async def marker_first(self: KeyValue, **kwargs: object) -> MarkerFirst:
        return MarkerFirst(await watchall(self, **kwargs))  # type: ignore[arg-type]

    async with running_hub(nats_server, sim, tmp_path) as desk:
        await desk.hub.aclose()
        monkeypatch.setattr(KeyValue, "watchall", marker_first)
        async with desk_console(nats_server, "bob") as (state, _control):
            assert state.venues == ["x3algo"]
            assert state.store.all_targets()
            assert "hub does not answer" in (state.down or "")


async def test_a_console_with_no_hub_is_down_from_the_start(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        await desk.hub.aclose()  # the bucket stays; no hub answers
        async with desk_console(nats_server, "bob") as (state, _control):
            assert state.venues == ["x3algo"]
            assert state.store.all_targets()  # the last picture, marked down at once
            assert down(state)
            assert "hub does not answer" in (state.down or "")
