"""The kill modal and report against in-memory venues: what is sent, when, and never twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, RadioButton, Static, Switch

from console.core.model import Outcome, OutcomeKind, State
from console.core.session import Session
from console.tui.kill.kill_modal import KillScreen
from console.tui.kill.progress import KillProgressScreen
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.help import HelpScreen
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import journal, log_text, wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    fake_kill_session,
    kill_done,
    make_app,
    open_kill,
    shown,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)

SIZE = (120, 40)


def sent(venues: dict[str, FakeVenue]) -> list[tuple[str, str]]:
    return [(name, tid) for name, v in venues.items() for tid, _ in v.executed]


def fed(app: Any) -> bool:
    return all(app.state.store.targets(v) for v in app.state.venues)


async def started(pilot: Any, app: Any) -> None:
    await wait_for(pilot, lambda: fed(app), "every venue's targets")


async def all_engines_selected(pilot: Any, app: Any) -> None:
    """The engines panel loaded and every row selected (whatever the cursor is on)."""
    panel = app.active_panel
    await wait_for(pilot, lambda: panel.table.row_count == 3 and panel.table.has_focus)
    await pilot.press("v")
    await wait_for(pilot, lambda: len(panel.selected) == 3, "every engine selected")


async def test_a_wrong_label_escape_and_enter_on_cancel_send_nothing(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        modal = await open_kill(pilot, app)
        assert modal.focused is modal.query_one("#kill-cancel", Button)
        await pilot.press(*"demo", "enter")  # the label is DEMO: case matters
        assert isinstance(app.screen, KillScreen)
        assert modal.query_one("#kill-confirm", Button).disabled
        await pilot.press("escape")
        assert not isinstance(app.screen, KillScreen)
        await open_kill(pilot, app)
        await pilot.press("enter")  # Cancel has the focus
        assert not isinstance(app.screen, KillScreen)
        await pilot.pause()
        assert sent(venues) == [] and journal(app) == []
        assert "Emergency stop cancelled: nothing was sent." in log_text(app)


async def test_typing_the_label_enables_confirm_and_the_plan_stays_frozen(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        modal = await open_kill(pilot, app)
        frozen = modal.kp
        await pilot.press(*"DEM")
        assert modal.query_one("#kill-confirm", Button).disabled
        await pilot.press("O")
        assert not modal.query_one("#kill-confirm", Button).disabled
        target = venues["x3algo"].targets["a3"]
        venues["x3algo"].targets["a3"] = replace(target, state=State.RUNNING, raw_status="active")
        venues["x3algo"].poke()  # a live update while the modal is open
        await wait_for(pilot, lambda: app.state.store.get("x3algo", "a3").state is State.RUNNING)
        assert modal.kp is frozen and "a3" not in {i.target_id for i in frozen.plan.items}
        await pilot.press("enter")
        await kill_done(pilot, app)
        assert sorted(sent(venues)) == sorted((i.venue, i.target_id) for i in frozen.plan.items)


async def test_a_venue_whose_first_list_comes_while_the_modal_is_open_joins_the_plan(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """K right after the start: PipAI has not listed yet, so the plan names it
    UNREACHABLE; its list comes while the label is typed, and the plan shown and sent
    holds its strategies (only a venue's first list re-freezes an open plan)."""
    venues["pipai"].down = "connecting"
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        others = [v for v in app.state.venues if v != "pipai"]
        await wait_for(pilot, lambda: all(app.state.store.targets(v) for v in others))
        modal = await open_kill(pilot, app)
        assert "pipai" in modal.kp.unreachable
        await pilot.press(*"DEM")
        venues["pipai"].down = None
        venues["pipai"].poke()  # its first list
        await wait_for(pilot, lambda: "pipai" not in modal.kp.unreachable, "pipai in the plan")
        planned = {(i.venue, i.target_id) for i in modal.kp.plan.items}
        assert any(venue == "pipai" for venue, _ in planned)
        assert "strateg" in shown(modal.query_one("#kill-counts", Static)).lower()
        await pilot.press("O", "enter")
        await kill_done(pilot, app)
        assert set(sent(venues)) == planned


async def test_a_venue_the_console_cannot_plan_is_named_and_the_others_are_halted(
    session: Session, venues: dict[str, FakeVenue], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in one venue's module while planning: the modal names it NOT PLANNED,
    the others are sent, and the report keeps it from ALL HALTED."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(venues["pipai"], "kill_action", broken)
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        modal = await open_kill(pilot, app)
        assert "NOT PLANNED" in shown(modal.query_one("#kill-counts", Static))
        planned = {(i.venue, i.target_id) for i in modal.kp.plan.items}
        assert planned and all(venue != "pipai" for venue, _ in planned)
        await pilot.press(*"DEMO", "enter")
        await kill_done(pilot, app)
        assert set(sent(venues)) == planned
        notes = shown(app.screen.query_one("#kill-notes", Static))
        assert "NOT PLANNED" in notes and "never answered" not in notes
        assert "NEEDS ATTENTION" in shown(app.screen.query_one("#kill-summary", Static))


async def test_a_label_with_a_capital_K_is_typed_not_taken_for_a_second_kill(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    session = fake_kill_session(tmp_path, clock, venues, label="KILLTEST")
    app = make_app(session, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        modal = await open_kill(pilot, app)
        await pilot.press(*"KILLTEST")
        assert modal.query_one("#kill-label", Input).value == "KILLTEST"
        await pilot.press("enter")
        await kill_done(pilot, app)
        assert app.kill.run.plan_halted


async def test_scope_and_switch_refreeze_the_plan_and_show_it_again(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("3")  # PipAI strategies on screen
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 2)
        modal = await open_kill(pilot, app)
        assert [c.key for c in modal.choices] == ["all", "venue"]
        modal.query(RadioButton)[1].value = True
        await wait_for(pilot, lambda: modal.choice.key == "venue")
        assert {i.venue for i in modal.kp.plan.items} == {"pipai"}
        counts = shown(modal.query_one("#kill-counts", Static))
        assert "PipAI" in counts and "x3algo" not in counts
        assert [i.action.option("close_positions") for i in modal.kp.plan.items] == [False]
        modal.query_one("#kill-close", Switch).value = True
        await wait_for(pilot, lambda: modal.clear_leaves_behind)
        assert [i.action.option("close_positions") for i in modal.kp.plan.items] == [True]
        assert "closed at market" in shown(modal.query_one("#kill-leaves", Static))
        await pilot.press(*"DEMO", "enter")
        await kill_done(pilot, app)
        [(target, action)] = venues["pipai"].executed
        assert target == "s1" and action.option("close_positions") is True
        assert sent(venues) == [("pipai", "s1")]


async def test_the_selection_is_a_scope_of_its_own(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await pilot.press("v")  # select every row shown
        modal = await open_kill(pilot, app)
        assert [c.key for c in modal.choices] == ["all", "venue", "selection"]
        modal.query(RadioButton)[2].value = True
        await wait_for(pilot, lambda: modal.choice.key == "selection")
        assert {(i.venue, i.target_id) for i in modal.kp.plan.items} == {
            ("x3algo", "a1"),
            ("x3algo", "a2"),
        }  # a3 is stopped already
        await pilot.press(*"DEMO", "enter")
        await kill_done(pilot, app)
        assert sorted(sent(venues)) == [("x3algo", "a1"), ("x3algo", "a2")]


async def test_read_only_refuses_K_until_armed(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    session = fake_kill_session(tmp_path, clock, venues, readonly=True)
    app = make_app(session, clock=clock)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("K")
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen) and rings == [1]
        await pilot.press("a")
        await open_kill(pilot, app)


async def test_K_works_from_the_help_screen_and_is_a_letter_in_a_filter_box(
    session: Session,
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await open_kill(pilot, app)
        assert len(app.screen_stack) == 2  # the help screen was closed, not hidden
        await pilot.press("escape")
        await pilot.press("slash", "K")
        await pilot.pause()
        assert not isinstance(app.screen, KillScreen)
        assert app.active_panel.query_one("#filter", Input).value == "K"


async def test_K_over_an_open_confirmation_cancels_it_first(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await all_engines_selected(pilot, app)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await open_kill(pilot, app)
        assert len(app.screen_stack) == 2
        await pilot.press("escape")
        assert sent(venues) == [] and "Cancelled: nothing was sent." in log_text(app)


async def test_r_then_y_retries_only_what_failed_and_n_sends_nothing(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable")
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_kill(pilot, app)
        progress = await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        first = sorted(sent(venues))
        assert not app.kill.run.plan_halted
        await pilot.press("r")
        assert progress.pending is not None and len(progress.pending) == 1
        await pilot.press("n")
        assert progress.pending is None and sorted(sent(venues)) == first
        del venues["x3algo"].fail["a1"]
        await pilot.press("r", "y")
        await wait_for(pilot, lambda: len(app.kill.run.reports) == 2 and not app.kill.active)
        assert sorted(sent(venues)) == sorted([*first, ("x3algo", "a1")])
        assert app.kill.run.plan_halted, app.kill.run.summary()
        await wait_for(
            pilot, lambda: " HALTED — " in shown(progress.query_one("#kill-summary", Static))
        )
        assert len({e.batch_id for e in journal(app)}) == 1  # the retry joins the kill's batch


async def test_auto_restop_halts_a_revived_target_again_and_journals_it(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    session = fake_kill_session(tmp_path, clock, venues, auto_restop=True)
    app = make_app(session, clock=clock)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        target = venues["finradar"].targets["n1"]
        venues["finradar"].targets["n1"] = replace(target, state=State.RUNNING, raw_status="ACTIVE")
        venues["finradar"].poke()  # someone restarted it behind the console's back
        await wait_for(pilot, lambda: ("finradar", "n1") in app.kill.run.restopped, "re-stop")
        assert rings == [1]
        assert app.kill.run.restopped[("finradar", "n1")].verified
        assert venues["finradar"].targets["n1"].state is State.STOPPED
        stops = [e for e in journal(app) if e.target_id == "n1" and e.kind == "intent"]
        assert len(stops) == 2


async def test_a_kill_confirmed_while_another_plan_runs_waits_for_it_then_goes(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    gate = asyncio.Event()
    venues["55tech"].hold = gate
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await all_engines_selected(pilot, app)
        await pilot.press("P")  # pause acme and crux (bolt is paused): held by the venue
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        app.screen.query_one("#count", Input).focus()
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: session.dispatcher.busy, "the pause to be under way")
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await wait_for(pilot, lambda: bool(app.kill.run.waiting_for), "the kill to wait")
        assert len(sent(venues)) == 2
        gate.set()
        await kill_done(pilot, app)
        assert app.kill.run.plan_halted, app.kill.run.summary()
        intents = [e for e in journal(app) if e.kind == "intent"]
        assert len(intents) == 2 + len(app.kill.run.kill.plan)


async def test_closing_the_report_of_a_running_kill_says_how_to_bring_it_back(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """Esc on a kill still running: the panels come back, and the log (and a toast) say
    the kill goes on and which key shows it — the header's RUNNING n/N alone did not. The
    line above the log follows the kill (it said "no action yet this session" above the
    kill's own summary)."""
    gate = asyncio.Event()
    venues["55tech"].hold = gate
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await wait_for(pilot, lambda: app.kill.active, "the kill under way")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, KillProgressScreen), "closed")
        assert "The emergency stop goes on: w shows its progress and report." in log_text(app)
        line = app.screen_stack[0].query_one("#progress")
        assert str(line.render()).startswith(" RUNNING  EMERGENCY STOP")
        gate.set()
        await kill_done(pilot, app)
        assert "w shows the report)" in log_text(app)
        await wait_for(pilot, lambda: str(line.render()).startswith(" DONE  EMERGENCY STOP: "))
        assert "no action yet" not in str(line.render())  # (it stayed above the summary)
