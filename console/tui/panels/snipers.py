"""Sniper slots (FinRadar): a slot gauge over the targets, with time left in each window."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult

from console.core.model import ActionKind, State, Target, TargetKind
from console.tui.format import Cell, fmt_countdown, fmt_datetime, fmt_duration, fmt_list, parse_iso
from console.tui.panels.base import TargetPanel
from console.tui.panels.columns import SELECT, Column, RowContext, attr_cell, status_cell
from console.tui.widgets.live_static import LiveStatic


def _window(target: Target, ctx: RowContext) -> Cell:
    start = parse_iso(target.attrs.get("window_start"))
    end = parse_iso(target.attrs.get("window_end"))
    if start is None:
        return Cell("")
    text = fmt_datetime(start)
    if end is not None:
        days = int(end // 86400 - start // 86400)
        text = text[:-1] + "–" + fmt_datetime(end)[6:] + (f"+{days}d" if days else "")
    return Cell(text, sort=start)


def _left(target: Target, ctx: RowContext) -> Cell:
    """Time left in the window while the target still watches; nothing once stopped."""
    end = parse_iso(target.attrs.get("window_end"))
    if end is None or ctx.state is not State.RUNNING or ctx.stale:
        return Cell("", sort=None)
    start = parse_iso(target.attrs.get("window_start"))
    if start is not None and start > ctx.now:
        return Cell(f"starts {fmt_duration(start - ctx.now)}", sort=end - ctx.now)
    return Cell(fmt_countdown(end, ctx.now).removeprefix("in "), sort=end - ctx.now)


def gauge(used: int | None, total: int | None, width: int = 10) -> Text:
    """``■■■□□ 3 of 5 slots used``: a bar for the eye, the words for certainty."""
    if used is None or not total:
        return Text("slots: unknown (no data yet)")
    filled = max(0, min(width, round(width * used / total)))
    text = Text("■" * filled + "□" * (width - filled) + f" {used} of {total} slots used")
    if used >= total:
        text.append(" — FULL: a new target needs a free slot", "bold reverse")
    return text


class SnipersPanel(TargetPanel):
    KIND = TargetKind.SNIPER
    TITLE = "Sniper slots"
    SHORT = "Snipers"
    ACTIONS = (ActionKind.STOP,)
    DEFAULT_SORT = "status"

    def build_columns(self) -> list[Column]:
        return [
            SELECT,
            Column("name", "Ticker", 7, attr_or_name),
            Column("status", "Status", 8, status_cell),
            Column("left", "Left", 12, _left, ticking=True),
            Column("window", "Window", 21, _window),
            Column(
                "forms", "Forms", 12, attr_cell("form_types", lambda v: fmt_list(v, empty="any"))
            ),
            Column("resolution", "Resolution", 12, attr_cell("resolution")),
        ]

    def compose_extra(self) -> ComposeResult:
        yield LiveStatic(gauge(None, None), id="gauge", classes="gauge")

    def slots(self) -> tuple[int | None, int | None]:
        """Slots as of the most recent read (every target carries the venue's meta)."""
        latest: Target | None = None
        latest_at = 0.0
        confirmed_at = self.store.confirmed_at
        for target in self.targets.values():
            at = confirmed_at(target)
            if latest is None or at > latest_at:
                latest, latest_at = target, at
        if latest is None:
            return None, None
        available = latest.attrs.get("slots_available")
        total = latest.attrs.get("slots_total")
        if not isinstance(available, int) or not isinstance(total, int):
            return None, None
        return total - available, total

    def on_targets_changed(self) -> None:
        self.query_one("#gauge", LiveStatic).show(gauge(*self.slots()))

    def detail(self, target: Target, ctx: RowContext) -> Text:
        attrs = target.attrs
        text = Text()
        text.append(f"{attrs.get('ticker') or target.name}: ", "bold")
        text.append_text(status_cell(target, ctx))
        text.append(
            f" · window {attrs.get('window_start') or '?'} → {attrs.get('window_end') or '?'}"
        )
        text.append(f" · forms {fmt_list(attrs.get('form_types'), empty='any')}")
        if attrs.get("resolution"):
            text.append(f" · resolution {attrs['resolution']}")
        if attrs.get("filing_uuid"):
            text.append(f" · filing {attrs['filing_uuid']}")
        text.append(f" · id {target.id}")
        return text


def attr_or_name(target: Target, ctx: RowContext) -> Cell:
    ticker = target.attrs.get("ticker")
    return Cell(str(ticker) if ticker else target.name)
