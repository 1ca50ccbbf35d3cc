"""Running algorithms (x3algo): performance first, so the 80-column view keeps it."""

from __future__ import annotations

from rich.text import Text

from console.core.model import ActionKind, Target, TargetKind
from console.tui.format import (
    Cell,
    as_number,
    fmt_clock,
    fmt_list,
    fmt_money,
    fmt_pct,
    parse_iso,
)
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


def _symbols(target: Target) -> str:
    return fmt_list(target.attrs.get("symbols"))


def _updated(target: Target, ctx: RowContext) -> Cell:
    at = parse_iso(target.attrs.get("updated_at"))
    return Cell(fmt_clock(at) if at else "", sort=at)


class AlgorithmsPanel(TargetPanel):
    KIND = TargetKind.ALGORITHM
    TITLE = "Running algorithms"
    SHORT = "Algos"
    ACTIONS = (ActionKind.STOP, ActionKind.START)

    def build_columns(self) -> list[Column]:
        return [
            SELECT,
            name_column("Name", 16),
            Column("status", "Status", 8, status_cell),
            number_column("profit", "Profit", 10, "profit", fmt_money, as_number),
            number_column("win_rate", "Win%", 6, "win_rate", fmt_pct, as_number),
            number_column("trades", "Trades", 6, "trades", fmt_whole, as_number),
            grow_column("symbols", "Symbols", 14, attr_cell("symbols", fmt_list), _symbols),
            Column("timeframe", "TF", 4, attr_cell("timeframe")),
            Column("updated", "Updated", 9, _updated),
            TREND,
        ]

    def detail(self, target: Target, ctx: RowContext) -> Text:
        attrs = target.attrs
        text = Text()
        text.append(f"{target.name}: ", "bold")
        text.append_text(status_cell(target, ctx))
        text.append(f" · {fmt_list(attrs.get('symbols'))} {attrs.get('timeframe') or ''}")
        if attrs.get("strategy_type"):
            text.append(f" · {attrs['strategy_type']}")
        text.append(f" · profit {fmt_money(attrs.get('profit'))}")
        if attrs.get("profit_factor") is not None:
            text.append(f" (PF {attrs['profit_factor']})")
        if attrs.get("last_execution"):
            text.append(f" · last execution: {attrs['last_execution']}")
        text.append(f" · id {target.id}")
        return with_trend(text, ctx)
