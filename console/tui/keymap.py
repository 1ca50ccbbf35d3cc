"""Every key of the console: binding ids, the control set, and keymap validation.

One rule makes the map easy to teach at 3 a.m.: **capital letters change trading,
lower-case keys only look.** Pause, stop, resume and start sit on P, X, R and S; no
control action is on a ctrl-letter or on a key a vim or tmux user presses by habit
(``x``, ``p``, ``dd``, ``gg``). K is reserved for the emergency kill-all (issue 4).

All bindings carry an id, so a profile's ``[keys]`` table (id = key) remaps them with
Textual's keymap support. :func:`validate_keymap` refuses remaps that would break the
rules above, and the refusals are reported in one notification at start-up.

Every binding the app has is declared here, as data: nothing is added at import time
elsewhere, so :func:`all_bindings` (what remapping, validation and the help screen read)
is the same whichever module was imported first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual.binding import Binding

from console.core.model import ActionKind

KILL_KEY = "K"
"""Reserved for the emergency kill-all modal (issue 4); nothing else may take it."""

SKIP_ID = "automation.skip"
"""Skip the next run of a schedule: it changes what automation will do, so it is a control
key (never on a ctrl key; unbound while read-only and not armed; asks why first)."""

CONTROL_IDS: frozenset[str] = frozenset({"pause", "stop", "resume", "start", "kill", SKIP_ID})
"""Bindings that change trading: unbound (hidden, refused) while read-only and not armed."""

CONTROL_KINDS: Mapping[str, ActionKind] = {
    "pause": ActionKind.PAUSE,
    "stop": ActionKind.STOP,
    "resume": ActionKind.RESUME,
    "start": ActionKind.START,
}


@dataclass(frozen=True)
class KeyDoc:
    """One row of the help screen."""

    id: str
    key: str
    description: str
    group: str


def _b(key: str, action: str, description: str, id: str, *, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, id=id)


APP_BINDINGS: list[Binding] = [
    _b("question_mark", "help", "Help", "help"),
    _b("slash", "filter", "Filter", "filter", show=False),  # room for K at 80 columns
    _b("P", "control('pause')", "Pause", "pause"),
    _b("X", "control('stop')", "Stop", "stop"),
    _b("R", "control('resume')", "Resume", "resume"),
    _b("S", "control('start')", "Start", "start"),
    _b("a", "arm", "Arm/disarm", "arm"),
    _b("s", "sort", "Sort", "sort", show=False),
    _b("o", "reverse_sort", "Reverse order", "reverse_sort", show=False),
    _b("v", "select_all", "Select all shown", "select_all", show=False),
    _b("escape", "clear", "Clear selection/filter", "clear", show=False),
    _b("l", "outcomes", "Outcome log", "outcomes", show=False),
    # Both keys: Textual adds its own ctrl+p only while no binding runs the palette, so
    # binding ':' alone had silently taken ctrl+p away (the help and docs promise both).
    _b("colon,ctrl+p", "command_palette", "Command palette: every action", "palette", show=False),
    _b("q", "quit", "Quit", "quit"),
]


KILL_BINDINGS: list[Binding] = [
    Binding("K", "kill", "EMERGENCY STOP", id="kill", priority=True, show=False),
    _b("u", "audit", "Journal (audit)", "audit", show=False),
    _b("w", "kill_report", "Last kill report", "kill_report", show=False),
]
"""The emergency stop's keys (issue 4). ``K`` is a *priority* binding so it works on every
screen, modals included; Textual still lets a focused text box take the letter."""


AUTOMATION_BINDINGS: list[Binding] = [
    _b("m", "automation", "Automation: schedules, guards, timer", "automation", show=False),
    _b("N", "automation_skip", "Skip the next run of a schedule (asks why)", SKIP_ID, show=False),
]
"""Automation's keys (issue 14): its screen, and skipping a schedule's next run. Listed on
the help screen only when the profile has automation."""
AUTOMATION_IDS: frozenset[str] = frozenset(str(b.id) for b in AUTOMATION_BINDINGS)


def readonly_id(binding_id: str) -> str:
    return f"{binding_id}.readonly"


READONLY_BINDINGS: list[Binding] = [
    _b(b.key, f"readonly({b.id!r})", b.description, readonly_id(str(b.id)), show=False)
    for b in APP_BINDINGS
    if b.id in CONTROL_KINDS
]
"""While read-only and not armed the control bindings are unbound (hidden, never run);
these take the same keys (:func:`with_readonly_twins` gives them the same remaps) only
to say so: "read-only — a arms for N min". They come after the control bindings in the
app's ``BINDINGS``, so Textual tries them only when the control binding is refused."""


def with_readonly_twins(keymap: Mapping[str, str]) -> dict[str, str]:
    """A validated keymap plus the same key for each remapped control key's read-only
    stand-in (``pause = "W"`` makes W say "read-only" too)."""
    twins = {readonly_id(i): k for i, k in keymap.items() if i in CONTROL_KINDS}
    return {**keymap, **twins}


SCREEN_BINDINGS: list[Binding] = [
    _b("tab", "next_panel", "Next panel", "next_panel", show=False),
    _b("shift+tab", "previous_panel", "Previous panel", "previous_panel", show=False),
    *(_b(str(n), f"panel({n - 1})", f"Panel {n}", f"panel.{n}", show=False) for n in range(1, 6)),
    _b("0", "overview", "Overview", "overview", show=False),
]

TABLE_BINDINGS: list[Binding] = [
    _b("j", "cursor_down", "Down", "down", show=False),
    _b("k", "cursor_up", "Up", "up", show=False),
    _b("g,home", "scroll_top", "Top row", "top", show=False),
    _b("G,end", "scroll_bottom", "Bottom row", "bottom", show=False),
    _b("space", "toggle_select", "Select", "select", show=False),
    _b("enter", "app.details", "Details of the row", "details", show=False),
    _b("y", "app.copy_id", "Copy the row's id", "copy_id", show=False),
]

_GROUPS: Mapping[str, str] = {
    "help": "view",
    "filter": "view",
    "sort": "view",
    "reverse_sort": "view",
    "outcomes": "view",
    "select_all": "selection",
    "clear": "selection",
    "select": "selection",
    "down": "move",
    "up": "move",
    "top": "move",
    "bottom": "move",
    "details": "view",
    "copy_id": "view",
    "palette": "view",
    "next_panel": "move",
    "overview": "move",
    "previous_panel": "move",
    "pause": "control",
    "stop": "control",
    "resume": "control",
    "start": "control",
    "arm": "control",
    "quit": "app",
    "kill": "control",
    "audit": "view",
    "kill_report": "view",
    "automation": "view",
    SKIP_ID: "control",
}

_DISPLAY: Mapping[str, str] = {
    "question_mark": "?",
    "slash": "/",
    "space": "space",
    "escape": "esc",
    "shift+tab": "shift+tab",
    "colon": ":",
}


def display_key(key: str) -> str:
    """How a key is written on the help screen and in messages (``?``, ``P``, ``tab``)."""
    return ",".join(_DISPLAY.get(k.strip(), k.strip()) for k in key.split(","))


def console_bindings() -> list[Binding]:
    """The looking and control keys: the table's, the screen's and the app's."""
    return [*TABLE_BINDINGS, *SCREEN_BINDINGS, *APP_BINDINGS]


def all_bindings() -> list[Binding]:
    """Every remappable binding, in help order: the console's, the kill's, automation's."""
    return [*console_bindings(), *KILL_BINDINGS, *AUTOMATION_BINDINGS]


def default_keys(bindings: Sequence[Binding] | None = None) -> dict[str, str]:
    """Binding id -> default key, of ``bindings`` (default: :func:`all_bindings`)."""
    return {b.id: b.key for b in (all_bindings() if bindings is None else bindings) if b.id}


DEFAULT_KEYS: Mapping[str, str] = default_keys(console_bindings())
"""The console's own keys (without the kill's K, u and w)."""


def effective_keys(keymap: Mapping[str, str]) -> dict[str, str]:
    """Binding id -> key after the (validated) keymap is applied."""
    return {**default_keys(), **keymap}


def help_rows(keymap: Mapping[str, str], *, automation: bool = False) -> list[KeyDoc]:
    """The help screen's rows; automation's keys only when the profile has automation."""
    keys = effective_keys(keymap)
    rows = []
    for binding in all_bindings():
        assert binding.id is not None
        if binding.id.startswith("panel.") or (binding.id in AUTOMATION_IDS and not automation):
            continue
        group = _GROUPS.get(binding.id, "move")
        rows.append(KeyDoc(binding.id, display_key(keys[binding.id]), binding.description, group))
    panels = " ".join(display_key(keys[f"panel.{n}"]) for n in range(1, 6))
    rows.append(KeyDoc("panel.1-5", panels, "Show panel 1 to 5", "move"))
    return rows


def _keys_of(spec: str) -> list[str]:
    return [k.strip() for k in spec.split(",") if k.strip()]


def validate_keymap(
    keymap: Mapping[str, str], bindings: Sequence[Binding] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Keep the remaps that respect the rules; say why the others were refused.

    ``bindings`` is every binding a remap may name (default: :func:`all_bindings`).
    """
    valid: dict[str, str] = {}
    problems: list[str] = []
    known = default_keys(bindings)
    for binding_id, spec in keymap.items():
        keys = _keys_of(spec)
        if binding_id not in known:
            problems.append(f"unknown key id {binding_id!r}")
        elif not keys:
            problems.append(f"{binding_id}: empty key")
        elif binding_id != "kill" and any(k in (KILL_KEY, "shift+k") for k in keys):
            problems.append(f"{binding_id}: {KILL_KEY} is reserved for the kill-all")
        elif binding_id in CONTROL_IDS and any(k.startswith("ctrl+") for k in keys):
            problems.append(f"{binding_id}: control actions may not sit on a ctrl key")
        else:
            valid[binding_id] = ",".join(keys)
    return valid, problems
