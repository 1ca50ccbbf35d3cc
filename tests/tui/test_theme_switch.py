"""A theme switched while the console runs restyles what was drawn in the old one.

Cell styles come from the theme's colours (:class:`~console.tui.format.Tones`), which
CSS does not reach; each screen and widget follows the switch
(``console/tui/theme_follow.py``). The screens with a picture are checked byte for
byte against a start in the new theme (``tests/test_screenshots.py``); this checks the
outcome log, whose lines are written once and kept.
"""

from __future__ import annotations

from rich.color import Color
from textual.widgets import RichLog

from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.format import Tones
from tests.tui.pilot_support import log_text, wait_for

SIZE = (120, 40)


def applied_colours(app: ConsoleApp) -> set[Color | None]:
    """The colours the log's APPLIED words are drawn in."""
    log = app.screen_stack[0].query_one("#outcome-log", RichLog)
    return {
        segment.style.color if segment.style else None
        for line in log.lines
        for segment in line
        if "APPLIED" in segment.text
    }


async def test_the_outcome_log_is_written_again_in_a_theme_switched_to(
    session: Session,
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock, theme="trading-dark")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("P", "y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: "APPLIED" in log_text(app), "the outcome in the log")
        dark = Tones.from_theme(app.theme_variables).ok.color
        assert applied_colours(app) == {dark}
        app.theme = "trading-light"

        def light_tones() -> bool:
            return Tones.from_theme(app.theme_variables).ok.color != dark

        await wait_for(pilot, light_tones, "the light theme's colours")
        light = Tones.from_theme(app.theme_variables).ok.color
        await wait_for(pilot, lambda: applied_colours(app) == {light}, "the log in light")
        assert "APPLIED" in log_text(app)  # the lines are still there, restyled
