"""A target's P&L trail as a sparkline: the Trend column and the detail pane's trend line.

The trail is the store's (``Store.pnl_history``: the last distinct P&L values, at most
one a second), handed to renderers in ``RowContext.trend``; the bars are the event-rate
sparkline's (:func:`~console.tui.format.sparkline`), scaled from the lowest value shown
to the highest. A row redraws only when its target changed, and the trail changes only
with the P&L, so the column costs nothing between changes.

Readable without colour: the bars carry the shape and an arrow the sign of the latest
change (``▲`` up, ``▼`` down), which the bars alone may round away. Colour is the third
signal: the theme's success colour for up, error for down (never reverse video: a
falling P&L is not a halted target), dimmed once the venue's data is stale. Fewer than
two samples draw nothing: one value is no trend, and a flat line would claim one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from console.core.model import Target
from console.tui.format import Cell, Tones, fmt_money, sparkline
from console.tui.panels.columns import Column, RowContext

TREND_BARS = 12
"""Bars in a table cell: the newest samples (the detail pane shows the whole trail)."""

UP, DOWN = "▲", "▼"


def latest_change(trail: Sequence[float]) -> float | None:
    """The newest sample minus the one before; None below two samples."""
    return trail[-1] - trail[-2] if len(trail) >= 2 else None


def _style(change: float, tones: Tones, stale: bool) -> Style:
    if stale:
        return tones.muted
    return tones.gain if change > 0 else tones.loss


def trend_bars(trail: Sequence[float], bars: int) -> str:
    """``▁▃▅▇▆ ▼``: the newest ``bars`` samples and the sign of the latest change."""
    change = latest_change(trail)
    if change is None:
        return ""
    return f"{sparkline(trail[-bars:], floor=None)} {UP if change > 0 else DOWN}"


def trend_cell(target: Target, ctx: RowContext) -> Cell:
    """The Trend column; sorts by the latest change (the steepest fall first)."""
    change = latest_change(ctx.trend)
    if change is None:
        return Cell("", sort=None)
    cell = Cell(trend_bars(ctx.trend, TREND_BARS), _style(change, ctx.tones, ctx.stale), change)
    cell.justify = "right"  # the newest sample at the same place on every row
    return cell


TREND = Column("trend", "Trend", TREND_BARS + 2, trend_cell)
"""Last in the row: not essential, so it is what an 80-column screen cuts first."""


def trend_text(ctx: RowContext) -> Text:
    """The detail pane's line: every sample, the latest change, the range the bars span.

    ``P&L trend ▁▂▄▃▅▇█ ▲ +24.50 · low 880.00 · high 1,234.50``
    """
    trail = ctx.trend
    change = latest_change(trail)
    if change is None:
        return Text("")
    text = Text("P&L trend ")
    bars = f"{trend_bars(trail, len(trail))} {change:+,.2f}"
    text.append(bars, _style(change, ctx.tones, ctx.stale))
    text.append(f" · low {fmt_money(min(trail))} · high {fmt_money(max(trail))}")
    return text


def with_trend(detail: Text, ctx: RowContext) -> Text:
    """A detail text with the trend on a line of its own (after everything else, so the
    two-row detail line of a narrow screen cuts it first; the pane shows it whole)."""
    trend = trend_text(ctx)
    if trend.plain:
        detail.append("\n")
        detail.append_text(trend)
    return detail
