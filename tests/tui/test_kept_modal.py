"""A kept modal is restyled on its first push and after a CSS refresh, not on every push."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.color import Color
from textual.dom import DOMNode
from textual.widgets import Static

from console.tui.screens.kept import KeptModal


class Dialog(KeptModal[None]):
    DEFAULT_CSS = "Dialog Static { background: $primary; }"

    def compose(self) -> ComposeResult:
        yield Static("dialog")


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.dialog = Dialog()
        self.restyled: list[DOMNode] = []

    def on_mount(self) -> None:
        self.install_screen(self.dialog, "dialog")

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        self.restyled.append(node)
        super().update_styles(node, animate)


async def test_pushed_again_it_is_not_restyled_until_the_theme_changes() -> None:
    app = Harness()
    async with app.run_test() as pilot:
        app.theme = "textual-dark"
        await pilot.pause()
        for _ in range(3):
            app.push_screen("dialog")
            await pilot.pause()
            app.pop_screen()
            await pilot.pause()
        assert app.restyled.count(app.dialog) == 1  # the first push only

        app.theme = "textual-light"  # while the dialog is off the stack
        await pilot.pause()
        app.push_screen("dialog")
        await pilot.pause()
        assert app.restyled.count(app.dialog) == 2
        primary = Color.parse(app.current_theme.primary)
        assert app.dialog.query_one(Static).styles.background == primary
