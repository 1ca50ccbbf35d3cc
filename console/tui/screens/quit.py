"""Asked only when quitting would cut something short: a running plan, or the sticky watch."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.tui.format import fmt_duration


def watch_minutes(seconds: float) -> str:
    """``7 min`` (rounded up: a watch with 6m10s left still runs for 7 min), or ``40 s``."""
    if seconds < 60:
        return f"{max(1, int(seconds))} s"
    return f"{-(-int(seconds) // 60)} min"


class QuitScreen(ModalScreen[bool]):
    """True to quit anyway; opens on "Keep running".

    ``running`` names a plan still sending; ``watch_left_s`` is how long the sticky watch
    after an emergency stop still runs (None: it does not), over ``watched`` targets.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "stay", "Keep running", id="quit.no"),
    ]
    AUTO_FOCUS = "#stay"

    def __init__(
        self,
        running: str | None = None,
        *,
        watch_left_s: float | None = None,
        watched: int = 0,
    ) -> None:
        super().__init__(classes="quit")
        self.running = running
        self.watch_left_s = watch_left_s
        self.watched = watched

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            if self.running is not None:
                yield Static(f"A plan is still running: {self.running}", classes="quit-title")
                yield Static(
                    "Quitting now stops sending the rest. Calls already sent may still land; "
                    "the journal marks the unanswered ones as interrupted (check them with "
                    "`trading-console audit`)."
                )
            if self.watch_left_s is not None:
                left = watch_minutes(self.watch_left_s)
                yield Static(
                    f"The sticky watch still runs for {left}: quit anyway?",
                    classes="quit-title",
                    id="quit-watch",
                )
                noun = "target" if self.watched == 1 else "targets"
                yield Static(
                    f"It watches the {self.watched} {noun} the emergency stop halted and "
                    "flags any that comes back to RUNNING (bell, REVIVED in the report). "
                    f"Quitting ends it {fmt_duration(self.watch_left_s)} early: nothing will "
                    "catch a revival — check the venues, or keep the console open."
                )
            with Horizontal(id="quit-buttons"):
                yield Button("Keep running", id="stay", variant="primary")
                yield Button("Quit anyway", id="leave", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "leave")

    def action_stay(self) -> None:
        self.dismiss(False)
