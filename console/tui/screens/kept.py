"""A modal installed once and pushed again and again, without a restyle per push.

Textual re-applies the whole stylesheet to a screen's every node each time it is pushed
(``ScreenResume(refresh_styles=True)``): on the confirmation modal that was a third of
the key → modal time. A screen kept installed is already styled, and its nodes restyle
themselves when their own classes or focus change; what it can miss while off the stack
is a stylesheet refresh (a theme change), which Textual counts. So the restyle runs on
the first push and after every such refresh, and is skipped otherwise.
"""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.screen import ModalScreen

from console.tui.textual_compat.styles import stylesheet_generation

ResultT = TypeVar("ResultT")


class KeptModal(ModalScreen[ResultT]):
    """A modal screen meant for ``App.install_screen``: restyled only when CSS changed."""

    _styled_under: int | None = None

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual calls this before Screen's own handler, with the same event.
        generation = stylesheet_generation(self.app)
        if event.refresh_styles and self._styled_under == generation:
            event.refresh_styles = False
        self._styled_under = generation
