"""A 55-tech engine whose key's status read fails, on the panel: one row, UNREAD, never
the last word seen (against the simulator, over loopback)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.core.journal import Journal
from console.core.model import Action, ActionKind
from console.core.operator import Operator
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.tui.app import ConsoleApp
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.registry import session_for
from tests.support import set_knobs, settings_for
from tests.tui.pilot_support import cell, row_keys, show_row, wait_for
from tests.tui.test_kill_support import confirm_kill, kill_done, open_kill

API = "55tech"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


def console_on(sim: SimServer, tmp_path: Path) -> tuple[Session, ConsoleApp]:
    """A session of the simulator's 55-tech alone, as alice, and its console."""
    journal = Journal(tmp_path / "j.sqlite3", profile="t", operator=Operator("alice", "desk1"))
    session = session_for(SessionOptions(profile="t", label="SIM"), [settings_for(sim, API)],
                          journal)  # fmt: skip
    return session, ConsoleApp(session, session.control, clock=session.clock)


async def test_an_engine_never_read_is_one_row_unread_then_read_in_place(
    sim: SimServer, tmp_path: Path
) -> None:
    set_knobs(sim, API, failing_status_keys=1)
    session, app = console_on(sim, tmp_path)
    key = f"{API}/key #1"
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            # (its venue's feed is DOWN while a key fails: every row's word ends "<age>?")
            await wait_for(pilot, lambda: cell(app, key, "status").startswith("UNREAD"), "row")
            assert cell(app, key, "trading") == "?"
            assert len(row_keys(app)) == 4
            set_knobs(sim, API, failing_status_keys=0)
            await wait_for(
                pilot, lambda: cell(app, key, "status").split(" ")[0] not in ("", "UNREAD"), "read"
            )
            assert len(row_keys(app)) == 4  # read in place: never a second row for it
    finally:
        await session.aclose()


async def test_an_engine_read_before_whose_read_fails_reads_unread_with_its_last_read(
    sim: SimServer, tmp_path: Path
) -> None:
    """Its row said its last status under the venue's age ("MANUAL PAUSED 1s?" of an
    engine not read for a minute); now UNREAD, the detail line saying why and what it
    last read, and its own word again once its key answers."""
    session, app = console_on(sim, tmp_path)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: len(row_keys(app)) == 4, "the four engines")
            engine = sim.vendors[API].world.engines[0]  # type: ignore[attr-defined]
            unread = f"{API}/{engine.client}"  # (the first key's: the one made to fail)
            word = cell(app, unread, "status")
            assert not word.startswith("UNREAD")
            set_knobs(sim, API, failing_status_keys=1)
            await wait_for(pilot, lambda: cell(app, unread, "status").startswith("UNREAD"), "row")
            await show_row(pilot, app, cell(app, unread, "name"))
            detail = str(app.active_panel.query_one("#detail").render())
            assert "could not be read now" in detail and "last read: " in detail, detail
            set_knobs(sim, API, failing_status_keys=0)
            await wait_for(
                pilot, lambda: not cell(app, unread, "status").startswith("UNREAD"), "read again"
            )
            assert len(app.active_panel.targets) == 4  # one row all along
    finally:
        await session.aclose()


async def test_the_kill_from_the_keyboard_stops_an_engine_never_read(
    sim: SimServer, tmp_path: Path
) -> None:
    """K → label → Enter: the engine whose key's status read fails is in the plan (its
    row is on the panel) and its stop lands — the report says no re-read confirmed it."""
    set_knobs(sim, API, failing_status_keys=1)
    starter = FiftyFiveClient(settings_for(sim, API))
    try:
        assert "key #1" in {t.id for t in await starter.list_targets()}
        started = await starter.execute("key #1", Action(ActionKind.START))
        assert started.ok, started.message
    finally:
        await starter.aclose()
    engine = sim.vendors[API].world.engines[0]  # type: ignore[attr-defined]
    assert not engine.manual_stopped
    session, app = console_on(sim, tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: len(row_keys(app)) == 4, "the four engines")
            modal = await open_kill(pilot, app)
            assert (API, "key #1") in {(i.venue, i.target_id) for i in modal.kp.plan.items}
            await confirm_kill(pilot, app, "SIM")
            await kill_done(pilot, app)
            run = app.kill.run
            assert run is not None
            [result] = [r for rep in run.reports for (v, t), r in rep.results.items()
                        if (v, t) == (API, "key #1")]  # fmt: skip
            assert result.outcome.ok and not result.verified, result.outcome.message
    finally:
        await session.aclose()
    assert engine.manual_stopped  # the stop landed
