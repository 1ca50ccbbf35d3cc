"""55-tech wire models (pydantic v2) and the mapping of its words onto the console's.

Tolerant by design: unknown fields are kept (``extra="allow"``), the nullable fields the
quickstart sample leaves out default to None, ``status``/``oddsFormat``/``result`` stay
plain strings so a value nobody documented is kept as said, and both spellings of the
WebSocket reply (``subscriptionId`` / ``subscription_id``) are accepted.
"""

from __future__ import annotations

from typing import Final

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from console.core.model import ActionKind, State

_CONFIG = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


class TradingStatus(BaseModel):
    """``GET /api/v1/trading/status`` (TradingStatusResponse)."""

    model_config = _CONFIG

    client: str
    client_name: str
    odds_format: str | None = None  # documented as required; the stop skeleton omits it
    status: str
    trading_active: bool
    manual_paused: bool
    manual_paused_at: str | None = None
    manual_pause_reason: str | None = None
    manual_stopped: bool
    manual_stopped_at: str | None = None
    manual_stop_reason: str | None = None
    system_trading_blocked: bool = False
    emergency_active: bool = False
    system_stopped: bool = False
    soft_paused: bool = False
    system_reason: str | None = None
    # "integer" in the reference table, "number" on the stop page: accept both.
    system_duration_seconds: float | None = None

    def holds(self, kind: ActionKind) -> bool:
        """Whether the engine is already where ``kind`` would put its manual flags."""
        if kind is ActionKind.PAUSE:
            return self.manual_paused
        if kind is ActionKind.STOP:
            return self.manual_stopped
        if kind is ActionKind.RESUME:
            return not self.manual_paused
        return not self.manual_stopped


class ControlReply(TradingStatus):
    """The shared answer of pause/resume/stop/start: the status fields plus ``result``."""

    result: str | None = None


class StreamFrame(BaseModel):
    """Any frame of ``/ws/subscribe``; only ``type`` is certain."""

    model_config = ConfigDict(extra="allow")

    type: str = ""
    subscription_id: int | str | None = Field(
        default=None, validation_alias=AliasChoices("subscriptionId", "subscription_id")
    )
    channels: list[str] | None = None
    message: str | None = None
    channel: str | None = None
    event: str | None = None


# The documented `status` strings and what the console calls them.
STATES: Final[dict[str, State]] = {
    "live": State.RUNNING,
    "manual_paused": State.PAUSED,
    "soft_paused": State.PAUSED,
    "manual_stopped": State.STOPPED,
    "system_stopped": State.STOPPED,
    "emergency": State.STOPPED,
}
STATUS_WORDS: Final[dict[str, str]] = {
    "live": "LIVE",
    "manual_paused": "MANUAL PAUSED",
    "manual_stopped": "MANUAL STOPPED",
    "soft_paused": "SOFT PAUSED",
    "system_stopped": "SYSTEM STOPPED",
    "emergency": "EMERGENCY",
}

# Project decision 1: the `result` values of a control call.
APPLIED_RESULTS: Final = frozenset(
    {"pause_applied", "stop_applied", "start_applied", "resume_applied"}
)
ALREADY_RESULTS: Final = frozenset({"already_paused", "already_stopped", "already_live"})
START_REQUIRED: Final = "start_required"


def state_of(status: str) -> State:
    return STATES.get(status, State.UNKNOWN)


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").upper())
