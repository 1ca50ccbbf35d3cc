"""PipAI wire models (generation A), tolerant of what the vendor may add or omit.

Unknown fields are kept (``extra="allow"``), statuses stay plain strings so an unknown
value survives as ``raw_status``, decimal amounts stay strings (never float), and
everything the list sample abbreviates is optional.
"""

from __future__ import annotations

from typing import Annotated, Any, Required

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

# Impossible values refuse the strategy (a list skips only that row): a count below zero,
# or any number beyond a 64-bit integer (``1e400``, a 400-digit leverage).
_INT64 = 2**63 - 1
Count = Annotated[int, Field(ge=0, le=_INT64)]
Leverage = Count  # 0 or more, like a count


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Stats(_Wire):
    open_positions: Count | None = None
    total_pnl: str | None = None  # decimal string, realized + unrealized
    total_trades: Count | None = None
    win_rate: str | None = None  # decimal string 0–1


class Strategy(_Wire):
    """One strategy read whole (a single GET, a pause or deploy answer).

    Declares only what the console shows or decides by, as :class:`StrategyRow` does for
    the list: ``params`` ("template-specific, opaque") and ``created_at`` are kept
    unread among the extras, whatever they hold. Declared here (``params`` as an object),
    ``"params": null`` refused the single GET while the list read the same strategy: a
    pause or resume of it failed ("1 validation error for Strategy") though a kill of
    the whole list paused it."""

    id: str
    name: str = ""
    template_id: str | None = None
    symbols: list[str] = Field(default_factory=list)
    timeframe: str | None = None
    capital: str | None = None
    leverage: Leverage | None = None
    status: str = ""
    deployed_at: str | None = None
    updated_at: str | None = None
    stats: Stats | None = None


class StrategyPage(_Wire):
    data: list[Strategy] = Field(default_factory=list)
    next_cursor: str | None = None


@with_config(ConfigDict(coerce_numbers_to_str=True))
class StatsRow(TypedDict, total=False):
    open_positions: Count | None
    total_pnl: str | None
    total_trades: Count | None
    win_rate: str | None


@with_config(ConfigDict(coerce_numbers_to_str=True))
class StrategyRow(TypedDict, total=False):
    """One strategy of the list, as far as the console shows it: :class:`Strategy`'s
    fields, types and coercions (neither reads ``params`` nor ``created_at``)."""

    id: Required[str]
    name: str
    template_id: str | None
    symbols: list[str]
    timeframe: str | None
    capital: str | None
    leverage: Leverage | None
    status: str
    deployed_at: str | None
    updated_at: str | None
    stats: StatsRow | None


class StrategyRowsPage(TypedDict, total=False):
    """``GET /v1/strategies`` read straight into rows: a 4,500-strategy list is 45 pages
    read one after the other (the cursor comes with each), on the screen's own loop; one
    model per strategy, then a Target, cost 1.1 ms a page, rows then a Target 0.5 ms.
    Both keys are required: a page without them is not the documented page
    (:mod:`console.venues.pipai.mapping` says what is wrong with it)."""

    data: Required[list[StrategyRow]]
    next_cursor: Required[str | None]


ROWS_PAGE: TypeAdapter[StrategyRowsPage] = TypeAdapter(StrategyRowsPage)


class ErrorBody(_Wire):
    code: str | None = None
    message: str | None = None


class EventBody(_Wire):
    id: str | None = None
    type: str = ""
    created_at: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class StreamFrame(_Wire):
    """Any frame on the status WebSocket: auth reply, ack, event, error (by ``op``)."""

    op: str = ""
    channel: str | None = None
    id: str | None = None
    ok: bool | None = None
    code: str | None = None
    message: str | None = None
    error: Any = None  # [INF] a failed ack may carry an error string or object
    seq: int | None = None
    event: EventBody | None = None
