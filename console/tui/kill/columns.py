"""Columns with priorities: at any width the essential ones show, the others give way first.

The kill report and the audit screen are tables of one row per call; what matters at
3 a.m. is which target, what was asked and what came of it. Each column has a priority
(0: essential, always shown; higher numbers give way first) and the narrowest width it
is still useful at. :func:`fit` decides, for the width the table has, which columns show
and how wide: the others shrink to their narrowest first, then hide (the least needed
first), and only then do the essential ones shrink, never below their narrowest. Room
left over goes back to the shrunk columns, essential ones first. Only the last column
shown may be wider than the room left (the table scrolls right for it, nothing else).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

PADDING = 2
"""Cells a DataTable adds to every column (its ``cell_padding`` of 1 on each side)."""


@dataclass(frozen=True, slots=True)
class Col:
    label: str
    priority: int = 0
    """0: essential, always shown; the highest number hides first."""
    min_width: int = 4
    max_width: int | None = None
    """The widest it gets, however long its content (None: its content's width)."""

    @property
    def essential(self) -> bool:
        return self.priority == 0


def cell_width(cell: Text | str) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def natural_widths(cols: Sequence[Col], rows: Iterable[Sequence[Text | str]]) -> list[int]:
    """Each column's content width (its label included), capped at its ``max_width``."""
    widths = [cell_len(c.label) for c in cols]
    for cells in rows:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], cell_width(cell))
    return [
        w if c.max_width is None else min(w, c.max_width) for c, w in zip(cols, widths, strict=True)
    ]


def fit(cols: Sequence[Col], natural: Sequence[int], width: int) -> list[int | None]:
    """The width of each column for a table ``width`` cells wide; None where hidden."""
    widths = list(natural)
    shown = [True] * len(cols)

    def excess() -> int:
        return sum(w + PADDING for w, s in zip(widths, shown, strict=True) if s) - width

    def floor(i: int) -> int:
        return min(cols[i].min_width, natural[i])

    optional = sorted((i for i, c in enumerate(cols) if not c.essential),
                      key=lambda i: -cols[i].priority)  # fmt: skip
    last = max((i for i in range(len(cols))), default=-1)
    # The last column may run off the right edge: it needs only its narrowest to show.
    if last >= 0:
        widths[last] = floor(last)
    for i in optional:  # 1. the others shrink to their narrowest
        widths[i] -= max(0, min(excess(), widths[i] - floor(i)))
    for i in optional:  # 2. then hide, the least needed first
        if excess() <= 0:
            break
        shown[i] = False
    essential = sorted((i for i, c in enumerate(cols) if c.essential),
                       key=lambda i: -(widths[i] - floor(i)))  # fmt: skip
    for i in essential:  # 3. only then the essential ones shrink
        widths[i] -= max(0, min(excess(), widths[i] - floor(i)))
    room = -excess()  # 4. room left goes back, essential columns first, in order
    for i in sorted(range(len(cols)), key=lambda i: (cols[i].priority, i)):
        if shown[i] and room > 0 and i != last:
            grow = min(room, natural[i] - widths[i])
            widths[i] += grow
            room -= grow
    if last >= 0 and shown[last]:
        widths[last] = natural[last]  # its own content; the table scrolls right for it
    return [w if s else None for w, s in zip(widths, shown, strict=True)]
