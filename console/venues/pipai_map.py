"""PipAI's words mapped onto the console's vocabulary (states, Target attrs).

Attribute names follow docs/ATTRIBUTES.md (PipAI section); decimal strings stay strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core.model import AttrValue, State, Target, TargetKind
from console.venues.pipai_wire import Strategy

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


def to_target(venue: str, s: Strategy) -> Target:
    stats = s.stats
    attrs: dict[str, AttrValue] = {
        "template": s.template_id,
        "symbols": tuple(s.symbols),
        "timeframe": s.timeframe,
        "capital": s.capital,
        "leverage": s.leverage,
        "open_positions": stats.open_positions if stats else None,
        "pnl": stats.total_pnl if stats else None,
        "win_rate": stats.win_rate if stats else None,
        "trades": stats.total_trades if stats else None,
        "deployed_at": s.deployed_at,
        "updated_at": s.updated_at,
    }
    return Target(
        venue=venue,
        kind=TargetKind.STRATEGY,
        id=s.id,
        name=s.name or s.id,
        state=state_for(s.status),
        raw_status=s.status,
        attrs={k: v for k, v in attrs.items() if v is not None},
    )


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
