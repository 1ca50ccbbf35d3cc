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


GLOBAL = "blocked for all clients"
STOPPED = "manually stopped"
PAUSED = "manually paused"
# The halt each of 55-tech's status words shows (any other word: a global block's).
SHOWN_BY = {"LIVE": None, "MANUAL STOPPED": STOPPED, "MANUAL PAUSED": PAUSED}


def _shown(target: Target) -> str | None:
    """Which halt the engine's status word shows (None: it is live)."""
    return SHOWN_BY.get(str(target.attrs.get("status_words") or ""), GLOBAL)


def _halts(target: Target) -> list[tuple[str, str]]:
    """Each halt the engine carries with its own reason ('' when none was given), the
    one its status shows first. An engine may carry a global block, a manual stop and a
    manual pause at once; 55-tech's status names one of them."""
    attrs = target.attrs
    halts: list[tuple[str, str]] = []
    if attrs.get("system_blocked"):
        halts.append((GLOBAL, str(attrs.get("system_reason") or "")))
    if attrs.get("manual_stopped"):
        halts.append((STOPPED, str(attrs.get("stop_reason") or "")))
    if attrs.get("manual_paused"):
        halts.append((PAUSED, str(attrs.get("pause_reason") or "")))
    shown = _shown(target)
    return sorted(halts, key=lambda halt: halt[0] != shown)


def _reason(target: Target) -> str:
    """The reason of the halt the status shows, and only of that one: after a stop
    without a reason, never the reason of a pause still underneath it."""
    shown = _shown(target)
    for what, reason in _halts(target):
        if what == shown:
            return f"global: {reason}" if what == GLOBAL and reason else reason
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
        shown = _shown(target)
        for what, reason in _halts(target):
            if what == shown:
                said = _reason(target)
                text.append(f" · reason: {one_line(said, 160)}" if said else "")
            else:
                why = f": {one_line(reason, 160)}" if reason else " (no reason given)"
                text.append(f" · also {what}{why}")
        if attrs.get("orders_seen") is not None:
            text.append(f" · {attrs['orders_seen']} orders seen")
        warning = attrs.get("warning")  # (an engine whose status read failed: why, and
        if isinstance(warning, str) and warning:  # what it last read)
            text.append(f" · {one_line(warning, 240)}")
        return text
