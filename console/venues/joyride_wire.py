"""Joyride wire models (pydantic v2), as tolerant as the docs' history demands.

Every model allows unknown fields (the exchange has added fields across doc snapshots).
``option_type`` stays a plain string so an unknown kind is kept, not rejected. Prices
and sizes are integer micros / millicontracts on the wire and stay integers here.
``status`` on an instrument is not documented: it is read only so that a venue that
starts sending one is shown as the raw word it sent (never guessed at).
"""

from __future__ import annotations

from typing import NotRequired

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class InstrumentRow(TypedDict):
    """One row of ``GET /v1/market/instruments``, as far as the console reads it.

    The console only counts instruments per expiration, by asset and call/put, so only
    these fields are validated; the rest of a row (strike, tick size, sizes, and any
    field added later) goes unread. There is no ``paused`` field. ``option_type`` stays
    a plain string so an unknown kind is kept, not rejected.
    """

    id: str
    expiration: int  # Unix seconds
    option_type: NotRequired[str | None]  # "call" | "put" (others kept as sent)
    status: NotRequired[str | None]  # undocumented; kept raw when present


def asset_of(instrument_id: str) -> str:
    """``SOL`` from ``SOL_USDC-28FEB26-150-C`` (the documented id format)."""
    head = instrument_id.split("-", 1)[0]
    return head.split("_", 1)[0] or head


def side_of(instrument_id: str, option_type: str | None) -> str:
    """``C`` for a call, ``P`` for a put, ``?`` for anything else."""
    kind = (option_type or "").lower()
    if kind == "call" or instrument_id.endswith("-C"):
        return "C"
    if kind == "put" or instrument_id.endswith("-P"):
        return "P"
    return "?"


class PauseRequest(_Wire):
    expiration: int
    paused: bool


class PauseResult(_Wire):
    """``POST /v1/admin/instruments/pause-by-expiration`` 200 body (all fields required)."""

    expiration: int
    paused: bool
    db_updated: int
    engine_updated: int
    engine_missing: list[str]


class Units(_Wire):
    price_decimals: int | None = None
    size_decimals: int | None = None
    quote_asset: str | None = None


class MarketConfig(_Wire):
    """``GET /v1/market/config``; ``round_epoch`` is in milliseconds (unlike expirations)."""

    round_duration_hours: int | None = None
    round_epoch: int | None = None
    units: Units | None = None


class SettlementClock(_Wire):
    """``GET /v1/oracle/settlement``: field names documented, types [GAP] (ints assumed)."""

    next_settlement: int | str | None = None
    twap_window_start: int | str | None = None
    seconds_to_twap_window: float | None = None
    seconds_to_settlement: float | None = None
    in_twap_window: bool | None = None


class ErrorBody(_Wire):
    """REST error body ([GAP]; the simulator answers ``{"error", "message"}``)."""

    error: str | None = None
    message: str | None = None
    details: list[dict[str, object]] | None = None


_ROWS = TypeAdapter(list[InstrumentRow])
_ROW = TypeAdapter(InstrumentRow)


def clean_instrument_rows(body: bytes) -> list[InstrumentRow] | None:
    """The whole list parsed straight from the body by pydantic's JSON parser (about
    six times faster than ``json.loads`` plus models at 30,000 rows), or None when the
    body is not a list of readable rows: then :func:`parse_instrument_rows` says why or
    skips the bad rows."""
    try:
        return _ROWS.validate_json(body)
    except ValidationError:
        return None


def parse_instrument_rows(data: object) -> tuple[list[InstrumentRow], int]:
    """The instrument list and how many rows were unreadable (skipped, not fatal).

    Raises ``ValueError`` when the body is not a list at all.
    """
    if not isinstance(data, list):
        raise ValueError(f"expected a list of instruments, got {type(data).__name__}")
    rows: list[InstrumentRow] = []
    skipped = 0
    for item in data:
        try:
            rows.append(_ROW.validate_python(item))
        except ValidationError:
            skipped += 1
    return rows, skipped


def parse_error(data: object) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return None
