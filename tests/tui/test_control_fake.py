"""Keys → modal → dispatch → screen → journal, against in-memory venues."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from console.core.model import ActionKind, Outcome, OutcomeKind
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.quit import QuitScreen
from tests.tui.fakes import FakeClock, FakeVenue, fake_session
from tests.tui.pilot_support import cell, journal, log_text, wait_for

SIZE = (120, 40)


def loaded(app: ConsoleApp, rows: int) -> bool:
    return app.active_panel.table.row_count == rows


async def test_pause_one_engine_with_y_reaches_venue_screen_and_journal(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, 3), "engines")
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.focused is app.screen.query_one("#cancel", Button)
        assert [i.target_id for i in app.screen.plan.items] == ["acme"]
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: cell(app, "55tech/acme", "status") == "MANUAL PAUSED")
        assert [(t, a.kind) for t, a in venues["55tech"].executed] == [("acme", ActionKind.PAUSE)]
        kinds = [(e.kind, e.target_id, e.action) for e in journal(app)]
        assert kinds[:2] == [("intent", "acme", "pause"), ("outcome", "acme", "pause")]
        assert ("verify", "acme", "pause") in kinds
        await wait_for(pilot, lambda: "APPLIED" in log_text(app), "outcome in the log")


async def test_escape_n_and_enter_on_cancel_dispatch_nothing(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, 3))
        for cancel in ("escape", "n", "enter"):
            await pilot.press("X")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(cancel)
            assert not isinstance(app.screen, ConfirmScreen), cancel
        await pilot.pause()
        assert all(not v.executed for v in venues.values())
        assert journal(app) == []
        assert "Cancelled: nothing was sent." in log_text(app)


async def test_selection_needs_the_typed_count_and_skips_what_cannot_stop(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "algorithm" and loaded(app, 3))
        await pilot.press("v", "X")
        modal = app.screen
        assert isinstance(modal, ConfirmScreen)
        assert sorted(i.target_id for i in modal.plan.items) == ["a1", "a2"]
        assert [e.target.id for e in modal.draft.excluded] == ["a3"]
        assert modal.query_one("#confirm", Button).disabled
        await pilot.press("y")  # y does nothing for several targets
        assert app.screen is modal
        modal.query_one("#count", Input).focus()
        await pilot.press("3", "enter")  # wrong number: refused
        assert app.screen is modal
        await pilot.press("backspace", "2", "enter")
        await app.workers.wait_for_complete()
        assert sorted(t for t, _ in venues["x3algo"].executed) == ["a1", "a2"]
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "status") == "STOPPED")


async def test_close_positions_switch_is_off_by_default_and_sent_when_chosen(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "strategy" and loaded(app, 2))
        await pilot.press("P")
        modal = app.screen
        assert isinstance(modal, ConfirmScreen)
        switch = modal.switch_for("close_positions")
        note = modal.query_one(f"#note-{(switch.id or '').removeprefix('option-')}")
        assert switch.value is False
        assert "not chosen" in str(note.render())
        await pilot.click(f"#{switch.id}")
        assert switch.value is True
        assert "CHOSEN" in str(note.render())
        await pilot.press("y")
        await app.workers.wait_for_complete()
        [(target, action)] = venues["pipai"].executed
        assert target == "s1"
        assert action.options == {"close_positions": True}


async def test_failure_says_what_failed_and_what_to_do(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable")
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "algorithm" and loaded(app, 3))
        await pilot.press("X", "y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: "FAILED" in log_text(app))
        text = log_text(app)
        assert "x3algo/btc-grid" in text and "HTTP 503: upstream unavailable" in text
        assert "retry" in text
        assert app.last_report is not None and app.last_report.retry_plan() is not None
        titles = [c.title for c in app.palette_commands()]
        assert "Retry failed targets of the last plan" in titles
        outcomes = [e.outcome for e in journal(app) if e.kind == "outcome"]
        assert outcomes == ["failed"]


async def test_a_second_press_while_a_plan_runs_opens_nothing(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    gate = asyncio.Event()
    venues["55tech"].hold = gate
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, 3))
        await pilot.press("P", "y")
        await wait_for(pilot, lambda: session.dispatcher.busy, "dispatch running")
        await pilot.press("X")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("q")  # quitting mid-plan asks first
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")
        gate.set()
        await app.workers.wait_for_complete()
        assert len(venues["55tech"].executed) == 1


async def test_open_modal_keeps_its_plan_while_data_changes(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, 3))
        await pilot.press("P")
        modal = app.screen
        assert isinstance(modal, ConfirmScreen)
        before = modal.plan
        venues["55tech"].targets.pop("acme")
        venues["55tech"].poke()
        await wait_for(pilot, lambda: session.store.get("55tech", "acme") is None)
        assert modal.plan is before and modal.plan.items[0].target_id == "acme"
        await pilot.press("escape")


async def test_results_written_after_a_tick_mid_plan_still_reach_the_log(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """A redraw tick between an outcome and its re-read must not lose the re-read.

    The dispatcher appends results to the list the app gave it; the tick once swapped
    that list for a new one, so everything a plan reported after the first tick of its
    run vanished from the log.
    """
    gate = asyncio.Event()
    venue = venues["55tech"]
    read = venue.read_target

    async def gated_read(target_id: str):  # type: ignore[no-untyped-def]
        await gate.wait()
        return await read(target_id)

    venue.read_target = gated_read  # type: ignore[method-assign]
    app = ConsoleApp(session, session.control, clock=session.clock, start_feeds=False)
    async with app.run_test(size=SIZE) as pilot:
        app.state.store.snapshot("55tech", venue.targets.values())
        await wait_for(pilot, lambda: loaded(app, 3), "engines")
        await pilot.press("P", "y")
        # the redraw tick writes the outcome while the re-read waits at the gate
        await wait_for(pilot, lambda: "APPLIED" in log_text(app), "the outcome, before its re-read")
        assert "VERIFIED" not in log_text(app)
        gate.set()
        await wait_for(pilot, lambda: app.last_report is not None, "the report")
        await wait_for(pilot, lambda: "VERIFIED" in log_text(app), "the re-read in the log")


async def test_a_single_action_is_refused_while_the_journal_cannot_be_written(
    tmp_path: Path,
    clock: FakeClock,
    venues: dict[str, FakeVenue],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "journal.sqlite3").write_bytes(b"not a database\n" * 100)
    session = fake_session(tmp_path, clock, venues)
    assert session.journal.failed
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, 3), "engines")
        await pilot.press("P")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.pause()
        said = " ".join(str(n.message) for n in app._notifications)
        assert "Nothing was opened" in said and "journal" in said.lower()
        assert all(not v.executed for v in venues.values())
