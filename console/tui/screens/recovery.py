"""Calls cut short: shown at start as *interrupted — needs verification*, verified on request.

When the console died mid-way through a plan (a kill most of all), the journal holds
intents without outcomes: each call may or may not have reached its venue. The next
start lists them and offers to verify: every target is re-read and what it is now is
journaled, which closes the intent. A venue that cannot be read leaves its intents open,
to verify later (the audit screen, ``e``, offers it again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from console.core.journal_rows import Entry, iso_ms
from console.core.model import State
from console.core.recovery import Verified
from console.core.scrub import printable
from console.tui.format import Tones, one_line, state_word
from console.tui.kill.kill_modal import CSS
from console.tui.theme_follow import following_theme

LISTED = 50
Verifier = Callable[[list[Entry]], Awaitable[list[Verified]]]


def entry_line(entry: Entry) -> str:
    return printable(
        f"{iso_ms(entry.ts_ms)}  {entry.action.upper()} {entry.venue}/{entry.target_name}"
        f" ({entry.target_id}) by {entry.operator}@{entry.host}"
    )


def pending_text(entries: Sequence[Entry]) -> Text:
    text = Text()
    for entry in entries[:LISTED]:
        text.append(("\n" if text.plain else "") + entry_line(entry))
    if len(entries) > LISTED:
        text.append(f"\n… and {len(entries) - LISTED} more (audit screen: u, then i)")
    return text


def verified_text(results: Sequence[Verified], tones: Tones) -> Text:
    """Per target what the re-read found, problems first, then one summary line."""
    ordered = sorted(results, key=lambda v: (v.as_asked, v.state is not State.UNKNOWN))
    text = Text()
    for v in ordered[:LISTED]:
        e = v.entry
        text.append(("\n" if text.plain else "") + printable(f"{e.venue}/{e.target_name}: "))
        if v.state is State.UNKNOWN:
            text.append(" UNKNOWN ", tones.danger)
            text.append(f" {one_line(v.note, 120)} — still open, verify again later")
        elif v.as_asked:
            text.append(f"{state_word(v.state)} — as asked ({e.action})", tones.ok)
        else:
            text.append(f" {state_word(v.state)} — NOT as asked ({e.action}) ", tones.danger)
            text.append(" the call did not land: act on it now")
    ok = sum(1 for v in results if v.as_asked)
    unknown = sum(1 for v in results if v.state is State.UNKNOWN)
    text.append(
        f"\n\n{ok} as asked · {len(results) - ok - unknown} NOT as asked · "
        f"{unknown} could not be read (still open)",
        "bold",
    )
    return text


class InterruptedScreen(ModalScreen[None]):
    CSS_PATH: ClassVar[str] = str(CSS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "later", "Later", id="interrupted.later"),
        Binding("v", "verify", "Verify now", id="interrupted.verify"),
    ]
    AUTO_FOCUS = "#verify-now"

    def __init__(self, entries: list[Entry], verifier: Verifier) -> None:
        super().__init__(classes="interrupted")
        self.entries = entries
        self.verifier = verifier
        self.results: list[Verified] | None = None
        self.tones = Tones.monochrome()

    def compose(self) -> ComposeResult:
        n = len(self.entries)
        with Vertical(id="interrupted-dialog"):
            yield Static(Text(" INTERRUPTED — needs verification ", "reverse bold"))
            yield Static(
                f"{n} call{'s were' if n != 1 else ' was'} cut short: the console stopped "
                "before the venue answered. Each may or may not have happened. Verifying "
                "re-reads every target and journals what it is now.",
                id="interrupted-why",
            )
            with VerticalScroll(id="interrupted-body"):
                yield Static(pending_text(self.entries), id="interrupted-list")
            with Horizontal(id="interrupted-buttons"):
                yield Button("Verify now", id="verify-now", variant="warning")
                yield Button("Later", id="later", variant="primary")

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        if self.results is not None:
            self.query_one("#interrupted-list", Static).update(verified_text(self.results, tones))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "verify-now":
            self.action_verify()
        else:
            self.action_later()

    def action_verify(self) -> None:
        if self.results is not None:
            return
        button = self.query_one("#verify-now", Button)
        button.disabled = True
        button.label = "Verifying…"
        self.run_worker(self._verify(), group="kill-verify", exclusive=True, exit_on_error=False)

    async def _verify(self) -> None:
        results = await self.verifier(self.entries)
        self.results = results
        self.query_one("#interrupted-list", Static).update(verified_text(results, self.tones))
        self.query_one("#verify-now", Button).label = "Verified"
        later = self.query_one("#later", Button)
        later.label = "Close"
        later.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "kill-verify" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#interrupted-list", Static).update(
                Text(
                    f"Verification stopped with an internal error ({type(error).__name__}: {error}); "
                    "nothing was closed. Try again, or `trading-console audit --interrupted`."
                )
            )
            button = self.query_one("#verify-now", Button)
            button.disabled = False
            button.label = "Verify now"

    def action_later(self) -> None:
        self.dismiss(None)
