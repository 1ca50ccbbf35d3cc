"""Column definitions: how one attribute of a target becomes one table cell.

Panels declare their columns as data (key, label, width, renderer), so a panel file reads
like the list of what it shows. Widths are fixed: no per-update width recalculation, and
the essential columns (selection mark, name, status) always fit in 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from console.core.model import AttrValue, State, Target
from console.core.store import KnownState
from console.tui.format import Cell, Tones, fmt_value, state_word


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


Renderer = Callable[[Target, RowContext], Cell]


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


def name_text(target: Target) -> str:
    return target.name


def name_cell(target: Target, ctx: RowContext) -> Cell:
    return Cell(name_text(target))


def name_column(label: str, width: int) -> Column:
    return Column("name", label, width, name_cell, text_of=name_text)


def status_cell(target: Target, ctx: RowContext, words: str | None = None) -> Cell:
    """The vendor's word for the state, styled by the normalised state.

    Stale data reads UNKNOWN (what the console can vouch for), never the last word seen.
    """
    if ctx.stale:
        return Cell("UNKNOWN", ctx.tones.warn, sort=(9, "unknown"))
    text = (words or target.raw_status or state_word(ctx.state)).upper()
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


def _mark(target: Target, ctx: RowContext) -> Cell:
    return Cell(" ")


SELECT = Column("sel", " ", 1, _mark)
"""First column of every panel: ● on selected rows (a glyph, not a colour)."""
