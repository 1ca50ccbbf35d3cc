"""Deployed strategies (PipAI): open positions and P&L next to the name.

Pausing a strategy may or may not close its positions (a modal switch decides), so the
open-position count is the second thing on the row.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from console.core.model import ActionKind, AttrValue, Target, TargetKind
from console.tui.format import as_number, fmt_list, fmt_money, fmt_pct
from console.tui.panels.base import TargetPanel
from console.tui.panels.columns import (
    SELECT,
    Column,
    RowContext,
    attr_cell,
    fmt_whole,
    grow_column,
    name_column,
    number_column,
    status_cell,
)
from console.tui.panels.trend import TREND, with_trend


def _win(value: AttrValue) -> str:
    return fmt_pct(value, fraction=True)


def _text(name: str) -> Callable[[Target], str]:
    def measure(target: Target) -> str:
        return fmt_list(target.attrs.get(name))

    return measure


class StrategiesPanel(TargetPanel):
    KIND = TargetKind.STRATEGY
    TITLE = "Deployed strategies"
    SHORT = "Strategies"
    ACTIONS = (ActionKind.PAUSE, ActionKind.RESUME)

    def build_columns(self) -> list[Column]:
        return [
            SELECT,
            name_column("Name", 14),
            Column("status", "Status", 8, status_cell),
            number_column("positions", "Pos", 4, "open_positions", fmt_whole, as_number),
            number_column("pnl", "P&L", 10, "pnl", fmt_money, as_number),
            number_column("capital", "Capital", 10, "capital", fmt_money, as_number),
            number_column("leverage", "Lev", 3, "leverage", fmt_whole, as_number),
            number_column("win_rate", "Win%", 6, "win_rate", _win, as_number),
            grow_column("template", "Template", 12, attr_cell("template"), _text("template")),
            grow_column("symbols", "Symbols", 14, attr_cell("symbols", fmt_list), _text("symbols")),
            TREND,
        ]

    def detail(self, target: Target, ctx: RowContext) -> Text:
        attrs = target.attrs
        text = Text()
        text.append(f"{target.name}: ", "bold")
        text.append_text(status_cell(target, ctx))
        text.append(f" · {attrs.get('open_positions', '?')} open positions")
        text.append(
            f" · P&L {fmt_money(attrs.get('pnl'))} · capital {fmt_money(attrs.get('capital'))}"
        )
        text.append(f" x{attrs.get('leverage', '?')} · {attrs.get('template') or ''}")
        text.append(f" · {fmt_list(attrs.get('symbols'))} {attrs.get('timeframe') or ''}")
        text.append(f" · {attrs.get('trades', '?')} trades · id {target.id}")
        return with_trend(text, ctx)
