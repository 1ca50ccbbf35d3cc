"""The keyed table inside every panel, drawn line by line from its rows.

A :class:`~textual.scroll_view.ScrollView` on Textual's public Line API: ``render_line``
builds only the lines in the window, from the row under each line, so a 50,000-row
panel costs what its fifty visible rows cost. Every row is one line, every column has the
width its panel gave it (:func:`~console.tui.panels.columns.fit_widths`): nothing is ever
measured, and a row's position is its index in one list.

It draws what Textual's ``DataTable`` drew for the same rows (the panels used one until
issue 13), segment for segment, so the screens are unchanged: the same component classes
(``datatable--cursor``, ``datatable--header``…) and default CSS, the same cell padding,
styles and per-cell ``row``/``column`` meta, the same fill to the right of the last
column. :mod:`console.tui.panels.table_line` holds how one line is built.
"""

from __future__ import annotations

from collections.abc import Callable, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tui.format import Cell, LazyCell
from console.tui.keymap import TABLE_BINDINGS
from console.tui.panels.table_line import LineStyles, body_line, crop_line, header_line

TableCell = Cell | LazyCell


class HandedRow(MutableSequence[TableCell]):
    """A row's cells handed over to the table, which keeps them as they are (any other
    sequence of cells is copied): a row model whose cells are made on first use (a
    50,000-row first paint draws about fifty rows) gives the table such a row."""

    __slots__ = ()


@dataclass(slots=True)
class TableColumn:
    """One column: its key, its header label and its width (padding not included)."""

    key: str
    label: Text
    width: int


class TargetTable(ScrollView, can_focus=True):
    """Rows keyed by target (``venue/id``); the cursor is a whole row."""

    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [
        # DataTable's keys (what the panels had), then the console's own.
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("right", "cursor_right", "Cursor right", show=False),
        Binding("left", "cursor_left", "Cursor left", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+home", "scroll_top", "Top", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom", show=False),
        *TABLE_BINDINGS,
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--cursor",
        "datatable--hover",
        "datatable--fixed",
        "datatable--fixed-cursor",
        "datatable--header",
        "datatable--header-cursor",
        "datatable--header-hover",
        "datatable--odd-row",
        "datatable--even-row",
    }
    DEFAULT_CSS = """
    TargetTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .datatable--header-hover {
            background: $accent 30%;
        }
        & > .datatable--hover {
            background: $block-hover-background;
        }
    }
    """
    HEADER = 1
    """Lines of the header (the column labels), always shown."""
    CACHED_LINES = 2000

    class Resized(Message):
        """The table's size changed: the panel fits its columns to the new room."""

    class RowHighlighted(Message):
        """The cursor moved to another row (or rows appeared under it)."""

        def __init__(self, table: TargetTable, cursor_row: int, key: str | None) -> None:
            super().__init__()
            self.table, self.cursor_row, self.key = table, cursor_row, key

        @property
        def control(self) -> TargetTable:
            return self.table

    def __init__(
        self, *, id: str | None = None, on_toggle: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(id=id)
        self._on_toggle = on_toggle
        """Space: the panel owns the selection, so it toggles the row's key (a call, not a
        message: see :meth:`action_toggle_select`)."""
        self.cell_padding = 1
        self.columns: dict[str, TableColumn] = {}
        self._positions: dict[str, int] = {}  # column key: its index in each row's cells
        self._order: list[str] = []  # row keys, top to bottom
        self._index: dict[str, int] = {}
        self._cells: dict[str, MutableSequence[TableCell]] = {}
        self._cursor = 0
        self._hover = 0
        self._hover_shown = False
        self._generation = 0  # bumped when every cached line is stale (widths, styles)
        self._lines: dict[str, tuple[tuple[object, ...], Strip]] = {}
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._changed: set[str] = set()
        self._styles = LineStyles(self)
        self.reorders = 0
        """How many times :meth:`sort` moved rows (a re-sort that moves nothing is free)."""

    # ----- what the panel reads -------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        """The row key under the cursor (what an action key would hit), if any."""
        if not self._order:
            return None
        return self._order[min(self._cursor, len(self._order) - 1)]

    def ordered_keys(self) -> list[str]:
        """Row keys, top to bottom."""
        return list(self._order)

    def key_at(self, index: int) -> str:
        return self._order[index]

    def has_row(self, key: str) -> bool:
        return key in self._index

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_row_at(self, index: int) -> list[TableCell]:
        return list(self._cells[self._order[index]])

    def get_cell(self, key: str, column: str) -> TableCell:
        return self._cells[key][self._column_index(column)]

    def keys_in_window(self) -> list[str]:
        """Row keys of the rows in the table's window (and the one just below)."""
        top = int(self.scroll_y)
        return self._order[top : top + self.size.height + 1]

    # ----- columns --------------------------------------------------------------------
    def add_column(self, label: Text, *, width: int, key: str) -> None:
        self._positions[key] = len(self.columns)
        self.columns[key] = TableColumn(key, label, width)
        for cells in self._cells.values():
            cells.append(Cell(""))
        self.refit()

    def set_label(self, key: str, label: Text) -> None:
        self.columns[key].label = label
        self._header = None
        self.refresh_lines(0, self.HEADER)

    def _column_index(self, column: str) -> int:
        return self._positions[column]

    def refit(self) -> None:
        """Column widths were changed by the panel: every cached line is stale (rare: a
        resize, a wider value, a feed going down) and the scrollable width moves."""
        self._invalidate()
        self._resize_virtual()
        self.refresh()

    def _invalidate(self) -> None:
        self._generation += 1
        self._lines.clear()
        self._header = None

    def _resize_virtual(self) -> None:
        pad = 2 * self.cell_padding
        width = sum(column.width + pad for column in self.columns.values())
        self.virtual_size = Size(width, len(self._order) + self.HEADER)

    # ----- rows -----------------------------------------------------------------------
    def add_row(self, *cells: TableCell, key: str) -> None:
        """One row at the bottom (the panel sorts afterwards)."""
        self.add_rows_keyed([(key, cells)])

    def add_rows_keyed(self, rows: Sequence[tuple[str, Sequence[TableCell]]]) -> None:
        """Many keyed rows at the bottom at once; keys must be new."""
        if not rows:
            return
        first = not self._order
        index, order, table = self._index, self._order, self._cells
        for key, cells in rows:
            index[key] = len(order)
            order.append(key)
            table[key] = cells if isinstance(cells, HandedRow) else list(cells)
        self._resize_virtual()
        self.refresh()
        if first:
            self._highlight()

    def remove_row(self, key: str) -> None:
        index = self._index.pop(key)
        del self._order[index]
        del self._cells[key]
        self._lines.pop(key, None)
        for position in range(index, len(self._order)):
            self._index[self._order[position]] = position
        self._cursor = self._clamped(self._cursor)
        self._resize_virtual()
        self.refresh()

    def clear(self) -> None:
        self._order, self._index, self._cells = [], {}, {}
        self._lines.clear()
        self._changed.clear()
        moved = self._cursor != 0
        self._cursor = 0
        self._hover = 0
        self._resize_virtual()
        self.refresh()
        self.scroll_to(0, 0, animate=False, immediate=True)
        if moved:
            self._highlight()

    def set_cell(self, key: str, column: str, value: TableCell) -> None:
        """A new value in one cell; redrawn by :meth:`repaint` (once per tick)."""
        self._cells[key][self._column_index(column)] = value
        self._changed.add(key)

    def set_row(self, key: str, cells: Sequence[TableCell]) -> None:
        """New values in every cell of one row; redrawn by :meth:`repaint`."""
        self._cells[key] = cells if isinstance(cells, HandedRow) else list(cells)
        self._changed.add(key)

    def repaint(self) -> None:
        """Redraw the rows :meth:`set_cell` touched: their cached lines are dropped (a row
        scrolled to later must not show an old value); only those in the window are
        refreshed now."""
        changed, self._changed = self._changed, set()
        top = int(self.scroll_y)
        bottom = top + self.size.height
        for key in changed:
            self._lines.pop(key, None)
            index = self._index.get(key)
            if index is not None and top <= index < bottom:
                self.refresh_line(index + self.HEADER)

    def sort(
        self, column: str, *, key: Callable[[Any], Any] | None = None, reverse: bool = False
    ) -> None:
        """Order the rows on one column's cells (``key`` of each); an order that did not
        change changes nothing (no redraw)."""
        at = self._column_index(column)
        cells = self._cells

        def value(row: str) -> Any:
            cell = cells[row][at]
            return cell if key is None else key(cell)

        ordered = sorted(self._order, key=value, reverse=reverse)
        if ordered == self._order:
            return
        self._order = ordered
        self._index = {row: index for index, row in enumerate(ordered)}
        self.reorders += 1
        self.refresh()

    # ----- the cursor -----------------------------------------------------------------
    def _clamped(self, row: int) -> int:
        return max(0, min(row, len(self._order) - 1))

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        row = self._clamped(row)
        if scroll:
            self._scroll_cursor_into_view(row, animate=animate)
        if row != self._cursor:
            old, self._cursor = self._cursor, row
            self.refresh_line(old + self.HEADER)
            self.refresh_line(row + self.HEADER)
            self._scroll_cursor_into_view(row)
            self._highlight()

    def move_to_key(self, key: str | None) -> None:
        """Put the cursor back on ``key`` after rows moved (sort, insert, remove)."""
        if key is None or key not in self._index:
            return
        index = self._index[key]
        if index != self._cursor:
            self.move_cursor(row=index, animate=False)

    def _highlight(self) -> None:
        self.refresh_line(self._cursor + self.HEADER)
        if self._order:
            self.post_message(self.RowHighlighted(self, self._cursor, self.cursor_key))

    def _scroll_cursor_into_view(self, row: int, *, animate: bool = False) -> None:
        if not self._order:
            return
        width = max(self.size.width, self.virtual_size.width)
        region = Region(int(self.scroll_x), row + self.HEADER, width, 1)
        spacing = Spacing(self.HEADER, 0, 0, 0)
        self.scroll_to_region(region, animate=animate, spacing=spacing, force=True)

    def action_cursor_up(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=self._cursor + 1)

    def action_cursor_left(self) -> None:
        self._show_hover(False)
        self.action_scroll_left()

    def action_cursor_right(self) -> None:
        self._show_hover(False)
        self.action_scroll_right()

    def action_page_down(self) -> None:
        self._show_hover(False)
        height = self.scrollable_content_region.height - self.HEADER
        rows = min(height + 1, len(self._order) - self._cursor)
        self.scroll_relative(y=height, animate=False, force=True)
        self.move_cursor(row=self._cursor + rows - 1, scroll=False)

    def action_page_up(self) -> None:
        self._show_hover(False)
        height = self.scrollable_content_region.height - self.HEADER
        rows = min(height + 1, self._cursor + 1)
        self.scroll_relative(y=-height, animate=False)
        self.move_cursor(row=self._cursor - rows + 1, scroll=False)

    def action_scroll_top(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self._show_hover(False)
        self.move_cursor(row=len(self._order) - 1)

    def action_toggle_select(self) -> None:
        """Space: toggle the row under the cursor *now*, then move down. Now, not in the
        handler of a message: keys that came in the same burst (``" j "`` from tmux, a
        fast typist) run their actions before a posted message is handled, so a handler
        reading the cursor would toggle the row a queued ``j`` moved to, and an ``X``
        typed after the burst would plan a selection not yet made."""
        key = self.cursor_key
        if key is None:
            return
        if self._on_toggle is not None:
            self._on_toggle(key)
        self.action_cursor_down()

    # ----- the mouse ------------------------------------------------------------------
    def _show_hover(self, shown: bool) -> None:
        if shown != self._hover_shown:
            self._hover_shown = shown
            self.refresh_line(self._hover + self.HEADER)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        meta = event.style.meta
        self._show_hover(bool(meta))
        if "row" in meta:
            row = int(meta["row"])
            if row != self._hover:
                old, self._hover = self._hover, row
                self.refresh_line(old + self.HEADER)
                self.refresh_line(row + self.HEADER)

    def on_leave(self, event: events.Leave) -> None:
        self._show_hover(False)

    def on_click(self, event: events.Click) -> None:
        self._show_hover(True)
        row = event.style.meta.get("row")
        if row is None or int(row) < 0:
            return  # the header: the panels sort by key, not by click
        event.stop()
        self.move_cursor(row=int(row), animate=True)

    # ----- drawing --------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._invalidate()
        self.post_message(self.Resized())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._invalidate()
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        hover = self._hover if self._hover_shown else None
        state = (self._generation, base, self.get_pseudo_class_state(), width, scroll_x)
        if y < self.HEADER:
            key: tuple[object, ...] = (*state, hover == -1)
            if self._header is None or self._header[0] != key:
                columns = list(self.columns.values())
                line = header_line(self, self._styles, self.cell_padding, columns, hover == -1)
                self._header = (key, crop_line(line, scroll_x, width, base))
            return self._header[1]
        index = y + scroll_y - self.HEADER
        if index >= len(self._order):
            return Strip.blank(width, base)
        row = self._order[index]
        cursor, hovered = index == self._cursor, hover == index
        key = (*state, index, cursor, hovered)
        cached = self._lines.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        if len(self._lines) > self.CACHED_LINES:
            self._lines.clear()
        columns = list(self.columns.values())
        cells = self._cells[row]
        line = body_line(
            self, self._styles, self.cell_padding, columns, cells, index, base, cursor, hovered
        )
        strip = crop_line(line, scroll_x, width, base)
        self._lines[row] = (key, strip)
        return strip
