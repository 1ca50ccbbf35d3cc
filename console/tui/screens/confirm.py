"""The confirmation modal: one frozen plan, named target by target, opened on Cancel.

It shows the profile label (in words and its colour), the action, every target the plan
holds with its state when the key was pressed, what the action leaves behind, the
venue's options as switches (all off by default), and an optional reason. One target:
``y`` confirms, and Cancel has focus. More than one: the count box has focus (the hint
says so), the operator types the number of targets, then Enter; a wrong number is
refused in words. Escape, ``n`` or Enter on the focused Cancel button dispatch nothing.
The plan never changes while the modal is open; only the chosen options and reason are
added on confirmation.

Key facts ride along: what each target covers and why it is in its state
(:func:`console.tui.planning.target_facts`). The Confirm button is sized to its label
each time a plan is loaded (Textual sizes a button when it is laid out, not when its
label changes), and the label is shortened only where the dialog cannot hold it.

One instance is installed at start-up and re-loaded for each plan (:meth:`load`):
building a fresh modal costs ~100 ms of compose, style and layout work, re-showing a
loaded one ~15 ms, and a kill switch should open at once.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Log, Static, Switch

from console.core.model import OptionSpec, OptionValue
from console.core.plan import Plan
from console.core.scrub import printable
from console.tui.focus import TypeAhead
from console.tui.format import one_line, state_word
from console.tui.planning import PlanDraft, count_line, noun
from console.tui.screens.kept import KeptModal
from console.tui.textual_compat.clock import event_time
from console.tui.widgets.header import PROFILE_COLOURS, profile_class

LIST_LIMIT = 5000
"""Targets listed one per line; past this the list says how many more (the journal has all)."""
MAX_OPTIONS = 4
DIALOG_WIDTH = 96
"""``#dialog``'s width in app.tcss (it shrinks to the screen below that)."""
BUTTON_ROW_CHROME = 26
"""Columns of the button row that are not the Confirm label: the dialog's border and
padding (4), Cancel (min-width 16) and its margin (2), Confirm's margin (2) and the
button's own padding around its label (2). Kept in step with app.tcss."""


def confirm_label(verb: str, count: int, kind: str, room: int) -> str:
    """``Stop 1 sniper target``, or a shorter label that fits in ``room`` columns."""
    for label in (f"{verb} {count} {noun(kind, count)}", f"{verb} {count}", verb):
        if cell_len(label) <= room:
            return label
    return verb


class CountBox(Input):
    """The count box: digits only; a key read before the dialog was shown is dropped
    (:class:`~console.tui.focus.TypeAhead`), and any other printable key goes on to the
    dialog's bindings (``n`` cancels here too) instead of being refused with a bell."""

    def __init__(self, type_ahead: TypeAhead, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.type_ahead = type_ahead

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return bool(character and character.isdigit())

    async def on_key(self, event: events.Key) -> None:
        if event.key == "escape" or self.type_ahead.early(event):
            return
        if event.is_printable and not (event.character or "").isdigit():
            event.prevent_default()  # not typed here; it bubbles on to the bindings

    def on_paste(self, event: events.Paste) -> None:
        if event.time < self.type_ahead.shown_at:
            event.prevent_default()
            event.stop()


def option_note(option: OptionSpec, value: OptionValue) -> Text:
    """A switch's consequence in words, so its position is never the only signal."""
    if value is True:
        text = Text(" CHOSEN ", "reverse bold")
        text.append(f" {option.label}" + (f" — {option.help}" if option.help else ""))
        return text
    text = Text(" not chosen ", "bold")
    text.append(f" {option.label}")
    return text


class ConfirmScreen(KeptModal[Plan | None]):
    """Returns the plan to dispatch (with options and reason), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="modal.cancel"),
        Binding("n", "cancel", "Cancel", show=False, id="modal.no"),
        Binding("y", "confirm_one", "Confirm", id="modal.yes"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="confirm")
        self.draft: PlanDraft | None = None
        self.many = False
        self.type_ahead = TypeAhead()
        self._badge = ("", "warning")
        self._shown = False

    @property
    def plan(self) -> Plan:
        assert self.draft is not None
        return self.draft.plan

    # ----- layout (built once) -------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with Horizontal(id="dialog-title"):
                yield Label(id="dialog-label", classes="profile-label")
                yield Label(id="plan-title")
            with VerticalScroll(id="dialog-body"):
                yield Static(id="plan-summary")
                yield Log(id="plan-targets", classes="targets", auto_scroll=False)
                yield Static(id="plan-excluded")
                yield Static(id="plan-leaves", classes="leaves")
                for n in range(MAX_OPTIONS):
                    with Horizontal(id=f"option-row-{n}", classes="option"):
                        yield Switch(False, id=f"option-{n}")
                        yield Static(id=f"note-{n}", classes="option-note")
                yield Input(
                    placeholder="reason (optional; goes to the venue and the journal)",
                    id="reason",
                    max_length=200,
                )
                yield Label(id="count-prompt", classes="count-prompt")
                yield CountBox(
                    self.type_ahead,
                    placeholder="number of targets",
                    id="count",
                    restrict=r"[0-9]*",
                    max_length=8,
                )
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Confirm", id="confirm", variant="error")
            yield Static(id="dialog-hint")

    # ----- one plan ---------------------------------------------------------------------
    def load(self, draft: PlanDraft, *, label: str, colour: str) -> None:
        """Take ``draft``; called before each push, never while the modal is open."""
        self.draft = draft
        self.many = len(draft.plan) > 1
        self._badge = (label, colour)
        self._shown = False
        self.type_ahead.hidden()

    async def on_key(self, event: events.Key) -> None:
        """Keys read before this plan was on screen are dropped (:mod:`console.tui.focus`):
        a burst typed after the action key must not confirm what nobody has seen. Esc
        is let through: cancelling is always safe."""
        if event.key != "escape":
            self.type_ahead.early(event)

    def on_mount(self) -> None:
        self._show()

    def on_screen_resume(self, event: events.ScreenResume | None = None) -> None:
        self._show()
        self.type_ahead.shown(event_time())

    def _show(self) -> None:
        """Fill the widgets from the draft (once per push; the first push composes first)."""
        draft = self.draft
        if draft is None or self._shown or not self.is_mounted:
            return
        self._shown = True
        label, colour = self._badge
        plan = draft.plan
        self.many = len(plan) > 1
        badge = self.query_one("#dialog-label", Label)
        wanted = profile_class(colour)  # a class change restyles: only when it changes
        badge.remove_class(
            *(profile_class(c) for c in PROFILE_COLOURS if profile_class(c) != wanted)
        )
        badge.add_class(wanted)
        badge.update(f" {label} ")
        self.query_one("#plan-title", Label).update(Text(f" {printable(plan.title)}", "bold"))
        self.query_one("#plan-summary", Static).update(self._summary())
        log = self.query_one("#plan-targets", Log)
        log.clear()
        lines = [self._target_line(i) for i in range(min(len(plan), LIST_LIMIT))]
        if len(plan) > LIST_LIMIT:
            lines.append(f"… and {len(plan) - LIST_LIMIT} more (all are in the journal)")
        # write_lines: one refresh for the whole list. Log.write refreshes each line it
        # splits off: 5,000 targets cost 86–136 ms of the key's answer, 2–3 ms this way.
        log.write_lines(lines)
        log.scroll_home(animate=False)
        excluded = self.query_one("#plan-excluded", Static)
        excluded.display = bool(draft.excluded)
        excluded.update(self._excluded())
        leaves = self.query_one("#plan-leaves", Static)
        leaves.display = bool(plan.leaves_behind)
        leaves.update(self._leaves())
        for n in range(MAX_OPTIONS):
            option = draft.options[n] if n < len(draft.options) else None
            self.query_one(f"#option-row-{n}").display = option is not None
            if option is not None:
                self.query_one(f"#option-{n}", Switch).value = bool(option.default)
                self.query_one(f"#note-{n}", Static).update(option_note(option, option.default))
        reason = self.query_one("#reason", Input)
        reason.value = ""
        reason.display = draft.accepts_reason
        count = self.query_one("#count", Input)
        count.value = ""
        count.display = self.many
        prompt = self.query_one("#count-prompt", Label)
        prompt.display = self.many
        prompt.update(self._prompt())
        confirm = self.query_one("#confirm", Button)
        self._fit_label()
        confirm.disabled = self.many
        if self.many:
            hint = f"type {len(plan)} then Enter to confirm · Esc cancels · the count box has focus"
        else:
            hint = "y confirms · Esc or n cancels · Cancel is focused"
        self.query_one("#dialog-hint", Static).update(hint)
        self.query_one("#count" if self.many else "#cancel").focus(scroll_visible=False)
        self.query_one("#dialog-body", VerticalScroll).scroll_home(animate=False)

    def _prompt(self, refused: str | None = None) -> Text:
        n = len(self.plan)
        text = Text()
        if refused is not None:
            typed = f"{refused} is not {n}" if refused else "Nothing was typed"
            text.append(f" {typed}: nothing was sent. ", "reverse bold")
            text.append(" ")
        text.append(f"Type {n} (the number of targets) then Enter to confirm:")
        return text

    def _fit_label(self) -> None:
        """The Confirm button's label, whole (shortened only below the dialog's room),
        and the button laid out again for it: a label change alone keeps the width the
        button had for the previous plan."""
        if self.draft is None:
            return
        plan = self.plan
        room = min(self.app.size.width, DIALOG_WIDTH) - BUTTON_ROW_CHROME
        verb = self.draft.kind.value.capitalize()
        confirm = self.query_one("#confirm", Button)
        label = confirm_label(verb, len(plan), plan.items[0].kind.value, room)
        if str(confirm.label) != label:
            confirm.label = label
        confirm.refresh(layout=True)

    def on_resize(self, event: events.Resize) -> None:
        if self._shown:
            self._fit_label()

    def _target_line(self, index: int) -> str:
        """The target, then (several targets) each of its facts on a line of its own,
        indented: on one line they ran past the dialog's edge at 80 columns."""
        item = self.plan.items[index]
        line = printable(
            f"{item.target_name}  [{item.venue}]  {state_word(item.state_before)}  id {item.target_id}"
        )
        if self.many and self.draft is not None:
            line += "".join(f"\n    {printable(fact)}" for fact in self.draft.facts_of(index))
        return line

    def _summary(self) -> Text:
        assert self.draft is not None
        plan, draft = self.plan, self.draft
        text = Text()
        kind = plan.items[0].kind.value
        text.append(f"{draft.kind.value.upper()} {len(plan)} {noun(kind, len(plan))}", "bold")
        text.append(" on " + ", ".join(f"{v} ({n})" for v, n in plan.counts_by_venue().items()))
        states: dict[str, int] = {}
        for item in plan.items:
            word = state_word(item.state_before)
            states[word] = states.get(word, 0) + 1
        text.append(" · now " + ", ".join(f"{n} {w}" for w, n in states.items()))
        if self.many:
            if draft.counts:
                text.append(f"\nIn all: {count_line(draft.counts)}", "bold")
        else:
            for fact in draft.facts_of(0):
                text.append(f"\n{fact}", "bold")
        if draft.hidden_by_filter:
            text.append(
                f"\n{draft.hidden_by_filter} of them are hidden by the current filter "
                "and ARE included (they are selected).",
                "bold",
            )
        return text

    def _excluded(self) -> Text:
        assert self.draft is not None
        excluded = self.draft.excluded
        text = Text(f"Not included ({len(excluded)}):", "bold")
        for entry in excluded[:20]:
            text.append(f"\n  {printable(entry.target.name)}: {one_line(entry.why, 120)}")
        if len(excluded) > 20:
            text.append(f"\n  … and {len(excluded) - 20} more")
        return text

    def _leaves(self) -> Text:
        text = Text()
        for n, line in enumerate(self.plan.leaves_behind):
            text.append("\n" if n else "")
            text.append("Leaves behind: ", "bold")
            text.append(one_line(line, 300))
        return text

    # ----- behaviour ------------------------------------------------------------------
    def switch_for(self, name: str) -> Switch:
        """The switch of option ``name`` (tests and the palette find options by name)."""
        assert self.draft is not None
        index = [o.name for o in self.draft.options].index(name)
        return self.query_one(f"#option-{index}", Switch)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm_one":
            return not self.many
        return True

    def on_switch_changed(self, event: Switch.Changed) -> None:
        index = int((event.switch.id or "option-0").removeprefix("option-"))
        if self.draft is not None and index < len(self.draft.options):
            note = option_note(self.draft.options[index], event.value)
            self.query_one(f"#note-{index}", Static).update(note)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "count":
            self.query_one("#confirm", Button).disabled = not self._count_ok()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "count":
            if self._count_ok():
                self._confirm()
            else:
                typed = event.value.strip()
                self.app.bell()
                self.query_one("#count-prompt", Label).update(self._prompt(typed))
                self.notify(
                    f"{typed or 'Nothing'} is not {len(self.plan)}: nothing was sent. "
                    f"Type {len(self.plan)} then Enter to confirm, Esc to cancel.",
                    severity="warning",
                )
        elif event.input.id == "reason":
            self.query_one("#count" if self.many else "#cancel").focus()

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
        draft = self.draft
        assert draft is not None
        options: dict[str, OptionValue] = {}
        for n, option in enumerate(draft.options[:MAX_OPTIONS]):
            options[option.name] = self.query_one(f"#option-{n}", Switch).value
        reason = self.query_one("#reason", Input).value if draft.accepts_reason else None
        self.dismiss(draft.finalize(options, reason))
