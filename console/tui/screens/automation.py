"""The automation screen (``m``) and the skip question (``N``).

:class:`AutomationScreen` draws what the runner's ``status()`` holds — the same picture
``trading-console automation`` prints: which runner acts, each schedule with its next
run (and a skip, with who and why) and its last run and report, each guard armed or
FIRED with the values that fired it, the dead-man timer, and the last runs. It redraws
every second. Danger is never colour alone: FIRED, NEEDS ATTENTION and STANDBY are words
in reverse video.

:class:`SkipScreen` asks which schedule's next run to skip and why; nothing is skipped
without a reason, and Escape skips nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.core.journal_rows import iso_ms
from console.core.scrub import printable

DANGER = "bold reverse"
"""Words that need attention: reverse video, whatever the theme's colours."""


def _span(seconds: float | None) -> str:
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _p(value: object) -> str:
    return printable(str(value))


def status_view(status: dict[str, Any]) -> Group:
    """The screen's body from ``runner.status()``."""
    parts: list[Any] = []
    head = Text(f"profile {_p(status['profile'])} at {status['now']} · ")
    if status["active"]:
        head.append("this console acts (it holds the runner lock)", "bold")
    else:
        holder = status.get("standby_because") or "another runner"
        head.append(" STANDBY ", DANGER)
        head.append(f" {_p(holder)} acts; this console does not act until it stops")
    parts += [head, Text()]

    parts.append(Text("Schedules", "bold underline"))
    if not status["schedules"]:
        parts.append(Text("none configured", "dim"))
    table = Table.grid(padding=(0, 2))
    for s in status["schedules"]:
        due = Text("no next run", "dim") if s["next_run"] is None else Text(
            f"next {s['next_run']} (in {_span(s['next_run_in_s'])})")  # fmt: skip
        if s["skip"]:
            due.append(" SKIPPED ", DANGER)
            due.append(f" by {_p(s['skip']['who'])}: {_p(s['skip']['why'])}")
        last = s["last_run"]
        if last is None:
            report = Text("last run: none this session", "dim")
        else:
            report = Text(f"last run {last['time']}: ")
            if not last["ok"]:
                report.append(" NEEDS ATTENTION ", DANGER)
                report.append(" ")
            report.append(_p(last["summary"]))
        what = f"{s['action']} {_p(s['scope'])} — {_p(s['when'])}"
        table.add_row(Text(_p(s["name"]), "bold"), Text(what))
        table.add_row("", due)
        table.add_row("", report)
    parts += [table, Text()]

    parts.append(Text("Guards", "bold underline"))
    if not status["guards"]:
        parts.append(Text("none configured", "dim"))
    guards = Table.grid(padding=(0, 2))
    for g in status["guards"]:
        rule = (f"{g['rule']} {g['threshold']:g} on {_p(g['attr'] or '-')} (hysteresis "
                f"{g['hysteresis']:g}) in {_p(g['scope'])} → {g['action']}")  # fmt: skip
        state = Text()
        if g["waiting_to_rearm"]:
            state.append(" FIRED ", DANGER)
            state.append(f" waiting to re-arm: {_p(', '.join(g['waiting_to_rearm']))}")
        else:
            state.append("armed")
        if g["last_fired"]:
            state.append(f"; last fired: {_p(g['last_fired'])}")
        guards.add_row(Text(_p(g["name"]), "bold"), Text(rule))
        guards.add_row("", state)
    parts += [guards, Text()]

    parts.append(Text("Dead-man timer", "bold underline"))
    parts.append(deadman_line(status["deadman"]))
    parts.append(Text())

    parts.append(Text("Last runs", "bold underline"))
    runs = status["runs"][-8:]
    if not runs:
        parts.append(Text("none yet", "dim"))
    for run in runs:
        line = Text(f"{run.get('time')} {_p(run.get('who'))}: {_p(run.get('title'))} — ")
        if run.get("ok") is False:
            line.append(" NEEDS ATTENTION ", DANGER)
            line.append(" ")
        line.append(_p(run.get("summary")))
        parts.append(line)
    return Group(*parts)


def deadman_line(dm: dict[str, Any]) -> Text:
    if not dm["enabled"]:
        return Text("off", "dim")
    last = dm["last_checkin"]
    seen = "no check-in yet" if last is None else (
        f"last check-in {iso_ms(int(last['at'] * 1000))} by {_p(last['who'])} ({last['via']})")  # fmt: skip
    if not dm["in_hours"]:
        return Text(f"on, outside its hours; {seen}")
    return Text(f"on: alert at {dm['alert_at']}, kill at {dm['kill_at']} unless someone "
                f"checks in (any key here); {seen}")  # fmt: skip


_CSS = """
AutomationScreen, SkipScreen {
    align: center middle;
}
#skip-schedules {
    height: auto;
    max-height: 10;
}
"""


class AutomationScreen(ModalScreen[None]):
    """Esc, q or m closes it; it redraws every second from ``status``."""

    DEFAULT_CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,m", "close", "Close", id="automation.close"),
    ]

    def __init__(self, status: Callable[[], dict[str, Any]]) -> None:
        super().__init__(classes="help")
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Text("Automation — schedules, guards, dead-man timer", "bold"),
                         id="help-title")  # fmt: skip
            with VerticalScroll(id="help-body"):
                yield Static(id="automation-body")
            yield Static(
                "Esc, q or m closes · N skips a schedule's next run (asks why; armed only)",
                id="help-hint",
            )

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(1.0, self.redraw, name="automation-screen")

    def redraw(self) -> None:
        self.query_one("#automation-body", Static).update(status_view(self.status()))

    def action_close(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class SkipChoice:
    name: str
    next_run: str
    action: str
    scope: str


class SkipScreen(ModalScreen[tuple[str, str] | None]):
    """Which schedule, and why: Enter in the reason box skips; Escape skips nothing."""

    DEFAULT_CSS = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="skip.cancel"),
        Binding("up", "move(-1)", "Previous schedule", show=False, id="skip.up"),
        Binding("down", "move(1)", "Next schedule", show=False, id="skip.down"),
    ]

    def __init__(self, choices: Sequence[SkipChoice]) -> None:
        super().__init__(classes="help")
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(Text("Skip the next run of a schedule", "bold"), id="help-title")
            options = [
                Option(printable(f"{c.name}: {c.action} {c.scope} at {c.next_run}"), id=c.name)
                for c in self.choices
            ]
            yield OptionList(*options, id="skip-schedules")
            yield Static("Why (journaled with your name):", id="skip-why-label")
            yield Input(placeholder="reason (required)", id="skip-why")
            yield Static("", id="skip-refused")
            yield Static(
                "↑/↓ choose · Enter in the reason box skips that run · Esc skips nothing",
                id="help-hint",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.query_one("#skip-why", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#skip-why", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        why = event.value.strip()
        index = self.query_one(OptionList).highlighted
        if not why:
            self.query_one("#skip-refused", Static).update(
                Text(" NOT SKIPPED ", DANGER)
                + Text(" a reason is required: type why, then Enter (Esc cancels)")
            )
            return
        if index is None:
            self.query_one("#skip-refused", Static).update(
                Text(" NOT SKIPPED ", DANGER) + Text(" choose a schedule first (↑/↓)")
            )
            return
        self.dismiss((self.choices[index].name, why))

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self.choices) - 1, current + step))

    def action_cancel(self) -> None:
        self.dismiss(None)
