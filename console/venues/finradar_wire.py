"""FinRadar Sniper wire models: what the list, stop and error answers look like.

Tolerant by design (CONTRACTS.md, Appendix A): unknown fields are kept, ``status`` and
``resolution_reason`` stay plain strings so a value nobody documented still parses, and
every field the docs mark nullable, or did not show at all, is optional.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from console.core.model import State

# Vendor status -> normalised state. CREATED is running: the target starts monitoring by
# itself at start_time, so an emergency stop has to reach it too (docs/ATTRIBUTES.md).
STATES: dict[str, State] = {
    "CREATED": State.RUNNING,
    "ACTIVE": State.RUNNING,
    "STOPPED": State.STOPPED,
}

MANUAL_STOP = "manual_stop"


def state_of(raw_status: str) -> State:
    return STATES.get(raw_status.strip().upper(), State.UNKNOWN)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class SniperTarget(_Wire):
    """One row of ``GET /api/v1/sniper/targets`` (and the create answer)."""

    target_id: str
    ticker: str
    status: str
    start_time: str | None = None
    end_time: str | None = None
    form_types: list[str] | None = None
    webhook_url: str | None = None
    created_at: str | None = None
    filing_uuid: str | None = None
    resolution_reason: str | None = None
    last_event: dict[str, Any] | None = None
    stopped_at: str | None = None  # not documented for list rows; our simulator sends it


class ListMeta(_Wire):
    """``meta`` of a list answer; a negative count is impossible (the answer is unreadable)."""

    slots_available: int | None = Field(default=None, ge=0)
    slots_total: int | None = Field(default=None, ge=0)  # [GAP] ours
    total: int | None = Field(default=None, ge=0)  # [GAP] ours


class ListPage(_Wire):
    """One list answer as the client reads it: ``targets`` must be there and be a list
    (``{}`` or ``null`` is unreadable, never "no targets"); each row is validated on its
    own as a :class:`SniperTarget`, so one bad row fails only itself. ``meta`` may be
    missing or null."""

    targets: list[Any]
    meta: ListMeta | None = None


class TargetList(_Wire):
    """A whole list answer with every row validated (the documented samples' shape)."""

    targets: list[SniperTarget]
    meta: ListMeta = ListMeta()


class StopReply(_Wire):
    """The answer to ``POST /api/v1/sniper/targets/{target_id}/stop``."""

    target_id: str | None = None
    ticker: str | None = None
    status: str | None = None
    resolution_reason: str | None = None
    stopped_at: str | None = None
    slots_available: int | None = None


class ErrorDetail(_Wire):
    code: str | None = None
    message: str | None = None


class ErrorBody(_Wire):
    """Error envelope: ``{"error": {"code", "message"}}``; also ``{"error": "..."}``,
    ``{"message": ...}`` or ``{"detail": ...}`` since the vendor's own is undocumented."""

    error: ErrorDetail | str | None = None
    message: str | None = None
    detail: str | None = None

    def code(self) -> str | None:
        return self.error.code if isinstance(self.error, ErrorDetail) else None

    def text(self) -> str | None:
        if isinstance(self.error, ErrorDetail) and self.error.message:
            return self.error.message
        if isinstance(self.error, str) and self.error:
            return self.error
        return self.message or self.detail
