"""Instruments by expiration (Joyride): one row per expiration, and how we know its state.

Joyride cannot report whether an expiration is paused, so the state column shows what
this console knows and the next column says how: set here (this run) or from the journal
(an earlier run), at what time and by whom; otherwise UNKNOWN.
"""

from __future__ import annotations

from rich.text import Text

from console.core.model import ActionKind, State, Target, TargetKind
from console.core.store import KnownState
from console.tui.format import (
    Cell,
    as_number,
    fmt_clock,
    fmt_countdown,
    fmt_datetime,
    one_line,
    parse_iso,
    state_word,
)
from console.tui.panels.base import TargetPanel
from console.tui.panels.columns import (
    SELECT,
    Column,
    RowContext,
    attr_cell,
    fmt_whole,
    grow_column,
    number_column,
    status_cell,
)


def _expiry(target: Target) -> float | None:
    return as_number(target.attrs.get("expiration"))


def _when(target: Target, ctx: RowContext) -> Cell:
    at = _expiry(target)
    return Cell(fmt_datetime(at) if at else target.name, sort=at)


def _countdown(target: Target, ctx: RowContext) -> Cell:
    at = _expiry(target)
    return Cell(fmt_countdown(at, ctx.now), sort=at)


def _state(target: Target, ctx: RowContext) -> Cell:
    return status_cell(target, ctx, state_word(ctx.state))


def _source(ctx: RowContext) -> KnownState | None:
    """The journal's knowledge, when it is what the row shows (or the data is stale)."""
    known = ctx.known
    if known is not None and (ctx.stale or known.state is ctx.state):
        return known
    return None


def how_known(target: Target, ctx: RowContext) -> str:
    """``set here 10:42Z by alice`` / ``journal 10:42Z by alice`` / ``expired`` / ``unknown``.

    Never "reported by venue": Joyride cannot report a pause. A state shown is known
    from this console's own calls, kept in the journal (:class:`KnownState`), or not at
    all. Knowledge that does not match the state shown is not offered as its source.
    """
    if target.state is State.STOPPED:  # past its expiration: the venue's own list says so
        return "expired"
    known = _source(ctx)
    if known is not None:
        at = parse_iso(known.set_at)
        where = "set here" if at is not None and at >= ctx.session_started else "journal"
        who = known.set_by.split("@")[0]
        return f"{where} {fmt_clock(at, seconds=False) if at else known.set_at} by {who}"
    # ``set_at``: when this process set the state the venue cannot report (its client
    # keeps it); it says how a state is known only while a state is shown.
    set_at = parse_iso(target.attrs.get("set_at"))
    if set_at is not None and target.state is not State.UNKNOWN:
        return f"set here {fmt_clock(set_at, seconds=False)}"  # by this process; who: not kept
    return "unknown"


def _known(target: Target, ctx: RowContext) -> Cell:
    return Cell(how_known(target, ctx))


def _by_asset(target: Target) -> str:
    return str(target.attrs.get("by_asset") or "")


def _drift_text(target: Target) -> str:
    drift = target.attrs.get("drift")
    return f"⚠ {one_line(str(drift), 60)}" if drift else ""


def _drift(target: Target, ctx: RowContext) -> Cell:
    drift = target.attrs.get("drift")
    if not drift:
        return Cell("")
    return Cell(f"⚠ {one_line(str(drift), 60)}", ctx.tones.warn, sort=str(drift))


class ExpirationsPanel(TargetPanel):
    KIND = TargetKind.EXPIRATION
    TITLE = "Instruments by expiration"
    SHORT = "Expiries"
    ACTIONS = (ActionKind.PAUSE, ActionKind.RESUME)
    DEFAULT_SORT = "expiration"

    def build_columns(self) -> list[Column]:
        return [
            SELECT,
            Column("expiration", "Expiration", 12, _when),
            Column("countdown", "Expires", 10, _countdown, ticking=True),
            Column("state", "State", 8, _state),
            Column("known", "How known", 24, _known),
            number_column("instruments", "Inst", 4, "instruments", fmt_whole, as_number),
            grow_column("by_asset", "By asset (calls/puts)", 24, attr_cell("by_asset"), _by_asset),
            grow_column("drift", "Drift", 16, _drift, _drift_text),
        ]

    def detail(self, target: Target, ctx: RowContext) -> Text:
        attrs = target.attrs
        text = Text()
        at = _expiry(target)
        text.append(
            f"{fmt_datetime(at) if at else target.name} ({fmt_countdown(at, ctx.now)}): ", "bold"
        )
        text.append_text(_state(target, ctx))
        known = _source(ctx)
        if known is not None:
            text.append(f" — {how_known(target, ctx).split(' by ')[0]}")
            text.append(f" by {known.set_by} at {known.set_at}")
        elif target.state is State.STOPPED:
            text.append(" — expired: the exchange closes and settles it")
        elif not ctx.stale:
            text.append(" — the venue cannot say whether it is paused; nothing set here yet")
        text.append(
            f" · {attrs.get('instruments', '?')} instruments: {attrs.get('by_asset') or ''}"
        )
        if attrs.get("drift"):
            text.append(f" · DRIFT: {one_line(str(attrs['drift']), 160)}", "bold")
        return text
