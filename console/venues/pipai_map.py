"""PipAI's words mapped onto the console's vocabulary (states, Target attrs).

Attribute names follow docs/ATTRIBUTES.md (PipAI section); decimal strings stay strings.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from console.core.model import AttrValue, State, Target, TargetKind
from console.venues.pipai_wire import StatsRow, Strategy, StrategyRow

STATE_BY_STATUS: Mapping[str, State] = {
    "deployed": State.RUNNING,
    "paused": State.PAUSED,
    "stopped": State.STOPPED,
    "draft": State.STOPPED,
    "error": State.ERROR,
}

# Lifecycle event types and the status each one announces (a resume shows as deployed).
LIFECYCLE_STATUS: Mapping[str, str] = {
    "deployed": "deployed",
    "paused": "paused",
    "error": "error",
    "stopped": "stopped",  # not documented on the stream, but a webhook type: tolerate it
}


def state_for(status: str) -> State:
    return STATE_BY_STATUS.get(status, State.UNKNOWN)


def event_kind(raw_type: str) -> str:
    """``paused`` and webhook-style ``strategy.paused`` both mean ``paused``."""
    return raw_type.removeprefix("strategy.")


def row_target(venue: str, row: StrategyRow, confirmed_at: float) -> Target:
    """The Target of one strategy, with the attrs docs/ATTRIBUTES.md lists for PipAI
    (a missing or null value leaves its attr out). Spelled out field by field: it runs
    4,500 times in a first paint."""
    attrs: dict[str, AttrValue] = {}
    if (text := row.get("template_id")) is not None:
        attrs["template"] = text
    attrs["symbols"] = tuple(row.get("symbols", ()))
    if (text := row.get("timeframe")) is not None:
        attrs["timeframe"] = text
    if (text := row.get("capital")) is not None:
        attrs["capital"] = text
    if (number := row.get("leverage")) is not None:
        attrs["leverage"] = number
    if stats := row.get("stats"):
        if (number := stats.get("open_positions")) is not None:
            attrs["open_positions"] = number
        if (text := stats.get("total_pnl")) is not None:
            attrs["pnl"] = text
        if (text := stats.get("win_rate")) is not None:
            attrs["win_rate"] = text
        if (number := stats.get("total_trades")) is not None:
            attrs["trades"] = number
    if (text := row.get("deployed_at")) is not None:
        attrs["deployed_at"] = text
    if (text := row.get("updated_at")) is not None:
        attrs["updated_at"] = text
    status = row.get("status", "")
    target_id = row["id"]
    return Target(
        venue,
        TargetKind.STRATEGY,
        target_id,
        row.get("name") or target_id,
        state_for(status),
        status,
        attrs,
        confirmed_at,
    )


def strategy_row(s: Strategy) -> StrategyRow:
    """The row of a strategy read whole (a single GET, an action's answer, a page read
    the tolerant way)."""
    stats = s.stats
    return StrategyRow(
        id=s.id,
        name=s.name,
        template_id=s.template_id,
        symbols=s.symbols,
        timeframe=s.timeframe,
        capital=s.capital,
        leverage=s.leverage,
        status=s.status,
        deployed_at=s.deployed_at,
        updated_at=s.updated_at,
        stats=None
        if stats is None
        else StatsRow(
            open_positions=stats.open_positions,
            total_pnl=stats.total_pnl,
            total_trades=stats.total_trades,
            win_rate=stats.win_rate,
        ),
    )


def to_target(venue: str, s: Strategy) -> Target:
    """The Target of a strategy read whole."""
    return row_target(venue, strategy_row(s), time.time())


def attrs_from_position_event(data: Mapping[str, Any]) -> dict[str, AttrValue]:
    """What a position event tells about the strategy's row (count and P&L when sent)."""
    attrs: dict[str, AttrValue] = {}
    count = data.get("open_positions")
    if isinstance(count, int) and not isinstance(count, bool):
        attrs["open_positions"] = count
    pnl = data.get("total_pnl")
    if isinstance(pnl, str):
        attrs["pnl"] = pnl
    return attrs
