"""One line of the panel table: the header or one row, as Textual's DataTable drew it.

The panels' table (:mod:`console.tui.panels.table`) must draw what DataTable drew, so the
screens do not change: each cell is ``Styled(Padding(cell, (0, padding)), pre, post)``
where ``pre`` is the row's style, the cell's ``{"row", "column"}`` meta and the cursor or
hover component style; the space right of the last column is filled in the row's
cursor/hover style with ``out_of_bounds`` meta; the line is cropped to the window, padded
to the widget's width and simplified. Body cells take the fast path of
:func:`~console.tui.panels.cell_line.cell_line`; anything else (the header's labels, an
odd cell) goes through Rich's generic render, as DataTable's did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.padding import Padding
from rich.protocol import rich_cast
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.widget import Widget

from console.tui.format import Cell, LazyCell
from console.tui.panels.cell_line import cell_line

if TYPE_CHECKING:
    from console.tui.panels.table import TableColumn

_NULL = Style.null()
_EMPTY = Text("", end="")


class LineStyles:
    """The component styles of a cell (cursor, hover, header), as DataTable combined
    them; cached until the widget's styles change."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self._cache: dict[tuple[bool, bool, bool], Style] = {}

    def clear(self) -> None:
        self._cache.clear()

    def component(self, header: bool, hover: bool, cursor: bool) -> Style:
        key = (header, hover, cursor)
        style = self._cache.get(key)
        if style is None:
            get = self.widget.get_component_rich_style
            style = Style()
            if hover:
                style += get("datatable--hover")
                if header:
                    style += get("datatable--header-hover")
            if cursor:
                style += get("datatable--cursor")
                if header:
                    style += get("datatable--header-cursor")
            self._cache[key] = style
        return style


def generic_cell(
    widget: Widget, cell: object, width: int, padding: int, pre: Style, post: Style
) -> list[Segment]:
    """The cell through Rich's layout (``Console.render_lines``), as DataTable did."""
    options = widget.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
    renderable = Styled(Padding(cell, (0, padding)), pre_style=pre, post_style=post)  # type: ignore[arg-type]
    return widget.app.console.render_lines(renderable, options)[0]


def _fill(width: int, used: int, style: Style, row: int) -> Segment:
    meta = Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
    return Segment(" " * max(0, width - used), style + meta)


def header_line(
    table: Widget, styles: LineStyles, padding: int, columns: Sequence[TableColumn], hover: bool
) -> list[Segment]:
    """The column labels, in the header's component style."""
    row_style = table.get_component_styles("datatable--header").rich_style
    component = styles.component(True, hover, False)
    segments: list[Segment] = []
    used = 0
    for index, column in enumerate(columns):
        width = column.width + 2 * padding
        pre = row_style + Style.from_meta({"row": -1, "column": index}) + component
        segments += generic_cell(table, column.label, width, padding, pre, _NULL)
        used += width
    segments.append(_fill(table.size.width, used, row_style + component, -1))
    return segments


def body_line(
    table: Widget,
    styles: LineStyles,
    padding: int,
    columns: Sequence[TableColumn],
    cells: Sequence[Cell | LazyCell],
    row: int,
    row_style: Style,
    cursor: bool,
    hover: bool,
) -> list[Segment]:
    """One row's cells, in the row's style and its cursor/hover component style."""
    component = styles.component(False, hover, cursor)
    console = table.app.console
    segments: list[Segment] = []
    used = 0
    for index, column in enumerate(columns):
        width = column.width + 2 * padding
        pre = row_style + Style.from_meta({"row": row, "column": index}) + component
        value = rich_cast(cells[index]) if index < len(cells) else _EMPTY
        line = (
            cell_line(console, value, width, padding, pre, _NULL)
            if isinstance(value, Cell)
            else None
        )
        segments += (
            line if line is not None else generic_cell(table, value, width, padding, pre, _NULL)
        )
        used += width
    segments.append(_fill(table.size.width, used, row_style + component, row))
    return segments


def crop_line(segments: list[Segment], start: int, width: int, base: Style) -> Strip:
    """The window's part of a line (``start`` cells in, ``width`` wide), padded to the
    width in ``base`` and simplified, as DataTable cropped its lines."""
    return (
        Strip(_crop(segments, start, start + width, width))
        .adjust_cell_length(width, base)
        .simplify()
    )


def _crop(segments: list[Segment], start: int, end: int, total: int) -> list[Segment]:
    """Segments between two cell offsets: the cut DataTable made (Textual's
    ``line_crop``, MIT licence, copied so as not to import a private module). ``total``
    is what DataTable passed: the widget's width, not the line's."""
    pos = 0
    output: list[Segment] = []
    iter_segments = iter(segments)
    segment: Segment | None = None
    for segment in iter_segments:
        end_pos = pos + cell_len(segment.text)
        if end_pos > start:
            segment = segment.split_cells(start - pos)[1]
            break
        pos = end_pos
    else:
        return []
    if end >= total:
        if segment:
            output.append(segment)
        output.extend(iter_segments)
        return output
    pos = start
    while segment is not None:
        end_pos = pos + cell_len(segment.text)
        if end_pos < end:
            output.append(segment)
        else:
            output.append(segment.split_cells(end - pos)[0])
            break
        pos = end_pos
        segment = next(iter_segments, None)
    return output
