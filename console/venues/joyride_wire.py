"""Joyride wire models (pydantic v2), as tolerant as the docs' history demands.

Every model allows unknown fields (the exchange has added fields across doc snapshots).
``option_type`` stays a plain string so an unknown kind is kept, not rejected. Prices
and sizes are integer micros / millicontracts on the wire and stay integers here.
``status`` on an instrument is not documented: it is read only so that a venue that
starts sending one is shown as the raw word it sent (never guessed at).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Instrument(_Wire):
    """One row of ``GET /v1/market/instruments``. There is no ``paused`` field."""

    id: str
    expiration: int  # Unix seconds
    strike: int | None = None  # USDC micros
    option_type: str | None = None  # "call" | "put" (others kept as sent)
    tick_size: int | None = None
    min_size: int | None = None
    contract_size: int | None = None
    price_decimals: int | None = None
    size_decimals: int | None = None
    status: str | None = None  # undocumented; kept raw when present

    @property
    def asset(self) -> str:
        """``SOL`` from ``SOL_USDC-28FEB26-150-C`` (the documented id format)."""
        head = self.id.split("-", 1)[0]
        return head.split("_", 1)[0] or head

    @property
    def is_call(self) -> bool:
        return (self.option_type or "").lower() == "call" or self.id.endswith("-C")

    @property
    def is_put(self) -> bool:
        return (self.option_type or "").lower() == "put" or self.id.endswith("-P")


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


_INSTRUMENTS = TypeAdapter(list[Instrument])
_ROW = TypeAdapter(Instrument)


def parse_instruments(data: object) -> tuple[list[Instrument], int]:
    """The instrument list and how many rows were unreadable (skipped, not fatal).

    Raises ``ValueError`` when the body is not a list at all.
    """
    if not isinstance(data, list):
        raise ValueError(f"expected a list of instruments, got {type(data).__name__}")
    try:
        return _INSTRUMENTS.validate_python(data), 0
    except ValidationError:
        pass
    rows: list[Instrument] = []
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
