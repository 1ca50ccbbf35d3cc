"""How a state is known, and why it is: each beside the state it belongs to.

Joyride cannot report a pause, so its "How known" column never says "reported by
venue": it says who set the state here and when (the journal's knowledge), or unknown.
A 55-tech engine carries a pause and a stop, each with its own reason; the Reason
column shows the reason of the halt its status shows, never one underneath it.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from console.core.journal import Journal
from console.core.model import State, Target, TargetKind
from console.core.operator import Operator
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.tui.app import ConsoleApp
from console.tui.panels.engines import _reason
from console.tui.screens.confirm import ConfirmScreen
from console.tui.widgets.live_static import LiveStatic
from console.venues.registry import session_for
from tests.support import settings_for
from tests.tui.fakes import FakeVenue
from tests.tui.pilot_support import cell, wait_for

SIZE = (160, 40)


def joyride_session(sim: SimServer, tmp_path: Path) -> Session:
    options = SessionOptions(profile="test", label="SIM")
    journal = Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("alice", "desk1"))
    return session_for(options, [settings_for(sim, "joyride")], journal)


async def cursor_to(pilot: Pilot[None], app: ConsoleApp, key: str) -> None:
    table = app.active_panel.table
    await pilot.press("home")
    for _ in range(table.row_count):
        if table.cursor_key == key:
            return
        await pilot.press("j")
    assert table.cursor_key == key


async def test_a_joyride_pause_set_here_says_by_whom_never_reported_by_venue(
    sim: SimServer, tmp_path: Path
) -> None:
    session = joyride_session(sim, tmp_path)
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        store = session.store

        def upcoming() -> list[str]:
            return [t.id for t in store.targets("joyride") if t.state is State.UNKNOWN]

        await wait_for(pilot, lambda: len(upcoming()) >= 2, "upcoming expirations")
        first, other = (f"joyride/{i}" for i in sorted(upcoming())[:2])
        await wait_for(pilot, lambda: cell(app, other, "known") != "", "rows drawn")
        assert cell(app, first, "known") == "unknown"
        await cursor_to(pilot, app, first)
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: cell(app, first, "state") == "PAUSED", "PAUSED")
        known = cell(app, first, "known")
        assert known.startswith("set here ") and known.endswith(" by alice"), known
        assert cell(app, other, "known") == "unknown"
        shown = {cell(app, key, "known") for key in app.active_panel.table.ordered_keys()}
        assert not any("venue" in text for text in shown), shown


async def test_a_joyride_pause_from_an_earlier_run_is_known_from_the_journal(
    sim: SimServer, tmp_path: Path
) -> None:
    earlier = joyride_session(sim, tmp_path)
    app = ConsoleApp(earlier, earlier.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: app.active_panel.table.row_count > 0, "rows")
        [upcoming] = sorted(
            t.id for t in earlier.store.targets("joyride") if t.state is State.UNKNOWN
        )[:1]
        key = f"joyride/{upcoming}"
        await cursor_to(pilot, app, key)
        await pilot.press("P", "y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: cell(app, key, "state") == "PAUSED", "PAUSED")
    later = joyride_session(sim, tmp_path)  # a new process: the client knows nothing itself
    app = ConsoleApp(later, later.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: cell(app, key, "state") == "PAUSED", "PAUSED again")
        known = cell(app, key, "known")
        assert known.startswith("journal ") and known.endswith(" by alice"), known


async def test_a_stop_over_a_pause_shows_the_stops_reason_not_the_pauses(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """bolt is paused for "risk check [desk]"; a stop without a reason goes on top."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        key = "55tech/bolt"
        assert cell(app, key, "reason") == "risk check [desk]"
        await cursor_to(pilot, app, key)
        await pilot.press("X")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: cell(app, key, "status") == "MANUAL STOPPED", "stopped")
        assert cell(app, key, "reason") == ""
        detail = app.active_panel.query_one("#detail", LiveStatic)
        await wait_for(pilot, lambda: "also manually paused" in str(detail.render()), "detail")
        assert "also manually paused: risk check [desk]" in str(detail.render())
        assert "reason: risk check" not in str(detail.render())


def test_the_reason_beside_each_status_word_is_that_halts_own() -> None:
    halts = {"manual_stopped": True, "stop_reason": "end of day",
             "manual_paused": True, "pause_reason": "risk check",
             "system_blocked": True, "system_reason": "exchange outage"}  # fmt: skip
    for words, reason in (
        ("EMERGENCY", "global: exchange outage"),
        ("MANUAL STOPPED", "end of day"),
        ("MANUAL PAUSED", "risk check"),
        ("LIVE", ""),
    ):
        target = Target("55tech", TargetKind.ENGINE, "e", "e", State.UNKNOWN, "x",
                        {**halts, "status_words": words})  # fmt: skip
        assert _reason(target) == reason, words
