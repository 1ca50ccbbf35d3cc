"""FinRadar sniper rows as targets: one SNIPER target per row of the list, and what this
client remembers of each (for ``read_target``'s filter and telling *already* from
*applied*).

Target attrs (docs/ATTRIBUTES.md): ``ticker``, ``window_start``, ``window_end``,
``form_types`` (empty tuple = any filing), ``resolution``, ``filing_uuid``,
``slots_available``, ``slots_total``, ``created_at``, ``stopped_at``.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.core.model import ActionKind, ActionSpec, AttrValue, Target, TargetKind
from console.venues.finradar.wire import ListMeta, SniperTarget, state_of

STOP_SPEC = ActionSpec(
    kind=ActionKind.STOP,
    label="Stop sniper",
    leaves_behind="frees a plan slot; a stopped target cannot be restarted — create a new one",
)


@dataclass(frozen=True, slots=True)
class Seen:
    """What the last read said about a target (for read_target and already/applied)."""

    status: str
    ticker: str


def to_target(
    venue: str, row: SniperTarget, meta: ListMeta, slots_total: int, confirmed: float
) -> Target:
    """One sniper row as the console sees it (``slots_total``: the plan's, when the
    answer's ``meta`` does not say)."""
    forms = tuple(row.form_types or ())
    attrs: dict[str, AttrValue] = {
        "ticker": row.ticker,
        "window_start": row.start_time,
        "window_end": row.end_time,
        "form_types": forms,
        "resolution": row.resolution_reason,
        "filing_uuid": row.filing_uuid,
        "slots_available": meta.slots_available,
        "slots_total": meta.slots_total or slots_total,
        "created_at": row.created_at,
        "stopped_at": row.stopped_at,
    }
    scope = ", ".join(forms) if forms else "any filing"
    return Target(
        venue=venue,
        kind=TargetKind.SNIPER,
        id=row.target_id,
        name=f"{row.ticker} sniper ({scope})",
        state=state_of(row.status),
        raw_status=row.status,
        attrs=attrs,
        confirmed_at=confirmed,
    )


def label(target_id: str, ticker: str | None) -> str:
    """How messages name a sniper: ``TSLA sniper tgt_…`` once its ticker is known."""
    return f"{ticker} sniper {target_id}" if ticker else f"sniper {target_id}"
