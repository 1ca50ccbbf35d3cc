"""55-tech wire models (pydantic v2), its status words, and one status answer read.

Tolerant by design: unknown fields are kept (``extra="allow"``), the nullable fields the
quickstart sample leaves out default to None, ``status``/``oddsFormat``/``result`` stay
plain strings so a value nobody documented is kept as said, and both spellings of the
WebSocket reply (``subscriptionId`` / ``subscription_id``) are accepted.

``GET /api/v1/trading/status`` answers for one key's engine; :func:`status_from_reply`
turns that answer into a :class:`TradingStatus` or one of the feed errors:

* a non-200 answer → :class:`FeedError` (the venue would not say), quoting its words;
  a 429 whose ``Retry-After`` exceeds the cap says so with the vendor's wait;
* a 200 that is not the documented object (``{}``, an empty body, ``null``, a list,
  a field of the wrong type, an empty ``client``) → :class:`Unreadable` — never an
  engine read as something it did not say.

The words may quote the venue; the caller scrubs them (the venue may echo a key).
"""

from __future__ import annotations

from typing import Final

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from console.core.model import ActionKind, State
from console.core.scrub import Scrub
from console.venues.kit.feeds import FeedError, Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long
from console.venues.kit.shape import shape_problem
from console.venues.kit.transient import transient_reply

VENDOR = "55-tech"

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
    """55-tech's status word, whatever its case and surrounding blanks."""
    return STATES.get(status.strip().lower(), State.UNKNOWN)


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status.strip().lower(), status.replace("_", " ").upper())


# ----- one status answer, read or refused in words ------------------------------------
class KeyBarred(FeedError):
    """A key's status read failed in a way its control calls would meet too: the key
    refused (401), a 429 asking a wait past the cap, or no connection at all. No stop is
    sent blind to the engine of a key never read that failed so (see
    :meth:`~console.venues.fiftyfive.client.FiftyFiveClient.list_targets`)."""


def status_from_reply(
    reply: Reply, who: str, cap_s: float, scrub: Scrub | None = None
) -> TradingStatus:
    """The status a key's read answered, or the FeedError family saying why not
    (``scrub``: the venue's scrubber, applied before the body is cut; with none the body
    is quoted whole, for the caller to scrub): :class:`KeyBarred` when a control call by
    the same key would be refused too."""
    if reply.status != 200:
        words = read_error(reply, who, cap_s, scrub)
        barred = reply.status == 401 or (
            reply.status == 429 and too_long(retry_after_seconds(reply.headers), cap_s)
        )
        raise (KeyBarred if barred else FeedError)(words, transient=transient_reply(reply, cap_s))
    try:
        status = reply.validated(TradingStatus)
    except ValueError as exc:  # malformed JSON, or pydantic's ValidationError
        raise Unreadable(
            f"55-tech status read for {who}: {short_validation(exc)}; not the documented "
            "status answer"
        ) from None
    if not status.client.strip():
        raise Unreadable(
            f"55-tech status read for {who}: an unexpected answer (client: empty slug); "
            "not the documented status answer"
        )
    return status


def read_error(reply: Reply, who: str, cap_s: float, scrub: Scrub | None) -> str:
    """A non-200 answer to a status read, in words."""
    said = detail(reply, scrub)
    if reply.status == 401:
        return (
            f"55-tech refused the API key for {who} (401 '{said}'); check api_keys in the profile"
        )
    if reply.status == 429:
        wait = retry_after_seconds(reply.headers)
        if too_long(wait, cap_s):
            assert wait is not None
            return f"status read for {who}: {not_waiting(VENDOR, wait, cap_s)} (429 '{said}')"
        return f"55-tech rate-limited the status read for {who} (429 '{said}'); reads back off"
    return f"55-tech answered {reply.status} '{said}' to the status read for {who}"


def combine_errors(errors: list[str], total: int) -> str:
    """Several per-key failures as one line: how many, and the first in full."""
    head = f"{len(errors)} of {total} engines could not be read: {errors[0]}"
    return head if len(errors) == 1 else f"{head} (and {len(errors) - 1} more)"


def detail(reply: Reply, scrub: Scrub | None) -> str:
    """The vendor's own words: FastAPI's ``detail`` (string or validation list) or the
    body (scrubbed, then cut: :meth:`~console.venues.kit.http.Reply.text`)."""
    data = reply.json_or_none()
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            msgs = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
            return "; ".join(msgs)
    return reply.text(scrub=scrub) or "(empty body)"


def short_validation(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return f"an unexpected answer ({shape_problem(exc)})"
    return str(exc)
