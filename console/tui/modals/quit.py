"""Asked only when quitting would cut a running plan short."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class QuitScreen(ModalScreen[bool]):
    """True to quit anyway; opens on "Keep running"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "stay", "Keep running", id="quit.no"),
    ]
    AUTO_FOCUS = "#stay"

    def __init__(self, running: str) -> None:
        super().__init__(classes="quit")
        self.running = running

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Static(f"A plan is still running: {self.running}", classes="quit-title")
            yield Static(
                "Quitting now stops sending the rest. Calls already sent may still land; the "
                "journal marks the unanswered ones as interrupted (check them with "
                "`trading-console audit`)."
            )
            with Horizontal(id="quit-buttons"):
                yield Button("Keep running", id="stay", variant="primary")
                yield Button("Quit anyway", id="leave", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "leave")

    def action_stay(self) -> None:
        self.dismiss(False)
