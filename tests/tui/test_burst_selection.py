"""Keys that arrive in one burst select the rows the operator pointed at (issue 12
re-walk): space toggles the row under the cursor *when it is pressed*, not the row the
cursor reached by the time a queued message was handled, and a control key after the
burst plans exactly those rows."""

from __future__ import annotations

from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from tests.tui.pilot_support import burst, wait_for

SIZE = (80, 24)


async def test_space_j_space_in_one_burst_selects_the_first_and_third_rows(
    session: Session,
) -> None:
    """As tmux's ``send-keys " j "`` delivers them (``pilot.press`` lets the app settle
    between keys, which hides the race: :func:`burst` does not)."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "algorithms")
        await pilot.press("g")
        panel = app.active_panel
        burst(app, ("space", " "), ("j", "j"), ("space", " "))
        await wait_for(pilot, lambda: len(panel.selected) == 2, "two rows selected")
        assert panel.selected == {"x3algo/a1", "x3algo/a3"}
        assert panel.table.cursor_key == "x3algo/a3"  # the last row: nowhere further to go


async def test_a_stop_typed_in_the_same_burst_plans_the_rows_just_selected(
    session: Session,
) -> None:
    """space j space X as a terminal delivers a fast typist's keys: the plan X freezes
    holds a1 and a3 (the selection as typed), never the cursor row alone or a2."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "algorithms")
        await pilot.press("g")
        burst(app, ("space", " "), ("j", "j"), ("space", " "), ("X", "X"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.draft is not None
        planned = {f"{i.venue}/{i.target_id}" for i in screen.draft.plan.items}
        assert planned <= {"x3algo/a1", "x3algo/a3"}
        assert "x3algo/a2" not in planned
        assert app.active_panel.selected == {"x3algo/a1", "x3algo/a3"}
