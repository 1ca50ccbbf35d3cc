"""The help screen: every key, as remapped by the profile's keymap, grouped by purpose."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.tui.keymap import KILL_KEY, help_rows

GROUP_TITLES = (
    ("control", "Control (capital letters; read-only until armed)"),
    ("selection", "Selection"),
    ("move", "Moving"),
    ("view", "Viewing"),
    ("app", "Application"),
)


def help_table(
    keymap: Mapping[str, str], *, readonly: bool, arm_minutes: float, automation: bool = False
) -> Table:
    rows = help_rows(keymap, automation=automation)
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    for group, title in GROUP_TITLES:
        table.add_row("", Text(title, "bold underline"))
        for row in rows:
            if row.group == group:
                table.add_row(row.key, row.description)
        if group == "control":
            if not any(r.id == "kill" for r in rows):
                table.add_row(KILL_KEY, "Reserved: emergency kill-all (not yet available)")
            note = (
                f"Read-only: control keys only say so until 'a' arms them for {arm_minutes:g} min."
                if readonly
                else "This profile is not read-only."
            )
            table.add_row("", Text(note, "italic"))
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Esc, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(
        self,
        keymap: Mapping[str, str],
        *,
        readonly: bool,
        arm_minutes: float,
        automation: bool = False,
    ) -> None:
        super().__init__(classes="help")
        self.keymap = dict(keymap)
        self.automation = automation
        self.readonly = readonly
        self.arm_minutes = arm_minutes

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(
                Text("Keys — capital letters change trading, lower case only looks", "bold"),
                id="help-title",
            )
            with VerticalScroll(id="help-body"):
                yield Static(
                    help_table(
                        self.keymap,
                        readonly=self.readonly,
                        arm_minutes=self.arm_minutes,
                        automation=self.automation,
                    )
                )
            yield Static(
                "Esc, q or ? closes · every action needs a confirmation that opens on Cancel",
                id="help-hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
