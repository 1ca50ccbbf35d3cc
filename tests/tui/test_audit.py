"""The audit screen reads the journal: newest first, filtered, interrupted calls marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from console.core.model import Action, ActionKind, Outcome, OutcomeKind
from console.tui.screens.audit import AuditScreen
from console.tui.screens.audit_rows import COLUMNS, AuditFilter, cycle
from console.tui.screens.recovery import InterruptedScreen
from tests.tui.fakes import FakeClock
from tests.tui.pilot_support import wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    fake_kill_session,
    kill_done,
    killable_venues,
    make_app,
    open_kill,
    shown,
)

SIZE = (160, 40)


def column(screen: AuditScreen, name: str) -> list[str]:
    table = screen.query_one("#audit-table", DataTable)
    index = COLUMNS.index(name)
    return [str(table.get_row_at(r)[index]).strip() for r in range(table.row_count)]


def test_filters_cycle_and_describe_themselves() -> None:
    f = AuditFilter()
    assert [f.window, f.next_window().window, f.next_window().next_window().window] == [
        "24h",
        "1h",
        "15m",
    ]
    assert cycle([None, "x3algo", "pipai"], "pipai") is None
    assert f.describe() == "time 24h · venue all · operator all · outcome all"
    assert AuditFilter(window="1h").since_ms(1000.0) == (1000 - 3600) * 1000
    assert AuditFilter(window="all").since_ms(1000.0) is None


async def test_the_audit_screen_shows_a_kill_newest_first_and_filters_venue_and_outcome(
    tmp_path: Path, clock: FakeClock
) -> None:
    venues = killable_venues()
    venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable")
    session = fake_kill_session(tmp_path, clock, venues)
    app = make_app(session)  # real time: the journal stamps real time
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        plan = (await open_kill(pilot, app)).kp.plan
        await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        await pilot.press("escape", "u")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        kinds = column(screen, "Kind")
        assert len(kinds) == 3 * len(plan)
        assert kinds[-len(plan) :] == ["intent"] * len(plan)  # the oldest rows are last
        assert set(column(screen, "Operator")) == {"alice@desk1"}
        await pilot.press("v")  # venue: 55tech
        assert set(column(screen, "Venue")) == {"55tech"}
        await pilot.press("v")  # venue: x3algo
        assert set(column(screen, "Venue")) == {"x3algo"}
        for _ in range(4):  # outcome: applied, already, rejected, failed
            await pilot.press("c")
        assert screen.filter.outcome == "failed"
        assert {r.split(" · ")[1] for r in column(screen, "Target")} == {"a1"}
        assert "FAILED" in column(screen, "Result")
        assert "venue x3algo · operator all · outcome failed" in shown(
            screen.query_one("#audit-filter", Static)
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, AuditScreen)


async def test_interrupted_calls_are_marked_in_the_audit_and_verified_from_there(
    tmp_path: Path, clock: FakeClock
) -> None:
    venues = killable_venues()
    session = fake_kill_session(tmp_path, clock, venues)
    session.journal.intend("x3algo", "a1", "btc-grid", Action(ActionKind.STOP), batch_id="b1")
    app: Any = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, InterruptedScreen), "the offer")
        await pilot.press("escape")  # later
        await wait_for(pilot, lambda: session.store.targets("x3algo") != [])
        await pilot.press("u")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert "INTERRUPTED — needs verification" in column(screen, "Result")
        assert "1 INTERRUPTED" in shown(screen.query_one("#audit-filter", Static))
        await pilot.press("i")
        assert column(screen, "Target") == ["btc-grid · a1"]
        await pilot.press("e")
        assert isinstance(app.screen, InterruptedScreen)
        await pilot.press("v")
        await wait_for(pilot, lambda: session.journal.interrupted() == [], "verification")
        await pilot.press("escape")
        await wait_for(pilot, lambda: column(screen, "Target") == [], "the view to refresh")
        await pilot.press("i")
        assert "→ RUNNING" in column(screen, "Result")  # what the re-read found
