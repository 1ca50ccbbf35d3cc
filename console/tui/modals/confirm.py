"""The confirmation modal: one frozen plan, named target by target, opened on Cancel.

It shows the profile label (in words and its colour), the action, every target the plan
holds with its state when the key was pressed, what the action leaves behind, the
venue's options as switches (all off by default), and an optional reason. One target:
``y`` confirms. More than one: the operator types the number of targets, then Enter.
Escape, ``n`` or the focused Cancel button dispatch nothing. The plan never changes
while the modal is open; only the chosen options and reason are added on confirmation.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Log, Static, Switch

from console.core.dispatcher import Plan
from console.core.model import OptionSpec, OptionValue
from console.tui.format import one_line, state_word
from console.tui.header import profile_class
from console.tui.planning import PlanDraft, noun

LIST_LIMIT = 5000
"""Targets listed one per line; past this the list says how many more (the journal has all)."""


def option_note(option: OptionSpec, value: OptionValue) -> Text:
    """A switch's consequence in words, so its position is never the only signal."""
    if value is True:
        text = Text(" CHOSEN ", "reverse bold")
        text.append(f" {option.label}" + (f" — {option.help}" if option.help else ""))
        return text
    text = Text(" not chosen ", "bold")
    text.append(f" {option.label}")
    return text


class ConfirmScreen(ModalScreen[Plan | None]):
    """Returns the plan to dispatch (with options and reason), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel"),
        Binding("n", "cancel", "Cancel", show=False, id="modal.no"),
        Binding("y", "confirm_one", "Confirm", id="modal.yes"),
    ]
    AUTO_FOCUS = "#cancel"

    def __init__(self, draft: PlanDraft, *, label: str, colour: str) -> None:
        super().__init__(classes="confirm")
        self.draft = draft
        self.plan = draft.plan
        self.label = label
        self.colour = colour
        self.many = len(draft.plan) > 1

    # ----- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="dialog"):
            with Horizontal(id="dialog-title"):
                yield Label(
                    f" {self.label} ", classes=f"profile-label {profile_class(self.colour)}"
                )
                yield Label(Text(f" {plan.title}", "bold"), id="plan-title")
            with VerticalScroll(id="dialog-body"):
                yield Static(self._summary(), id="plan-summary")
                yield Log(id="plan-targets", classes="targets", auto_scroll=False)
                if self.draft.excluded:
                    yield Static(self._excluded(), id="plan-excluded")
                for line in plan.leaves_behind:
                    yield Static(Text("Leaves behind: ", "bold") + Text(line), classes="leaves")
                for option in self.draft.options:
                    with Horizontal(classes="option"):
                        yield Switch(bool(option.default), id=f"option-{option.name}")
                        yield Static(
                            option_note(option, option.default),
                            id=f"note-{option.name}",
                            classes="option-note",
                        )
                if self.draft.accepts_reason:
                    yield Input(
                        placeholder="reason (optional; goes to the venue and the journal)",
                        id="reason",
                        max_length=200,
                    )
                if self.many:
                    yield Label(
                        f"Type {len(plan)} (the number of targets) to confirm:",
                        classes="count-prompt",
                    )
                    yield Input(
                        placeholder="number of targets",
                        id="count",
                        restrict=r"[0-9]*",
                        max_length=8,
                    )
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                verb = self.draft.kind.value.capitalize()
                what = f"{len(plan)} {noun(plan.items[0].kind.value, len(plan))}"
                yield Button(f"{verb} {what}", id="confirm", variant="error", disabled=self.many)
            hint = f"type {len(plan)} then Enter to confirm" if self.many else "y confirms"
            yield Static(f"{hint} · Esc or n cancels · Cancel is focused", id="dialog-hint")

    def on_mount(self) -> None:
        log = self.query_one("#plan-targets", Log)
        lines = [self._target_line(i) for i in range(min(len(self.plan), LIST_LIMIT))]
        if len(self.plan) > LIST_LIMIT:
            lines.append(f"… and {len(self.plan) - LIST_LIMIT} more (all are in the journal)")
        log.write("\n".join(lines))
        log.scroll_home(animate=False)

    def _target_line(self, index: int) -> str:
        item = self.plan.items[index]
        return f"{item.target_name}  [{item.venue}]  {state_word(item.state_before)}  id {item.target_id}"

    def _summary(self) -> Text:
        plan = self.plan
        text = Text()
        kind = plan.items[0].kind.value
        text.append(f"{self.draft.kind.value.upper()} {len(plan)} {noun(kind, len(plan))}", "bold")
        venues = plan.counts_by_venue()
        text.append(" on " + ", ".join(f"{v} ({n})" for v, n in venues.items()))
        states: dict[str, int] = {}
        for item in plan.items:
            word = state_word(item.state_before)
            states[word] = states.get(word, 0) + 1
        text.append(" · now " + ", ".join(f"{n} {w}" for w, n in states.items()))
        if self.draft.hidden_by_filter:
            text.append(
                f"\n{self.draft.hidden_by_filter} of them are hidden by the current "
                "filter and ARE included (they are selected).",
                "bold",
            )
        return text

    def _excluded(self) -> Text:
        excluded = self.draft.excluded
        text = Text(f"Not included ({len(excluded)}):", "bold")
        for entry in excluded[:20]:
            text.append(f"\n  {entry.target.name}: {one_line(entry.why, 120)}")
        if len(excluded) > 20:
            text.append(f"\n  … and {len(excluded) - 20} more")
        return text

    # ----- behaviour ------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm_one":
            return not self.many
        return True

    def on_switch_changed(self, event: Switch.Changed) -> None:
        name = (event.switch.id or "").removeprefix("option-")
        option = next((o for o in self.draft.options if o.name == name), None)
        if option is not None:
            self.query_one(f"#note-{name}", Static).update(option_note(option, event.value))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "count":
            self.query_one("#confirm", Button).disabled = not self._count_ok()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "count":
            if self._count_ok():
                self._confirm()
            else:
                self.app.bell()
                self.notify(f"Type exactly {len(self.plan)} to confirm.", severity="warning")
        elif event.input.id == "reason" and not self.many:
            self.query_one("#cancel", Button).focus()

    def _count_ok(self) -> bool:
        if not self.many:
            return True
        return self.query_one("#count", Input).value.strip() == str(len(self.plan))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm" and self._count_ok():
            self._confirm()
        elif event.button.id == "cancel":
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_confirm_one(self) -> None:
        if not self.many:
            self._confirm()

    def _confirm(self) -> None:
        options: dict[str, OptionValue] = {}
        for option in self.draft.options:
            options[option.name] = self.query_one(f"#option-{option.name}", Switch).value
        reason = self.query_one("#reason", Input).value if self.draft.accepts_reason else None
        self.dismiss(self.draft.finalize(options, reason))
