"""FinRadar Sniper wire models: what the list, stop and error answers look like, and
how one answer is read into them.

Tolerant by design (CONTRACTS.md, Appendix A): unknown fields are kept, ``status`` and
``resolution_reason`` stay plain strings so a value nobody documented still parses, and
every field the docs mark nullable, or did not show at all, is optional.

A list answer is read by :func:`parse_page`: each row validated on its own (one that
does not parse is skipped and named), and an answer without a ``targets`` list
(``{}``, ``null``, malformed JSON) is :class:`Unreadable`, never "no targets".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from console.core.model import State
from console.core.scrub import Scrub
from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.shape import shape_problem

READING = "reading FinRadar sniper targets"

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


def _stamp(value: object) -> object:
    """A time a row only shows: ISO-8601 text as documented, a UNIX time (seconds, or
    milliseconds past 10^11) as ISO text, anything else as no time. An independent
    FinRadar's epoch integers made every row unreadable, and a kill stopped nothing,
    though a stop needs only the id."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        try:  # (a 400-digit integer overflows the division itself)
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            return None
    return None


Stamp = Annotated[str | None, BeforeValidator(_stamp)]
"""A display-only time: never the reason a row cannot be read."""


class SniperTarget(_Wire):
    """One row of ``GET /api/v1/sniper/targets`` (and the create answer)."""

    target_id: str
    ticker: str
    status: str
    start_time: Stamp = None
    end_time: Stamp = None
    form_types: list[str] | None = None
    webhook_url: str | None = None
    created_at: Stamp = None
    filing_uuid: str | None = None
    resolution_reason: str | None = None
    last_event: dict[str, Any] | None = None
    stopped_at: Stamp = None  # not documented for list rows; our simulator sends it


def _flag(value: object) -> object:
    """A JSON ``true`` or ``false``; anything else (``"false"``, ``0``, ``null``) says
    nothing: an undocumented word is never the reason an answer cannot be read, nor, in
    another shape than a plain boolean, a reason to stop reading."""
    return value if isinstance(value, bool) else None


class ListMeta(_Wire):
    """``meta`` of a list answer. A negative ``total`` is impossible (the answer is
    unreadable); ``slots_available`` is any integer: it is display-only, and negative on an
    over-allocated plan (7 ACTIVE targets on 5 slots: -2), which must never block a read.
    ``has_more`` is not documented either: ``false`` without a ``total`` ends the read
    (:func:`~console.venues.finradar.mapping.read_whole`)."""

    slots_available: int | None = None
    slots_total: int | None = Field(default=None, ge=0)  # [GAP] ours
    total: int | None = Field(default=None, ge=0)  # [GAP] ours
    has_more: Annotated[bool | None, BeforeValidator(_flag)] = None  # [GAP] nobody's yet


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
    stopped_at: Stamp = None
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


_M = TypeVar("_M", bound=BaseModel)


@dataclass(slots=True)
class Page:
    """One list answer, read: the rows that parsed, and those that did not (``skipped``:
    key -> why, the key being the row's ``target_id`` or ``row <n>`` without one)."""

    rows: list[SniperTarget]
    skipped: dict[str, str]
    meta: ListMeta
    size: int  # rows in the answer, parsed or not (what the offset advances by)


def parse_page(reply: Reply, offset: int = 0) -> Page:
    """One list answer: its rows (each validated on its own), the rows that did not
    parse, and ``meta``. Raises :class:`Unreadable` (never anything else) when the answer
    is not a ``{"targets": [...], ...}`` object: ``{}``, ``null``, an empty or malformed
    body, wrong types in ``meta`` are unreadable, never "no targets"."""
    try:
        page = ListPage.model_validate(reply.json())
    except ValueError as exc:  # malformed JSON, or pydantic's ValidationError
        raise Unreadable(f"{READING}: {_shape_error(exc)}") from None
    rows: list[SniperTarget] = []
    skipped: dict[str, str] = {}
    for index, raw in enumerate(page.targets):
        try:
            rows.append(SniperTarget.model_validate(raw))
        except ValidationError as exc:
            skipped.setdefault(_row_key(raw, offset + index), _shape_error(exc))
    return Page(rows, skipped, page.meta or ListMeta(), len(page.targets))


def _row_key(raw: Any, position: int) -> str:
    """How a row that did not parse is named: its ``target_id`` when it has a usable one."""
    if isinstance(raw, dict):
        target_id = raw.get("target_id")
        if isinstance(target_id, str) and target_id and len(target_id) <= 200:
            return target_id
    return f"row {position}"


def _shape_error(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return f"an answer of unexpected shape ({shape_problem(exc)})"
    return str(exc)


def parse(reply: Reply, model: type[_M]) -> _M:
    """The reply's JSON as ``model``; ValueError names malformed JSON or the bad shape."""
    body = reply.json()
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ValueError(f"an answer of unexpected shape ({shape_problem(exc)})") from None


def epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def vendor_words(reply: Reply, scrub: Scrub) -> tuple[str, str | None]:
    """The vendor's own message and error code (the caller scrubs them; a body quoted
    instead is scrubbed whole before it is cut: :meth:`~console.venues.kit.http.Reply.text`)."""
    text: str | None = None
    code: str | None = None
    body = reply.json_or_none()
    if isinstance(body, dict):
        try:
            envelope = ErrorBody.model_validate(body)
            text, code = envelope.text(), envelope.code()
        except ValidationError:
            pass
    return text or reply.text(scrub=scrub) or "(empty body)", code
