"""The keyed table inside every panel: a DataTable with vim moves and row selection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Self, TypeVar

from rich.protocol import rich_cast
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual._two_way_dict import TwoWayDict
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets._data_table import Row
from textual.widgets.data_table import ColumnKey, RowKey

from console.tui.format import Cell, LazyCell
from console.tui.keymap import TABLE_BINDINGS
from console.tui.panels.cell_line import cell_line

K = TypeVar("K")
V = TypeVar("V")


def _drop(cache: LRUCache[K, V], stale: Callable[[K], bool]) -> None:
    for key in [k for k in cache.keys() if stale(k)]:  # noqa: SIM118 (LRUCache: no __iter__)
        cache.discard(key)


class TargetTable(DataTable[object]):
    """Rows keyed by target (``venue/id``); the cursor is a whole row."""

    BINDINGS: ClassVar[list[BindingType]] = list(TABLE_BINDINGS)

    class ToggleSelect(Message):
        """Space on a row: the panel owns the selection, so it decides."""

    class Resized(Message):
        """The table's size changed: the panel fits its columns to the new room."""

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())

    def refit(self) -> None:
        """Column widths were changed by the panel: drop every cached render (rare: a
        resize, a wider value, a feed going down) and re-size the scrollable area."""
        self._clear_caches()
        self._update_count += 1
        self._require_update_dimensions = True
        self.check_idle()
        self.refresh()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            cursor_type="row",
            zebra_stripes=False,
            cursor_foreground_priority="renderable",
        )
        self._changed_rows: set[RowKey] = set()

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

    def set_cell(self, key: str, column: str, value: Cell | LazyCell) -> None:
        """``update_cell`` without throwing away the whole table's caches.

        DataTable's ``update_cell`` bumps a counter that keys every cache, the y-offsets
        of all rows included, so at 10,000 rows each repaint after a change costs
        O(rows) and re-renders every visible cell. A new value in a fixed-width cell
        moves nothing: :meth:`repaint` drops the rendered lines of the changed rows only.
        """
        row = RowKey(key)
        self._data[row][ColumnKey(column)] = value
        self._changed_rows.add(row)

    def repaint(self) -> None:
        """Re-render the rows :meth:`set_cell` touched (once per tick, not per cell).

        Cached renders of every changed row are dropped (a row scrolled to later must not
        show an old value); only the changed rows inside the window are redrawn now. A
        busy venue changes thousands of rows a second: the fifty on screen are the cost.
        """
        changed, self._changed_rows = self._changed_rows, set()
        if not changed:
            return
        indices = {self._row_locations.get(row) for row in changed} - {None}
        header = self.header_height if self.show_header else 0
        lines = {index + header for index in indices if index is not None}
        _drop(self._cell_render_cache, lambda k: k[0] in changed)
        _drop(self._row_render_cache, lambda k: k[0] in changed)
        _drop(self._row_renderable_cache, lambda k: k[1] in indices)
        _drop(self._line_cache, lambda k: k[0] in lines)
        # DataTable.refresh_row sums the heights of every row above (O(index) each); rows
        # here are one line high, so a changed row's region is known outright.
        window = self.window_region
        top, bottom = window.y, window.bottom
        width = max(self.size.width, self.virtual_size.width)
        for line in lines:
            if top <= line < bottom:
                self._refresh_region(Region(0, line, width, 1))

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's ``_render_cell`` with a fast path for a :class:`Cell` on a one-line
        row (every body cell here): :func:`cell_line` builds the same segments without
        Rich's layout machinery, under DataTable's own cache key. Headers, labels and any
        other renderable go the generic way."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header row, or row labels
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        cell = rich_cast(cells[column_index]) if column_index < len(cells) else None
        line = None
        if isinstance(cell, Cell) and row is not None and row.height == 1:
            fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
            component_style, post_style = self._get_styles_to_render_cell(
                False,
                False,
                fixed,
                hover,
                cursor,
                self.show_cursor,
                self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )
            pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
            line = cell_line(
                self.app.console, cell, width, self.cell_padding, pre + component_style, post_style
            )
        if line is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        lines = [line]
        self._cell_render_cache[cache_key] = lines
        return lines

    def add_rows_keyed(self, rows: Sequence[tuple[str, Sequence[Cell | LazyCell]]]) -> None:
        """``add_row`` for many keyed rows at once, into an empty or growing table.

        DataTable's ``add_row`` re-assigns the cursor (a reactive with watchers) and
        checks for idle on every row: a third of a 10,000-row first paint. This does
        the same bookkeeping once for the whole batch. Keys must be new.
        """
        columns = [column.key for column in self.ordered_columns]
        start = self.row_count
        for offset, (key, cells) in enumerate(rows):
            row_key = RowKey(key)
            self._row_locations[row_key] = start + offset
            self._data[row_key] = dict(zip(columns, cells, strict=False))
            self.rows[row_key] = Row(row_key, 1)
            self._new_rows.add(row_key)
        if not rows:
            return
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        if start == 0 and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Every column here has a fixed width and every row one line: nothing to measure.

        DataTable measures each new cell to size auto-width columns — 90,000
        measurements (over a second) for a 10,000-row first paint — before it sets the
        scrollable size, which is all that is left to do here.
        """
        header = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(width, self._total_row_height + header)

    def sort(
        self,
        *columns: ColumnKey | str,
        key: Callable[[Any], Any] | None = None,
        reverse: bool = False,
    ) -> Self:
        """DataTable's sort, except that an order that did not change changes nothing.

        DataTable's bumps the counter that keys every render cache, so each re-sort
        re-renders every visible row; a row's sort value can move without moving it
        (a name sort where a name changed in place, a status that stays in its group).
        """
        if len(columns) != 1:
            return super().sort(*columns, key=key, reverse=reverse)
        column = ColumnKey(columns[0]) if isinstance(columns[0], str) else columns[0]

        def value(item: tuple[RowKey, dict[ColumnKey, object]]) -> Any:
            cell = item[1][column]
            return cell if key is None else key(cell)

        ordered = [row for row, _ in sorted(self._data.items(), key=value, reverse=reverse)]
        locations = self._row_locations
        if len(locations) == len(ordered) and all(
            locations.get(row) == index for index, row in enumerate(ordered)
        ):
            return self
        self._row_locations = TwoWayDict({row: index for index, row in enumerate(ordered)})
        self._update_count += 1
        self.refresh()
        return self

    def move_to_key(self, key: str | None) -> None:
        """Put the cursor back on ``key`` after rows moved (sort, insert, remove)."""
        if key is None or key not in self.rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False)
