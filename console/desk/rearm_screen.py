"""The review of a re-arm request on a desk console: who asks, what it starts, why.

Opened with ``A`` (:class:`~console.desk.desk_console.DeskConsoleApp`) while a request
waits. It shows the request in full (the hub runs exactly these items, as the
requester's, if approved) and takes this operator's decision: **Approve** (runs it) or
**Refuse**, with an optional reason journaled under this operator's name; Esc decides
nothing. On one's own request only **Withdraw** (a refusal) is offered: a re-arm needs
a second person. The dismissal is ``(approve, why)`` or None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from console.core.scrub import printable
from console.desk.rearm import RearmMsg

SHOWN = 30
"""Items listed one per line; the rest are counted."""
_CSS = """
RearmScreen {
    align: center middle;
}
#rearm-items {
    height: auto;
    max-height: 16;
}
"""


def describe(msg: RearmMsg) -> Text:
    """The request as the screen shows it: who, when, why, then each item."""
    when = datetime.fromtimestamp(msg.ts_ms / 1000, UTC).strftime("%H:%M:%S UTC")
    text = Text()
    text.append(printable(msg.requested_by), "bold")
    text.append(f" asks at {when} to re-arm {len(msg.items)} target(s) a kill halted\n")
    text.append("Why: ", "bold")
    text.append(printable(msg.why) if msg.why else "(no reason given)")
    text.append("\n")
    for item in msg.items[:SHOWN]:
        text.append(f"\n  {item.action.kind.value:<6} {printable(item.venue)} "
                    f"{printable(item.target_name)} ({printable(item.target_id)})")  # fmt: skip
    if len(msg.items) > SHOWN:
        text.append(f"\n  … and {len(msg.items) - SHOWN} more")
    return text


class RearmScreen(ModalScreen[tuple[bool, str] | None]):
    """Approve or refuse ``msg`` (``mine``: the requester is this operator)."""

    DEFAULT_CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Decide nothing", id="rearm.cancel"),
    ]
    AUTO_FOCUS = "#rearm-why"

    def __init__(self, msg: RearmMsg, *, mine: bool) -> None:
        super().__init__(classes="help")
        self.msg = msg
        self.mine = mine

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Text(f"Re-arm request {self.msg.id}", "bold"), id="help-title")
            with VerticalScroll(id="rearm-items"):
                yield Static(describe(self.msg), id="rearm-body")
            yield Static("Your reason (journaled with your name; optional):")
            yield Input(placeholder="reason", id="rearm-why")
            with Horizontal(id="dialog-buttons"):
                if self.mine:
                    yield Button("Withdraw", id="rearm-refuse", variant="warning")
                else:
                    yield Button("Refuse", id="rearm-refuse", variant="warning")
                    yield Button("Approve (runs it)", id="rearm-approve", variant="error")
            hint = ("A re-arm needs a second operator: you may only withdraw your own."
                    if self.mine else
                    "Approve runs these items now, journaled as the requester's with your "
                    "approval. Esc decides nothing.")  # fmt: skip
            yield Static(hint, id="help-hint")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        why = self.query_one("#rearm-why", Input).value.strip()
        self.dismiss((event.button.id == "rearm-approve", why))

    def action_cancel(self) -> None:
        self.dismiss(None)
