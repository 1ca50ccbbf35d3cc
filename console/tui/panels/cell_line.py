"""One table cell rendered to its one line of segments, without Rich's layout machinery.

DataTable renders every cell as ``Styled(Padding(cell, (0, pad)), pre, post)`` through
``Console.render_lines``: a generic path (measure, wrap, split, crop, pad, re-style)
that costs about 0.15 ms a cell, 60 ms for the first paint of a 200×60 screen, and a
tenth of the loop's time while a busy venue changes the rows on screen. A cell here is
always one :class:`~console.tui.format.Cell` on a one-line row (no wrap, ellipsis on
overflow, no newline, no tab), for which the result is fixed: left padding, the text's
own segments (justified as Rich justifies one line, truncated with an ellipsis when too
long), spaces up to the width, right padding, each segment styled ``pre + own style +
post``. :func:`cell_line` builds
exactly that list, segment for segment, or returns None for anything else, which the
caller renders the generic way. ``tests/tui/test_cell_line.py`` compares the two for
every kind of cell the panels make and several odd ones.
"""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

_NULL = Style.null()
_JOIN = Text("\n")


def cell_line(
    console: Console, cell: Text, width: int, padding: int, pre: Style, post: Style
) -> list[Segment] | None:
    """The line ``Styled(Padding(cell, (0, padding)), pre, post)`` renders at ``width``,
    for a one-line no-wrap ``cell``; None when the cell is not that simple."""
    inner = width - 2 * padding
    plain = cell.plain
    if inner < 1 or "\n" in plain or "\t" in plain or not cell.no_wrap:
        return None
    overflow = cell.overflow or "fold"
    justify = cell.justify or "default"
    text = cell
    if justify == "right" or justify == "center":  # what rich's Lines.justify does
        text = cell.copy()
        text.rstrip()
        text.truncate(inner, overflow=overflow)
        if justify == "center":
            text.pad_left((inner - text.cell_len) // 2)
            text.pad_right(inner - text.cell_len)
        else:
            text.pad_left(inner - text.cell_len)
    elif justify == "left":
        text = cell.copy()
        text.truncate(inner, overflow=overflow, pad=True)
    elif cell.cell_len > inner:  # "default", and "full" (a no-op on a single line)
        text = cell.copy()
        text.truncate(inner, overflow=overflow)
    # Rich renders a Text's lines joined: the join turns the base style into a span,
    # without which ``render`` would drop it.
    segments = list(_JOIN.join((text,)).render(console, end=""))
    line = Segment.adjust_line_length(segments, inner, _NULL)
    if padding:
        blank = Segment(" " * padding, _NULL)
        line = [blank, *line, blank]
    return list(Segment.apply_style(line, pre, post))
