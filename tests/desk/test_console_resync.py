"""A desk console's state source when things go wrong: a missed batch makes it read the
bucket again; a NATS restart shows DESK DOWN at once, then the whole picture again; a
console attached before any hub is down until one serves; a hub restarted mid-kill has
its cut-short calls offered for verification in the console, as locally."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from console.core.model import Action, ActionKind, State
from console.desk import messages, subjects
from console.desk.desk_console import DeskConsoleApp
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from console.tui.screens.recovery import InterruptedScreen
from tests.desk.support import PROFILE, connect, running_hub
from tests.desk.test_console_desk import SIZE, desk_console, down, until
from tests.tui.pilot_support import wait_for


async def test_a_missed_batch_reads_the_bucket_again(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (state, _control),
    ):
        await until(state, lambda: state.batch_seq is not None, "a first batch")
        before = state.resyncs
        hub_nc = await connect(nats_server, HUB_USER)
        try:  # a batch from the hub's run that skips numbers: some were lost on the way
            skip = messages.StateBatch(hub_id=desk.hub.hub_id, seq=(state.batch_seq or 0) + 1000,
                                       ts=time.time())  # fmt: skip
            await hub_nc.publish(subjects.state_subject(PROFILE), skip.encode())
            await hub_nc.flush()
        finally:
            await hub_nc.close()
        await until(state, lambda: state.resyncs > before, "a full read of the bucket")
        hub_keys = {t.key for t in desk.session.store.all_targets()}
        assert {t.key for t in state.store.all_targets()} == hub_keys
        assert state.down is None


async def test_a_nats_restart_is_desk_down_at_once_then_a_full_read(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "bob") as (state, _control),
    ):
        said: list[str | None] = []
        state.on_down(said.append)
        before = state.resyncs
        nats_server.stop()
        await until(state, lambda: down(state), "DESK DOWN on every venue")
        assert said and said[0] is not None and "NATS" in said[0]
        nats_server.start()  # the same port, users and files
        await asyncio.wait_for(desk.reconnected.wait(), 30)
        await until(state, lambda: state.down is None, "the desk back")
        assert said[-1] is None and state.resyncs > before
        assert not down(state)
        hub_keys = {t.key for t in desk.session.store.all_targets()}
        assert {t.key for t in state.store.all_targets()} == hub_keys


async def test_a_console_attached_before_any_hub_is_down_until_one_serves(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with desk_console(nats_server, "bob") as (state, _control):
        assert state.venues == [] and state.hub is None
        assert state.down == f"no hub serves profile {PROFILE} yet"
        told: list[list[str]] = []
        state.on_venues(told.append)
        async with running_hub(nats_server, sim, tmp_path) as desk:
            await asyncio.wait_for(state.until_served(), 30)
            assert state.venues == ["x3algo"] and told == [["x3algo"]]
            hub_keys = {t.key for t in desk.session.store.all_targets()}
            await until(state, lambda: {t.key for t in state.store.all_targets()} == hub_keys,
                        "the hub's picture")  # fmt: skip
            desk.session.journal.note("test", "x3algo", "-", "-", "note", "the console follows it")
            await desk.hub.mirror_journal()
            last = desk.session.journal.entries()[-1].seq
            await until(state, lambda: state.journal.last_seq >= last, "the journal followed")


async def test_a_hub_restarted_mid_kill_offers_the_cut_short_calls_in_the_console(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:  # it dies mid-kill:
        targets = [t for t in desk.session.store.all_targets() if t.state is State.RUNNING][:2]
        for t in targets:  # intents journaled, no outcome
            desk.session.journal.intend(t.venue, t.id, t.name, Action(ActionKind.STOP))
        await desk.hub.mirror_journal()
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,  # the same journal, restarted
        desk_console(nats_server, "alice") as (state, control),
    ):
        assert len(desk.session.journal.interrupted()) == 2  # offered, not verified alone
        app = DeskConsoleApp(state, control)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, InterruptedScreen), "the offer")
            await pilot.press("v")
            await wait_for(pilot, lambda: desk.session.journal.interrupted() == [], "verified")
            screen = app.screen
            await wait_for(pilot, lambda: isinstance(screen, InterruptedScreen)
                           and screen.results is not None, "the results shown")  # fmt: skip
            assert isinstance(screen, InterruptedScreen) and screen.results is not None
            assert {v.entry.target_id for v in screen.results} == {t.id for t in targets}
            assert len(desk.session.journal.entries(kind="verify")) == 2
