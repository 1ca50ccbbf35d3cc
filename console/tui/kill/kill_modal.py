"""The kill modal: the frozen plan in counts, what it leaves behind, the label to type.

It shows the profile label in its colour *and* in words, the targets per venue and kind
with how long each venue's limit makes them take, stale venues with their data age,
unreachable venues by name, what the kill leaves behind, the close-positions switch
(shown where a venue's halt can close positions; default from the profile) and an
optional reason. Nothing is sent until the
operator has typed the profile label exactly (case-sensitive) and pressed Enter or the
confirm button; the modal opens on Cancel and Escape cancels.

The plan is frozen when the modal opens and rebuilt only when the operator changes the
scope or the switch (and then shown again); live updates never change it. Typing while
a button has focus goes straight into the label box, so ``K``, the label, Enter is the
whole gesture, while Enter on its own still hits Cancel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static, Switch

from console.core.kill import KillPlan, KillScope
from console.core.ports import StateSource
from console.tui.format import Tones
from console.tui.kill.eta import ControlRate, control_rate
from console.tui.kill.plan_text import (
    clear_words,
    counts_table,
    down_venues,
    leaves_text,
    offers_clear,
    plan_total,
    stale_note,
    stale_venues,
)
from console.tui.kill.scope import ScopeChoice, venue_name
from console.tui.theme_follow import following_theme
from console.tui.widgets.header import profile_class

CSS = Path(__file__).with_name("kill.tcss")
LISTED_CHECK_S = 0.25
"""How often an open kill modal looks for a venue's first list (see ``_watch_first_lists``)."""

Freezer = Callable[[KillScope, bool], KillPlan]


@dataclass(frozen=True)
class KillRequest:
    """What the operator confirmed: the plan (reason included) and how it was chosen."""

    kill: KillPlan
    choice: ScopeChoice
    clear_leaves_behind: bool
    reason: str | None


@dataclass(frozen=True)
class KillView:
    """What the modal needs to describe a plan besides the plan itself."""

    label: str
    colour: str
    profile: str
    operator: str
    venues: Sequence[str]
    names: Mapping[str, str]
    rates: Mapping[str, ControlRate | None]
    clearing: Sequence[str] = ()  # names of the venues whose halt can close positions


def describe_state(state: StateSource) -> KillView:
    """The profile's label, colour, operator, venue names and control limits, and the
    venues whose halt can close positions (their capabilities say so)."""
    options, clients = state.options, state.clients
    return KillView(
        options.label,
        options.color,
        options.profile,
        str(state.journal.operator),
        state.venues,
        {v: venue_name(v, clients) for v in state.venues},
        {v: control_rate(c) for v, c in clients.items()},
        [venue_name(v, clients) for v, c in clients.items() if c.capabilities.clears_leaves_behind],
    )


class KillScreen(ModalScreen[KillRequest | None]):
    CSS_PATH: ClassVar[str] = str(CSS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="kill.cancel"),
    ]

    def __init__(
        self,
        view: KillView,
        choices: Sequence[ScopeChoice],
        freeze: Freezer,
        *,
        clear_leaves_behind: bool,
        heard_from: Callable[[str], bool] = lambda venue: False,
    ) -> None:
        super().__init__(classes="kill")
        self.view = view
        self.choices = list(choices)
        self.freeze = freeze
        self.heard_from = heard_from
        """Whether a venue has delivered data this session (its first list is in)."""
        self.choice = self.choices[0]
        self.clear_leaves_behind = clear_leaves_behind
        self.kp = freeze(self.choice.scope, clear_leaves_behind)
        self.tones = Tones.monochrome()

    def compose(self) -> ComposeResult:
        view = self.view
        with Vertical(id="kill-dialog"):
            with Horizontal(id="kill-title"):
                yield Label(
                    f" {view.label} ",
                    id="kill-badge",
                    classes=f"profile-label {profile_class(view.colour)}",
                )
                yield Label(Text(" EMERGENCY STOP ", "reverse bold"), id="kill-word")
                yield Label(f" profile {view.profile} · label {view.label}", id="kill-profile")
            with VerticalScroll(id="kill-body"):
                with RadioSet(id="kill-scope"):
                    for n, choice in enumerate(self.choices):
                        yield RadioButton(scope_label(choice, chosen=n == 0), value=n == 0)
                yield Static(id="kill-counts")
                yield Static(id="kill-stale")
                yield Static(id="kill-leaves")
                with Horizontal(id="kill-close-row", classes="option"):
                    yield Switch(self.clear_leaves_behind, id="kill-close")
                    yield Static(id="kill-close-note", classes="option-note")
                yield Input(
                    placeholder="reason (optional; journaled, and sent where the venue takes one)",
                    id="kill-reason",
                    max_length=200,
                    compact=True,
                )
            yield Label(
                f"Type {view.label} (the profile label, exact case) to confirm:", id="kill-prompt"
            )
            yield Input(
                placeholder=f"type {view.label} then Enter",
                id="kill-label",
                max_length=max(8, len(view.label) + 8),
                select_on_focus=False,
            )
            with Horizontal(id="kill-buttons"):
                yield Button("Cancel", id="kill-cancel", variant="primary")
                yield Button("EMERGENCY STOP", id="kill-confirm", variant="error", disabled=True)
            yield Static(id="kill-hint")

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)
        self._show()
        self.query_one("#kill-cancel", Button).focus()
        self.set_interval(LISTED_CHECK_S, self._watch_first_lists, name="kill-first-lists")

    def _watch_first_lists(self) -> None:
        """A venue in the plan as UNREACHABLE only because its first list had not come
        (K pressed right after the start): when the list comes while this is open, the
        plan is frozen again with its targets, shown before anyone confirms. Nothing
        else re-freezes an open plan: what is confirmed is what was shown."""
        arrived = [v for v in self.kp.unreachable if self.heard_from(v)]
        if not arrived:
            return
        self._refreeze()
        self.notify(f"{', '.join(arrived)} listed its targets: now in the plan — check the "
                    "counts before you confirm", severity="warning")  # fmt: skip

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        self._show()

    # ----- the plan on screen -----------------------------------------------------------
    def _show(self) -> None:
        kp, view = self.kp, self.view
        venues = [v for v in view.venues if self.choice.scope.venue in (None, v)]
        self.query_one("#kill-counts", Static).update(
            counts_table(kp, venues, view.names, view.rates, self.tones)
        )
        stale = self.query_one("#kill-stale", Static)
        stale.display = bool(stale_venues(kp) or down_venues(kp))
        stale.update(stale_note(kp))
        clear = self.clear_leaves_behind
        self.query_one("#kill-leaves", Static).update(
            leaves_text(kp, clear=clear, clearing=view.clearing)
        )
        self.query_one("#kill-close-row").display = offers_clear(kp) or clear
        note = Text(" CHOSEN ", "reverse bold") if clear else Text(" off ", "bold")
        note.append(f" {clear_words(view.clearing, clear=clear)} (switch: Tab to it, space)")
        self.query_one("#kill-close-note", Static).update(note)
        empty = len(kp.plan) == 0
        confirm = self.query_one("#kill-confirm", Button)
        confirm.label = "Nothing to halt" if empty else f"EMERGENCY STOP {plan_total(kp)}"
        confirm.disabled = empty or not self.label_matches
        hint = (
            f"{kp.plan.title} · type {view.label} then Enter · Esc cancels · "
            f"journaled as {view.operator}"
        )
        self.query_one("#kill-hint", Static).update(hint)

    def _refreeze(self) -> None:
        """Scope or switch changed: freeze a new plan and show its counts again."""
        self.kp = self.freeze(self.choice.scope, self.clear_leaves_behind)
        self._show()

    # ----- behaviour ------------------------------------------------------------------
    @property
    def label_matches(self) -> bool:
        return self.query_one("#kill-label", Input).value == self.view.label

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.choice = self.choices[event.index]
        for button, choice in zip(event.radio_set.query(RadioButton), self.choices, strict=True):
            button.label = scope_label(choice, chosen=choice is self.choice)
        self._refreeze()

    def on_switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        if event.switch.id == "kill-close" and event.value != self.clear_leaves_behind:
            self.clear_leaves_behind = event.value
            self._refreeze()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "kill-label":
            event.stop()
            button = self.query_one("#kill-confirm", Button)
            button.disabled = len(self.kp.plan) == 0 or not self.label_matches

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "kill-reason":
            self.query_one("#kill-label", Input).focus()
        elif event.input.id == "kill-label":
            self._try_confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "kill-confirm":
            self._try_confirm()
        elif event.button.id == "kill-cancel":
            self.dismiss(None)

    def on_key(self, event: events.Key) -> None:
        """Typing anywhere but in a text box goes into the label box."""
        if isinstance(self.focused, Input) or not event.is_printable:
            return
        if event.character and event.character != " ":
            self.type_label(event.character)
            event.stop()
            event.prevent_default()

    def type_label(self, character: str) -> None:
        """Add ``character`` to the label box (the kill key too: the app's binding lets it
        through while this modal is open, so a label such as KILLTEST can be typed)."""
        box = self.query_one("#kill-label", Input)
        box.focus()
        box.insert_text_at_cursor(character)

    def _try_confirm(self) -> None:
        if len(self.kp.plan) == 0:
            self.app.bell()
            self.notify("Nothing to halt in this scope: nothing was sent.", severity="warning")
            return
        if not self.label_matches:
            self.app.bell()
            self.notify(
                f"Type {self.view.label} exactly (case matters) to confirm; nothing was sent.",
                severity="warning",
            )
            return
        reason = self.query_one("#kill-reason", Input).value.strip() or None
        self.dismiss(
            KillRequest(with_reason(self.kp, reason), self.choice, self.clear_leaves_behind, reason)
        )

    def action_cancel(self) -> None:
        self.dismiss(None)


def scope_label(choice: ScopeChoice, *, chosen: bool) -> Text:
    """The chosen scope in reverse video and words, not only by its radio dot's colour."""
    if chosen:
        return Text(f" {choice.label} ", "reverse bold") + Text(" ◀ chosen")
    return Text(choice.label)


def with_reason(kp: KillPlan, reason: str | None) -> KillPlan:
    """The same frozen plan, with the operator's reason on every action."""
    if not reason:
        return kp
    items = tuple(replace(i, action=replace(i.action, reason=reason)) for i in kp.plan.items)
    return replace(kp, plan=replace(kp.plan, items=items))
