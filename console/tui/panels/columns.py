"""Column definitions: how one attribute of a target becomes one table cell.

Panels declare their columns as data (key, label, width, renderer), so a panel file reads
like the list of what it shows. Widths are set by the panel, never measured by the table
(no per-update width recalculation), and the essential columns (selection mark, name,
status) always fit in 80 columns.

How a column takes room (``fit``): ``fixed`` keeps its width; ``number`` is as wide as
its widest value (never cut: :class:`Widest` keeps the extremes seen, so widening costs
one comparison per changed target); ``grow`` starts at its width and takes the room the
terminal has left, up to its widest text, in column order (names first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.style import Style

from console.core.model import AttrValue, State, Target
from console.core.store import KnownState
from console.tui.format import (
    HUGE_INT,
    Cell,
    Tones,
    as_number,
    fmt_short_age,
    fmt_value,
    state_word,
)


@dataclass(frozen=True, slots=True)
class RowContext:
    """What a renderer may use besides the target itself."""

    now: float
    state: State  # effective: UNKNOWN once the venue's data is stale
    stale: bool
    tones: Tones
    known: KnownState | None = None
    session_started: float = 0.0
    trend: Sequence[float] = ()  # the P&L trail (Store.pnl_history), oldest first
    down_age: float | None = None
    """Age of the data while the venue's feed is DOWN but not yet stale: the rows are as
    of then, and the state cell says so (dimmed, with the age)."""


Renderer = Callable[[Target, RowContext], Cell]
Fit = Literal["fixed", "number", "grow"]


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    render: Renderer
    ticking: bool = False  # depends on the clock (countdowns): refreshed every second
    text_of: Callable[[Target], str] | None = None
    """For a column whose cell is ``Cell(text_of(target))`` and nothing else: a table
    sorted on it gets each row's sort key and signature without building the cell (the
    6,000 rows of a first paint are sorted by name)."""
    fit: Fit = "fixed"
    measure: Callable[[Target], str] | None = None
    """``grow``: the text whose width the column would like (its widest is kept)."""
    attr: str = ""
    """``number``: the attribute shown, formatted with ``fmt`` after ``parse``."""
    fmt: Callable[[AttrValue], str] | None = None
    parse: Callable[[AttrValue], float | None] | None = None


def name_text(target: Target) -> str:
    return target.name


def name_cell(target: Target, ctx: RowContext) -> Cell:
    return Cell(name_text(target))


def name_column(label: str, width: int) -> Column:
    return Column("name", label, width, name_cell, text_of=name_text, fit="grow", measure=name_text)


DOWN_STYLE = Style(dim=True, italic=True)
STATE_KEYS = frozenset({"status", "state"})
"""Columns showing a target's state (widened while a venue is down, for the age mark)."""


def status_cell(target: Target, ctx: RowContext, words: str | None = None) -> Cell:
    """The vendor's word for the state, styled by the normalised state.

    Stale data reads UNKNOWN (what the console can vouch for), never the last word seen.
    While the venue's feed is down (not yet stale) the word is the last one seen, dimmed
    and followed by its age and ``?`` (``ACTIVE 7s?``): as of then, not now.
    """
    if ctx.stale:
        return Cell("UNKNOWN", ctx.tones.warn, sort=(9, "unknown"))
    text = (words or target.raw_status or state_word(ctx.state)).upper()
    if ctx.down_age is not None:
        aged = f"{text} {fmt_short_age(ctx.down_age)}?"
        return Cell(aged, ctx.tones.for_state(ctx.state) + DOWN_STYLE, sort=text)
    return Cell(text, ctx.tones.for_state(ctx.state), sort=text)


def attr(target: Target, name: str) -> AttrValue:
    return target.attrs.get(name)


def attr_cell(name: str, fmt: Callable[[AttrValue], str] = fmt_value) -> Renderer:
    """A plain cell showing ``attrs[name]`` formatted, sorting on the raw value."""

    def render(target: Target, ctx: RowContext) -> Cell:
        value = target.attrs.get(name)
        sort: object = value
        if isinstance(value, tuple):
            sort = ",".join(value)
        return Cell(fmt(value), sort=sort)

    return render


def number_cell(
    name: str, fmt: Callable[[AttrValue], str], parse: Callable[[AttrValue], float | None]
) -> Renderer:
    """A right-aligned number; sorts numerically even when the vendor sends strings."""

    def render(target: Target, ctx: RowContext) -> Cell:
        value = target.attrs.get(name)
        cell = Cell(fmt(value), sort=parse(value))
        cell.justify = "right"
        return cell

    return render


def fmt_whole(value: AttrValue) -> str:
    """A count as the venue sent it (compact past a quadrillion); nothing when unknown."""
    return "" if value is None else fmt_value(value)


def number_column(
    key: str,
    label: str,
    width: int,
    name: str,
    fmt: Callable[[AttrValue], str],
    parse: Callable[[AttrValue], float | None],
) -> Column:
    """A right-aligned number of ``attrs[name]``, as wide as its widest value."""
    return Column(
        key,
        label,
        width,
        number_cell(name, fmt, parse),
        fit="number",
        attr=name,
        fmt=fmt,
        parse=parse,
    )


def grow_column(
    key: str, label: str, width: int, render: Renderer, measure: Callable[[Target], str]
) -> Column:
    """A text column that takes spare room, up to its widest ``measure``."""
    return Column(key, label, width, render, fit="grow", measure=measure)


class Widest:
    """The widest value each ``number`` and ``grow`` column has seen.

    Numbers keep their lowest and highest value (the widest formatted one is one of the
    two), so a changed target costs a parse and two comparisons per number column, and
    the width is formatted only when an extreme moves. Widths never shrink: a column
    that narrows as a value drops would make the rows jump.
    """

    def __init__(self, columns: Sequence[Column]) -> None:
        self.numbers = [c for c in columns if c.fit == "number" and c.parse and c.fmt]
        self.grows = [c for c in columns if c.fit == "grow" and c.measure]
        self.low: dict[str, tuple[float, AttrValue]] = {}
        self.high: dict[str, tuple[float, AttrValue]] = {}
        self.widths: dict[str, int] = {}
        self.changed = False

    def see(self, targets: Iterable[Target]) -> None:
        """Widen for ``targets``. Column by column, with the column's functions bound
        once: a first paint sees 25,000 algorithms at ~50,000 targets, and this loop was
        a tenth of the console's CPU on the way to it."""
        seen = targets if isinstance(targets, list | tuple) else list(targets)
        for column in self.numbers:
            parse, fmt, name, key = column.parse, column.fmt, column.attr, column.key
            if parse is None or fmt is None:
                continue
            low, high = self.low.get(key), self.high.get(key)
            plain = parse is as_number  # a plain int or float: its float(), no isinstance
            for target in seen:
                raw = target.attrs.get(name)
                kind = type(raw)
                if plain and (kind is float or (kind is int and -HUGE_INT < raw < HUGE_INT)):  # type: ignore[operator]
                    value: float | None = float(raw)  # type: ignore[arg-type]
                else:
                    value = parse(raw)
                if value is None:
                    continue
                if low is None or value < low[0]:
                    low = self.low[key] = (value, raw)
                    self._widen(key, fmt(raw))
                if high is None or value > high[0]:
                    high = self.high[key] = (value, raw)
                    self._widen(key, fmt(raw))
        for column in self.grows:
            measure, key = column.measure, column.key
            if measure is None:
                continue
            for target in seen:
                text = measure(target)
                if 2 * len(text) > self.widths.get(key, 0):  # no text is wider than that
                    self._widen(key, text)

    def _widen(self, key: str, text: str) -> None:
        width = text_cells(text)
        if width > self.widths.get(key, 0):
            self.widths[key] = width
            self.changed = True

    def width(self, column: Column) -> int:
        return self.widths.get(column.key, 0)


_PRINTABLE_ASCII = dict.fromkeys(range(0x20, 0x7F))
"""For ``str.translate``: printable ASCII removed (each is one cell in rich)."""


def text_cells(text: str) -> int:
    """``rich.cells.cell_len(text)``, cheaper for text seen once (25,000 names in a
    first paint, each missing rich's cache): printable ASCII counts one cell a
    character, so only the rest is measured (rich sums its characters one by one, unless
    a zero-width joiner or variation selector joins some: then rich measures it all)."""
    if text.isascii() and text.isprintable():
        return len(text)
    rest = text.translate(_PRINTABLE_ASCII)
    if "\u200d" in rest or "\ufe0f" in rest:
        return cell_len(text)
    return len(text) - len(rest) + cell_len(rest)


def fit_widths(columns: Sequence[Column], widest: Widest, room: int, padding: int) -> list[int]:
    """Each column's width for a table ``room`` cells wide (``padding`` each side).

    Fixed columns keep their width; a number column is as wide as its label (with the
    sort arrow) and its widest value, never less; grow columns share what is left, in
    order, each up to its widest text. With no room left (80 columns) every grow column
    keeps its declared width and the table scrolls sideways as before.
    """
    widths = []
    for column in columns:
        width = column.width
        if column.fit == "number":
            width = max(width, cell_len(column.label) + 2, widest.width(column))
        widths.append(width)
    spare = room - sum(widths) - 2 * padding * len(columns)
    for index, column in enumerate(columns):
        if spare <= 0:
            break
        if column.fit == "grow":
            more = min(spare, max(0, widest.width(column) - widths[index]))
            widths[index] += more
            spare -= more
    return widths


def _mark(target: Target, ctx: RowContext) -> Cell:
    return Cell(" ")


SELECT = Column("sel", " ", 1, _mark)
"""First column of every panel: ● on selected rows (a glyph, not a colour)."""
