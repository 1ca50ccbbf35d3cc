"""The confirmation modal as a new user meets it (issue 12, items 6–8): focus goes where
the hint says, the Confirm button's label is always whole, key numbers are on it."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual import events
from textual.widgets import Button, Input, Log, Static

from console.core.model import Action, ActionKind, State, Target, TargetKind
from console.core.plan import Plan, PlanItem
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.planning import PlanDraft, target_facts
from console.tui.screens.confirm import LIST_LIMIT, ConfirmScreen, confirm_label
from tests.tui.fakes import FakeVenue
from tests.tui.pilot_support import burst, show_row, wait_for

SIZE = (80, 24)


def loaded(app: ConsoleApp, kind: str, rows: int) -> bool:
    panel = app.active_panel
    return panel.KIND.value == kind and panel.table.row_count == rows


def modal(app: ConsoleApp) -> ConfirmScreen:
    screen = app.screen
    assert isinstance(screen, ConfirmScreen), screen
    return screen


def shown(screen: ConfirmScreen, selector: str) -> str:
    """What a Static or Label of the modal shows, on one line."""
    return " ".join(str(screen.query_one(selector, Static).render()).split())


def targets_text(screen: ConfirmScreen) -> str:
    return "\n".join(screen.query_one("#plan-targets", Log).lines)


# ----- item 6: focus goes where the hint says ------------------------------------------
async def test_several_targets_focus_the_count_box_so_the_typed_count_confirms(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: loaded(app, "algorithm", 3), "algorithms")
        await pilot.press("v", "X")
        screen = modal(app)
        assert screen.focused is screen.query_one("#count", Input)
        assert "type 2 then Enter" in shown(screen, "#dialog-hint")
        assert "count box has focus" in shown(screen, "#dialog-hint")
        await pilot.press("3", "enter")  # a wrong count: refused, in words
        assert app.screen is screen
        assert "3 is not 2: nothing was sent" in shown(screen, "#count-prompt")
        assert venues["x3algo"].executed == []
        await pilot.press("backspace", "2", "enter")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: len(venues["x3algo"].executed) == 2, "both stops")
        assert sorted(t for t, _ in venues["x3algo"].executed) == ["a1", "a2"]


async def test_escape_and_n_cancel_from_the_count_box_and_y_does_nothing_there(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: loaded(app, "algorithm", 3), "algorithms")
        await pilot.press("v")
        for cancel in ("escape", "n", "y"):
            await pilot.press("X")
            screen = modal(app)
            assert screen.focused is screen.query_one("#count", Input)
            await pilot.press(cancel)
            if cancel == "y":  # y confirms one target only: here it does nothing
                assert app.screen is screen
                assert screen.query_one("#count", Input).value == ""
                await pilot.press("escape")
            assert not isinstance(app.screen, ConfirmScreen), cancel
        await pilot.pause()
        assert venues["x3algo"].executed == []


async def test_a_count_typed_before_the_confirmation_was_shown_is_dropped(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """``X 2 Enter`` in one burst: the plan was not on screen when 2 and Enter were read,
    so neither reaches the count box (console/tui/focus.py's typed-ahead rule)."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: loaded(app, "algorithm", 3), "algorithms")
        await pilot.press("v")
        burst(app, ("X", "X"), ("2", "2"), ("enter", "\r"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the modal")
        await pilot.pause()
        await app.workers.wait_for_complete()
        screen = modal(app)
        assert screen.query_one("#count", Input).value == ""
        assert venues["x3algo"].executed == []
        await pilot.press("2", "enter")  # once it is on screen, the count confirms
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: len(venues["x3algo"].executed) == 2, "both stops")


async def test_keys_read_before_the_count_box_was_shown_never_reach_it(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """Keys the terminal read before the plan was on screen but handled after it (the
    count box already focused) are dropped by the box itself: none is typed, Enter
    submits nothing. A paste read then is dropped too."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: loaded(app, "algorithm", 3), "algorithms")
        early: list[events.Event] = [
            events.Key("2", "2"),
            events.Paste("2"),
            events.Key("enter", "\r"),
        ]
        await pilot.press("v", "X")
        screen = modal(app)
        count = screen.query_one("#count", Input)
        assert screen.focused is count
        for event in early:
            event.set_sender(app)
            count.post_message(event)
        await pilot.pause()
        assert (app.screen, count.value) == (screen, "")
        assert "is not" not in shown(screen, "#count-prompt")
        await pilot.press("2", "enter")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: len(venues["x3algo"].executed) == 2, "both stops")


# ----- item 7: the Confirm button's label is whole -------------------------------------
def label_fits(screen: ConfirmScreen) -> tuple[str, bool]:
    """The Confirm button's label, and whether the button shows all of it on screen."""
    button = screen.query_one("#confirm", Button)
    label = str(button.label)
    inside = screen.query_one("#dialog").region.contains_region(button.region)
    return label, inside and button.size.width >= cell_len(label) + 2


async def test_confirm_button_grows_to_a_longer_label_than_the_last_plans(
    session: Session,
) -> None:
    """The one installed modal kept the width of its first label ("Pause 1 strategy")
    and cut the next, longer ones ("Stop 1 sniper targ")."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        wanted = {
            "3": ("strategy", 2, "P", "Pause 1 strategy"),
            "5": ("sniper", 3, "X", "Stop 1 sniper target"),
            "4": ("expiration", 2, "P", "Pause 1 expiration"),
            "1": ("engine", 3, "P", "Pause 1 client engine"),
        }
        for number, (kind, rows, key, label) in wanted.items():
            await pilot.press(number)
            await wait_for(pilot, lambda: loaded(app, kind, rows), kind)  # noqa: B023
            await pilot.press(key)
            await pilot.pause()
            assert label_fits(modal(app)) == (label, True)
            await pilot.press("escape")


def big_draft(kind: TargetKind, action: ActionKind, count: int) -> PlanDraft:
    items = tuple(
        PlanItem("venue", f"t{n}", f"t{n}", kind, Action(action), State.RUNNING)
        for n in range(count)
    )
    plan = Plan(items, f"{action.value} {count}", "selection")
    return PlanDraft(plan, action, (), False, (frozenset(),) * count)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (200, 60)])
async def test_the_longest_label_of_every_panel_fits(
    session: Session, size: tuple[int, int]
) -> None:
    """Resume is the longest verb; 10,000 targets is more than any panel holds."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=size) as pilot:
        for kind in TargetKind:
            app.controls.show_draft(big_draft(kind, ActionKind.RESUME, 10_000), ActionKind.RESUME)
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the modal")
            await pilot.pause()
            label, fits = label_fits(modal(app))
            assert fits, label
            assert label.startswith("Resume 10000 ") and len(label.split()) >= 3, label
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "closed")


async def test_a_long_plan_is_listed_with_one_refresh_not_one_a_target(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The modal of a large selection listed its targets through ``Log.write``, which
    refreshes every line it splits off: 5,000 refreshes, 86–136 ms of the loop before the
    modal showed (measured beside Log.write_lines: 2–3 ms)."""
    refreshed: list[int] = []
    refresh_lines = Log.refresh_lines

    def counted(log: Log, y_start: int, line_count: int = 1) -> None:
        refreshed.append(line_count)
        refresh_lines(log, y_start, line_count)

    monkeypatch.setattr(Log, "refresh_lines", counted)
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        draft = big_draft(TargetKind.ALGORITHM, ActionKind.STOP, LIST_LIMIT + 1_000)
        app.controls.show_draft(draft, ActionKind.STOP)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the modal")
        await pilot.pause()
        lines = targets_text(modal(app)).splitlines()
        assert len(lines) == LIST_LIMIT + 1
        assert lines[0] == "t0  [venue]  RUNNING  id t0"
        assert lines[-1] == "… and 1000 more (all are in the journal)"
        assert len(refreshed) <= 2, f"{len(refreshed)} refreshes for {len(lines)} lines"


def test_a_label_is_shortened_only_where_the_dialog_cannot_hold_it() -> None:
    assert confirm_label("Stop", 12, "sniper", 54) == "Stop 12 sniper targets"
    assert confirm_label("Stop", 12, "sniper", 21) == "Stop 12"
    assert confirm_label("Stop", 12, "sniper", 3) == "Stop"


# ----- item 8: key numbers ---------------------------------------------------------------
async def test_an_expiration_pause_says_how_many_instruments_by_asset_call_and_put(
    session: Session,
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: loaded(app, "expiration", 2), "expirations")
        await pilot.press("P")
        summary = shown(modal(app), "#plan-summary")
        assert "40 instruments (20 calls, 20 puts): BTC 10C/10P · SOL 10C/10P" in summary
        await pilot.press("escape", "v", "P")  # both: the totals, and each one's split
        screen = modal(app)
        assert "In all: 80 instruments (40 calls, 40 puts)" in shown(screen, "#plan-summary")
        lines = targets_text(screen).splitlines()
        assert len(lines) == 4  # each target, then its split on a line of its own
        assert lines[0].startswith("exp 1767254400  [joyride]")
        assert lines[1] == "    40 instruments (20 calls, 20 puts): BTC 10C/10P · SOL 10C/10P"


async def test_starting_a_stopped_client_says_why_it_was_stopped(session: Session) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app, "engine", 3), "engines")
        await show_row(pilot, app, "crux")
        await pilot.press("S")
        summary = shown(modal(app), "#plan-summary")
        assert "why STOPPED: end of day (since 2025-12-31T22:00:00Z)" in summary
        await pilot.press("escape")
        await show_row(pilot, app, "bolt")
        await pilot.press("R")
        summary = shown(modal(app), "#plan-summary")
        assert "why PAUSED: risk check [desk] (since 2025-12-31T23:50:00Z)" in summary


def test_a_reason_is_shown_only_for_the_state_the_plan_saw() -> None:
    """A stop reason never explains a pause (issue 12, item 11), and a target that
    documents none of these attributes gets no facts at all."""
    attrs = {"pause_reason": "risk", "paused_at": "T1", "stop_reason": "eod", "stopped_at": "T2"}
    target = Target("v", TargetKind.ENGINE, "e", "e", State.PAUSED, "paused", attrs)
    assert target_facts(target, State.PAUSED) == ("why PAUSED: risk (since T1)",)
    assert target_facts(target, State.STOPPED) == ("why STOPPED: eod (since T2)",)
    assert target_facts(target, State.UNKNOWN) == ()
    bare = Target("v", TargetKind.ALGORITHM, "a", "a", State.STOPPED, "stopped", {"trades": 4})
    assert target_facts(bare, State.STOPPED) == ()
    odd = Target("v", TargetKind.EXPIRATION, "x", "x", State.UNKNOWN, "?", {"instruments": True})
    assert target_facts(odd, State.UNKNOWN) == ()  # a flag is not a count
