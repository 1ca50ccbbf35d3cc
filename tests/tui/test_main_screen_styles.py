"""The main screen is styled once at start-up and not again each time a modal closes;
a theme changed while a modal covers it still reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color
from textual.dom import DOMNode

from console.tui.app import ConsoleApp
from console.tui.screens.main import MainScreen
from tests.tui.fakes import FakeClock, fake_session, fake_venues


def make_app(tmp_path: Path) -> tuple[ConsoleApp, list[tuple[DOMNode, bool]]]:
    """The console on fake venues, and the nodes it restyles (each with whether it had
    children then: a restyle reaches the whole subtree)."""
    clock = FakeClock()
    session = fake_session(tmp_path, clock, fake_venues())
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    restyled: list[tuple[DOMNode, bool]] = []
    update_styles = app.update_styles

    def counting(node: DOMNode, animate: bool = True) -> None:
        restyled.append((node, bool(node.children)))
        update_styles(node, animate)

    app.update_styles = counting  # type: ignore[method-assign]
    return app, restyled


async def test_the_main_screen_is_styled_once_and_not_after_each_modal(tmp_path: Path) -> None:
    app, restyled = make_app(tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        assert main.has_class("-wide") and main.has_class("-high")
        # Once, in compose, for the breakpoint classes: before any child existed.
        assert restyled.count((main, False)) == 1
        assert restyled.count((main, True)) == 0
        for _ in range(3):
            await pilot.press("question_mark")  # the help screen
            await pilot.pause()
            assert app.screen is not main
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is main
        assert restyled.count((main, True)) == 0


@pytest.mark.slow
async def test_a_theme_changed_under_a_modal_reaches_the_main_screen(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        main = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is not main
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main
        background = Color.parse(app.current_theme.background or "black")
        assert main.styles.background == background
