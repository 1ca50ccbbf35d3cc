"""The keyed table inside every panel: a DataTable with vim moves and row selection."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable

from console.tui.keymap import TABLE_BINDINGS


class TargetTable(DataTable[object]):
    """Rows keyed by target (``venue/id``); the cursor is a whole row."""

    BINDINGS: ClassVar[list[BindingType]] = list(TABLE_BINDINGS)

    class ToggleSelect(Message):
        """Space on a row: the panel owns the selection, so it decides."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            cursor_type="row",
            zebra_stripes=False,
            cursor_foreground_priority="renderable",
        )

    def action_toggle_select(self) -> None:
        self.post_message(self.ToggleSelect())

    @property
    def cursor_key(self) -> str | None:
        """The row key under the cursor (what an action key would hit), if any."""
        if self.row_count == 0:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        key = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return key

    def move_to_key(self, key: str | None) -> None:
        """Put the cursor back on ``key`` after rows moved (sort, insert, remove)."""
        if key is None or key not in self.rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)
