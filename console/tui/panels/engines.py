"""Client status (55-tech MM): one row per client engine, in the vendor's status words."""

from __future__ import annotations

from rich.text import Text

from console.core.model import ActionKind, Target, TargetKind
from console.tui.format import Cell, as_number, fmt_clock, fmt_duration, one_line, parse_iso
from console.tui.panels.base import TargetPanel
from console.tui.panels.columns import (
    SELECT,
    Column,
    RowContext,
    fmt_whole,
    grow_column,
    name_column,
    number_column,
    status_cell,
)


def _since(target: Target) -> float | None:
    """When the current manual halt began (stop wins over pause, as on the venue)."""
    attrs = target.attrs
    if attrs.get("manual_stopped"):
        return parse_iso(attrs.get("stopped_at"))
    if attrs.get("manual_paused"):
        return parse_iso(attrs.get("paused_at"))
    return None


def _reason(target: Target) -> str:
    """The manual reason that explains the current state, else the global block's."""
    attrs = target.attrs
    if attrs.get("manual_stopped") and attrs.get("stop_reason"):
        return str(attrs["stop_reason"])
    if attrs.get("manual_paused") and attrs.get("pause_reason"):
        return str(attrs["pause_reason"])
    if attrs.get("system_blocked") and attrs.get("system_reason"):
        return f"global: {attrs['system_reason']}"
    return ""


def _status(target: Target, ctx: RowContext) -> Cell:
    words = target.attrs.get("status_words")
    return status_cell(target, ctx, str(words) if words else None)


def _trading(target: Target, ctx: RowContext) -> Cell:
    active = target.attrs.get("trading_active")
    if ctx.stale or active is None:
        return Cell("?", ctx.tones.warn, sort=2)
    return Cell("yes", ctx.tones.ok, sort=1) if active else Cell("NO", ctx.tones.danger, sort=0)


def _since_cell(target: Target, ctx: RowContext) -> Cell:
    since = _since(target)
    return Cell(fmt_clock(since) if since else "", sort=since)


def _reason_text(target: Target) -> str:
    return one_line(_reason(target), 80)


def _reason_cell(target: Target, ctx: RowContext) -> Cell:
    return Cell(_reason_text(target))


class EnginesPanel(TargetPanel):
    KIND = TargetKind.ENGINE
    TITLE = "Client status"
    SHORT = "Clients"
    ACTIONS = (ActionKind.PAUSE, ActionKind.RESUME, ActionKind.STOP, ActionKind.START)

    def build_columns(self) -> list[Column]:
        return [
            SELECT,
            name_column("Client", 18),
            Column("status", "Status", 14, _status),
            Column("trading", "Trading", 7, _trading),
            Column("since", "Since", 9, _since_cell),
            grow_column("reason", "Reason", 20, _reason_cell, _reason_text),
            number_column("orders", "Orders", 6, "orders_seen", fmt_whole, as_number),
        ]

    def detail(self, target: Target, ctx: RowContext) -> Text:
        attrs = target.attrs
        text = Text(no_wrap=False)
        text.append(f"{target.name}: ", "bold")
        text.append_text(_status(target, ctx))
        active = None if ctx.stale else attrs.get("trading_active")
        text.append(
            " · trading " + ("active" if active else "INACTIVE" if active is False else "?")
        )
        since = _since(target)
        if since is not None:
            text.append(f" since {fmt_clock(since)} ({fmt_duration(ctx.now - since)})")
        reason = _reason(target)
        if reason:
            text.append(f" · reason: {one_line(reason, 160)}")
        if attrs.get("orders_seen") is not None:
            text.append(f" · {attrs['orders_seen']} orders seen")
        return text
