"""The row under the cursor: its detail screen (Enter) and its id to the clipboard (y).

Kept apart from the control keys because these only read: nothing here plans or sends.
A key typed right after a panel switch (``2`` then Enter in one burst) finds the row the
operator will see, because the panel is drawn first when its rows are waiting.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import App

from console.core.model import Target
from console.core.ports import StateSource
from console.tui.panels import TargetPanel
from console.tui.screens.target import TargetScreen


class RowController:
    """``panel`` gives the panel on screen; its cursor row is the one acted on."""

    def __init__(
        self,
        app: App[None],
        state: StateSource,
        *,
        clock: Callable[[], float],
        panel: Callable[[], TargetPanel],
    ) -> None:
        self.app = app
        self.state = state
        self.clock = clock
        self.panel = panel

    def details(self) -> None:
        """Enter: the detail screen of the row under the cursor."""
        panel = self.panel()
        target = self.cursor_target()
        if target is None:
            self.app.notify("No row under the cursor: nothing to show.", severity="warning")
            return

        def summary(shown: Target) -> Text:
            return panel.detail(shown, panel.context(shown, self.clock()))

        self.app.push_screen(
            TargetScreen(
                target,
                self.state.store,
                self.state.journal,
                clock=self.clock,
                summary=summary,
                copy_id=self.copy_target_id,
            )
        )

    def copy_id(self) -> None:
        """y: the id of the row under the cursor to the clipboard (OSC 52)."""
        target = self.cursor_target()
        if target is None:
            self.app.notify("No row under the cursor: nothing copied.", severity="warning")
            return
        self.copy_target_id(target)

    def cursor_target(self) -> Target | None:
        """The row under the cursor; a panel just switched to (``2`` then Enter typed in
        one burst) is drawn first, so the key finds the row the operator will see."""
        panel = self.panel()
        target = panel.cursor_target()
        if target is None and panel.rows.dirty:
            panel.flush(self.clock(), second_changed=True)
            target = panel.cursor_target()
        return target

    def copy_target_id(self, target: Target) -> None:
        self.app.copy_to_clipboard(target.id)
        self.app.notify(
            Text(f"{target.venue} id of {target.name}: {target.id}").markup,
            title="Copied to the clipboard",
            timeout=4,
        )
