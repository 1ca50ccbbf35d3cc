"""FinRadar Sniper: watch sniper targets and stop them, through ``/api/v1/sniper/...``.

Vendor quirks handled here, and nowhere else:

* Stop is idempotent: an already-STOPPED target answers ``200`` with the body of its
  original stop. ``_already_stopped_from_idempotent_200`` tells *already* from *applied*
  (a reason other than ``manual_stop``; STOPPED at our last read; or, for a target we
  never read, a ``stopped_at`` well before the call was sent).
* ``404`` means unknown **or owned by another user** -> rejected
  (``_unknown_target_from_404``).
* There is no single-target GET: ``read_target`` pages through the list (filtered by
  ticker when we know it) and picks the id.
* Offset pagination over a newest-first list: a target created between two pages shifts
  the offsets, so rows are de-duplicated by ``target_id``. A full page that adds no new
  row (a venue ignoring ``offset``), more than ``settings.max_pages`` pages or more than
  ``settings.max_targets`` targets end the read as :class:`Incomplete` with what was
  read; an answer without a ``targets`` list (``{}``, ``null``, malformed JSON) is
  :class:`Unreadable`, never "no targets"; one row that does not parse is skipped and
  named in ``skipped_rows`` (:func:`parse_page`).
* ``CREATED`` counts as running (it starts monitoring by itself at ``start_time``).
* Error envelope and rate limit are undocumented: we read ``{"error": {"code",
  "message"}}`` and its common variants, and pace 120 requests/min per key (bucket
  ``requests``), honouring ``Retry-After`` on a 429 with one paced retry (a 429 was
  refused, so re-sending it cannot stop anything twice) — up to
  ``settings.retry_after_cap_s``: a longer wait (an hour, ``inf``, a date in year 9999)
  is never waited, the stop is *failed* and the list read a :class:`FeedError`, with
  the vendor's wait in words (:func:`console.venues.kit.pacing.not_waiting`).
* Ids go out as one percent-encoded path segment (:func:`console.venues.kit.http.segment`);
  ``.`` and ``..`` are refused unsent (*failed*).
* One :class:`console.core.scrub.Scrubber` over the API key masks every outcome message,
  feed error and skipped-row note (a venue may echo the key in its error answers).
* A timed-out stop is never re-sent: it is re-read and reported as applied/already when
  the target shows STOPPED, else uncertain. A stop answered with malformed JSON likewise.
* No stream for sniper state (Socket.IO is out of scope): the feed polls the list.

Target attrs (docs/ATTRIBUTES.md): ``ticker``, ``window_start``, ``window_end``,
``form_types`` (empty tuple = any filing), ``resolution``, ``filing_uuid``,
``slots_available``, ``slots_total``, ``created_at``, ``stopped_at``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    AttrValue,
    Outcome,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.core.ports import Capabilities, ControlRate
from console.core.scrub import Scrubber
from console.venues.finradar_wire import (
    MANUAL_STOP,
    ErrorBody,
    ListMeta,
    ListPage,
    SniperTarget,
    StopReply,
    state_of,
)
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import (
    CallError,
    QueryValue,
    Reply,
    UnsafeId,
    make_http_client,
    segment,
    send,
)
from console.venues.kit.pacing import (
    make_pacer,
    not_waiting,
    retry_after_seconds,
    too_long,
    wait_words,
)

TARGETS_PATH = "/api/v1/sniper/targets"
RATE_BUCKET = "requests"
DOCUMENTED_RATE = RateLimit(120, 60.0)  # [GAP] project decision: 120 requests/min per key
PAID_SLOTS = 5
MAX_PAGE = 200
# A stop answered with a stopped_at this long before we sent it was not ours (clock skew).
CLOCK_SKEW_S = 30.0
VENDOR = "FinRadar"
READING = "reading FinRadar sniper targets"

STOP_SPEC = ActionSpec(
    kind=ActionKind.STOP,
    label="Stop sniper",
    leaves_behind="frees a plan slot; a stopped target cannot be restarted — create a new one",
)

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the last read said about a target (for read_target and already/applied)."""

    status: str
    ticker: str


@dataclass(slots=True)
class Page:
    """One list answer, read: the rows that parsed, and those that did not (``skipped``:
    key -> why, the key being the row's ``target_id`` or ``row <n>`` without one)."""

    rows: list[SniperTarget]
    skipped: dict[str, str]
    meta: ListMeta
    size: int  # rows in the answer, parsed or not (what the offset advances by)


@dataclass(slots=True)
class _Listing:
    """Every page of one list read, so far."""

    rows: dict[str, SniperTarget] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    meta: ListMeta = field(default_factory=ListMeta)


# What core and the screen may know of FinRadar: requests paced per key.
CAPABILITIES = Capabilities(
    control_rate=ControlRate(RATE_BUCKET, DOCUMENTED_RATE.limit, DOCUMENTED_RATE.window_s)
)


class FinRadarClient(VenueClient):
    """One FinRadar API key: its sniper targets, their slots, and the stop call."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(
        self, settings: VenueSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        key = settings.secret("api_key").reveal()
        self._scrubber = Scrubber([key])
        self._http = make_http_client(
            settings,
            headers={"X-API-Key": key, "Accept": "application/json"},
            transport=transport,
        )
        rate = settings.rate_limits.get(RATE_BUCKET, DOCUMENTED_RATE)
        self._pacer = make_pacer(
            rate,
            enabled=settings.pacing,
            scale=settings.rate_scale,
            cap_s=settings.retry_after_cap_s,
        )
        page = int(settings.options.get("page_size", MAX_PAGE))
        self._page_size = max(1, min(MAX_PAGE, page))
        self._seen: dict[str, _Seen] = {}
        self._slots_total = PAID_SLOTS

    # ----- reading ----------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        self.skipped_rows = []
        listing = _Listing()
        try:
            await self._list({}, listing)
        except FeedError as exc:
            self.skipped_rows = self._skipped(listing)
            raise self._scrubbed(exc) from None
        self.skipped_rows = self._skipped(listing)
        return self._targets(listing)

    async def read_target(self, target_id: str) -> Target | None:
        """The target, freshly read; None when the list (to its end) does not hold it.

        Raises :class:`Unreadable` when its row is there but does not parse, and
        :class:`Incomplete` when the list could not be read to its end without it.
        """
        seen = self._seen.get(target_id)
        filters: dict[str, QueryValue] = {"ticker": seen.ticker} if seen and seen.ticker else {}
        listing = _Listing()
        try:
            await self._list(filters, listing)
        except Incomplete as exc:
            found = [t for t in exc.partial if t.id == target_id]
            if found:
                return found[0]
            raise self._scrubbed(exc) from None
        except FeedError as exc:
            raise self._scrubbed(exc) from None
        if target_id in listing.skipped:
            why = listing.skipped[target_id]
            raise Unreadable(
                self._scrub(f"{READING}: the row of {target_id} is unreadable ({why})")
            )
        for target in self._targets(listing):
            if target.id == target_id:
                return target
        return None

    async def _list(self, filters: Mapping[str, QueryValue], listing: _Listing) -> None:
        """Every page of the (filtered) list into ``listing``, within the venue's bounds.

        Raises FeedError with the venue's words, Unreadable for an answer without the
        documented shape, Incomplete (with the targets read so far) past
        ``settings.max_pages`` pages or ``settings.max_targets`` targets, or when a full
        page adds no new row (a venue ignoring ``offset`` would loop us forever).
        """
        max_pages = max(1, self.settings.max_pages)
        max_targets = max(1, self.settings.max_targets)
        offset = 0
        pages = 0
        while True:
            if pages >= max_pages:
                raise Incomplete(
                    f"{READING}: the list did not end within {max_pages} pages "
                    f"({len(listing.rows)} targets read; max_pages)",
                    self._targets(listing),
                )
            params = {**filters, "limit": self._page_size, "offset": offset}
            page = parse_page(await self._read(params), offset)
            pages += 1
            listing.meta = page.meta
            known = len(listing.rows) + len(listing.skipped)
            for row in page.rows:
                listing.rows.setdefault(row.target_id, row)
                listing.skipped.pop(row.target_id, None)
            for key, why in page.skipped.items():
                if key not in listing.rows:
                    listing.skipped.setdefault(key, why)
            read = len(listing.rows) + len(listing.skipped)
            if read > max_targets:
                raise Incomplete(
                    f"{READING}: more than {max_targets} targets (max_targets); "
                    f"stopped after {pages} pages",
                    self._targets(listing)[:max_targets],
                )
            offset += page.size
            total = page.meta.total
            if page.size < self._page_size or (total is not None and offset == total):
                return
            if read == known:
                raise Incomplete(
                    f"{READING}: the page at offset {offset - page.size} repeats rows "
                    "already read (the venue ignores offset); the rest of the list is "
                    "unknown",
                    self._targets(listing),
                )

    def _targets(self, listing: _Listing) -> list[Target]:
        confirmed = time.time()
        meta = listing.meta
        self._slots_total = meta.slots_total or self._slots_total
        for row in listing.rows.values():
            self._seen[row.target_id] = _Seen(row.status, row.ticker)
        return [self._to_target(row, meta, confirmed) for row in listing.rows.values()]

    def _skipped(self, listing: _Listing) -> list[str]:
        return [self._scrub(f"{key}: {why}") for key, why in listing.skipped.items()]

    async def _read(self, params: Mapping[str, QueryValue]) -> Reply:
        reply: Reply | None = None
        for _attempt in range(2):  # a 429 was refused: one paced retry is safe
            try:
                reply = await self._send(
                    "GET", TARGETS_PATH, params=params, timeout_s=self.settings.request_timeout_s
                )
            except CallError as err:
                raise FeedError(f"{READING}: {err.message}") from None
            if reply.status != 429 or not reply.sent or self._too_long(reply) is not None:
                break
        assert reply is not None
        if reply.ok:
            return reply
        raise FeedError(self._error_text(reply, READING))

    def _too_long(self, reply: Reply) -> float | None:
        """The wait a 429 asks for, when it is beyond what we honour (else None)."""
        if reply.status != 429:
            return None
        wait = retry_after_seconds(reply.headers)
        if wait is not None and too_long(wait, self.settings.retry_after_cap_s):
            return wait
        return None

    def _to_target(self, row: SniperTarget, meta: ListMeta, confirmed: float) -> Target:
        forms = tuple(row.form_types or ())
        attrs: dict[str, AttrValue] = {
            "ticker": row.ticker,
            "window_start": row.start_time,
            "window_end": row.end_time,
            "form_types": forms,
            "resolution": row.resolution_reason,
            "filing_uuid": row.filing_uuid,
            "slots_available": meta.slots_available,
            "slots_total": meta.slots_total or self._slots_total,
            "created_at": row.created_at,
            "stopped_at": row.stopped_at,
        }
        scope = ", ".join(forms) if forms else "any filing"
        return Target(
            venue=self.name,
            kind=TargetKind.SNIPER,
            id=row.target_id,
            name=f"{row.ticker} sniper ({scope})",
            state=state_of(row.status),
            raw_status=row.status,
            attrs=attrs,
            confirmed_at=confirmed,
        )

    # ----- actions ----------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Stop, for anything not already stopped (an unknown status may still monitor)."""
        return [] if target.state is State.STOPPED else [STOP_SPEC]

    def kill_action(self, target: Target, *, close_positions: bool = False) -> Action | None:
        """A sniper holds no positions; stopping it is the whole of an emergency stop."""
        return None if target.state is State.STOPPED else Action(ActionKind.STOP)

    async def execute(self, target_id: str, action: Action) -> Outcome:
        outcome = await self._execute(target_id, action)
        return replace(
            outcome,
            message=self._scrub(outcome.message),
            warning=self._scrub(outcome.warning) if outcome.warning else outcome.warning,
        )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        if action.kind is not ActionKind.STOP:
            return Outcome(
                OutcomeKind.REJECTED,
                f"FinRadar sniper targets can only be stopped; {action.kind} does not exist "
                f"for {target_id} (to watch again, create a new target)",
            )
        seen = self._seen.get(target_id)
        label = _label(target_id, seen.ticker if seen else None)
        try:
            path = f"{TARGETS_PATH}/{segment(target_id)}/stop"
        except UnsafeId as exc:
            return Outcome(
                OutcomeKind.FAILED,
                f"{label} was not stopped: {exc}; nothing was sent (a proxy could route "
                "it elsewhere) — stop it in FinRadar's dashboard",
            )
        sent_at = time.time()
        try:
            reply = await self._send_stop(path)
        except CallError as err:
            if not err.maybe_sent:
                return Outcome(
                    OutcomeKind.FAILED,
                    f"could not reach FinRadar to stop {label}: {err.message}; nothing was "
                    "sent — check the connection and try again",
                    latency_ms=err.latency_ms,
                )
            return await self._reread_after(
                target_id,
                label,
                seen,
                f"FinRadar gave no answer to the stop of {label} ({err.message})",
                None,
                err.latency_ms,
            )
        if reply.ok:
            return await self._stopped(target_id, label, seen, sent_at, reply)
        return self._refused(target_id, label, reply)

    async def _send_stop(self, path: str) -> Reply:
        timeout_s = self.settings.control_timeout_s
        reply = await self._send("POST", path, timeout_s=timeout_s)
        if reply.status == 429 and reply.sent and self._too_long(reply) is None:
            # Refused, so not acted on: the pacer now holds until Retry-After (at most
            # retry_after_cap_s); retry once. A longer wait is never waited: failed.
            # (An unsent 429 is the pacer's: the vendor's too-long wait is in force.)
            reply = await self._send("POST", path, timeout_s=timeout_s)
        return reply

    async def _send(
        self,
        method: str,
        path: str,
        *,
        timeout_s: float,
        params: Mapping[str, QueryValue] | None = None,
    ) -> Reply:
        return await send(
            self._http, method, path, params=params, timeout_s=timeout_s, pacer=self._pacer
        )

    async def _stopped(
        self, target_id: str, label: str, seen: _Seen | None, sent_at: float, reply: Reply
    ) -> Outcome:
        try:
            stop = _parse(reply, StopReply)
        except ValueError as exc:
            return await self._reread_after(
                target_id,
                label,
                seen,
                f"FinRadar answered the stop of {label} with {exc}",
                reply.status,
                reply.latency_ms,
            )
        if (stop.status or "").upper() != "STOPPED":
            return await self._reread_after(
                target_id,
                label,
                seen,
                f"FinRadar answered the stop of {label} with status {stop.status!r}",
                reply.status,
                reply.latency_ms,
            )
        label = _label(target_id, stop.ticker or (seen.ticker if seen else None))
        self._seen[target_id] = _Seen("STOPPED", stop.ticker or (seen.ticker if seen else ""))
        how = f"{stop.resolution_reason or 'no reason given'} at {stop.stopped_at or '?'}"
        slots = self._slots_text(stop.slots_available)
        if _already_stopped_from_idempotent_200(stop, seen, sent_at):
            return Outcome(
                OutcomeKind.ALREADY,
                f"{label} was already stopped ({how}); nothing changed{slots}",
                http_status=reply.status,
                latency_ms=reply.latency_ms,
                state_after=State.STOPPED,
            )
        return Outcome(
            OutcomeKind.APPLIED,
            f"stopped {label} ({how}); its plan slot is free{slots}",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=State.STOPPED,
        )

    async def _reread_after(
        self,
        target_id: str,
        label: str,
        seen: _Seen | None,
        what: str,
        status: int | None,
        latency_ms: float | None,
    ) -> Outcome:
        """No usable answer to a stop: never re-send it, re-read the target instead."""
        try:
            target = await self.read_target(target_id)
        except FeedError as exc:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"{what}; re-reading it failed too ({exc}). The stop may or may not have "
                "landed — refresh, or stop again (stop is idempotent)",
                http_status=status,
                latency_ms=latency_ms,
            )
        if target is None:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"{what}; a re-read no longer lists {target_id} under this API key — "
                "refresh the list",
                http_status=status,
                latency_ms=latency_ms,
            )
        if target.state is State.STOPPED:
            reason = target.attrs.get("resolution")
            at = target.attrs.get("stopped_at") or "?"
            earlier = reason != MANUAL_STOP or (seen is not None and seen.status == "STOPPED")
            return Outcome(
                OutcomeKind.ALREADY if earlier else OutcomeKind.APPLIED,
                f"{what}, but a re-read shows it STOPPED ({reason or 'no reason given'} at "
                f"{at})" + ("; it had stopped before this call" if earlier else ""),
                http_status=status,
                latency_ms=latency_ms,
                state_after=State.STOPPED,
            )
        return Outcome(
            OutcomeKind.UNCERTAIN,
            f"{what}; a re-read still shows it {target.raw_status}. The stop may still land "
            "— refresh in a moment, or stop again (stop is idempotent)",
            http_status=status,
            latency_ms=latency_ms,
            state_after=target.state,
        )

    def _refused(self, target_id: str, label: str, reply: Reply) -> Outcome:
        words, code = self._vendor_words(reply)
        said = f"{reply.status} {code or ''}".strip() + f': "{words}"'
        kind, message = OutcomeKind.FAILED, ""
        if reply.status == 404:
            kind, message = _unknown_target_from_404(target_id, said)
        elif reply.status in (401, 403):
            kind = OutcomeKind.REJECTED
            message = (
                f"FinRadar refused the API key of venue {self.name!r} ({said}); {label} was "
                "not stopped — check credentials.api_key in the profile"
            )
        elif reply.status == 429 and (asked := self._too_long(reply)) is not None:
            what = "refused" if reply.sent else "not sent"
            message = (
                f"{not_waiting(VENDOR, asked, self.settings.retry_after_cap_s)} "
                f"(the stop of {label} was {what}: {said})"
            )
        elif reply.status == 429 and not reply.sent:
            left = retry_after_seconds(reply.headers) or 0.0
            message = (
                f"FinRadar asked a moment ago to wait longer than "
                f"{self.settings.retry_after_cap_s:g} s (rate limited; {wait_words(left)} "
                f"left): the stop of {label} was not sent — retry later (r in the kill report)"
            )
        elif reply.status == 429:
            wait = retry_after_seconds(reply.headers)
            after = f" in {wait:g} s" if wait is not None else " shortly"
            message = (
                f"rate limited: FinRadar refused the stop of {label} twice ({said}); "
                f"nothing was stopped — try again{after}"
            )
        elif reply.status >= 500:
            message = (
                f"FinRadar server error while stopping {label} ({said}); the stop was "
                "probably not applied — refresh and try again"
            )
        elif 400 <= reply.status < 500:
            kind = OutcomeKind.REJECTED
            message = f"FinRadar refused to stop {label} ({said})"
        else:
            message = f"unexpected answer from FinRadar to the stop of {label} ({said})"
        return Outcome(
            kind,
            message,
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            vendor_code=code,
        )

    # ----- feed and lifecycle -----------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the list (no sniper stream exists); the poller survives any venue error."""
        await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----- messages -----------------------------------------------------------------------
    def _vendor_words(self, reply: Reply) -> tuple[str, str | None]:
        """The vendor's own message and error code, never containing our key."""
        text: str | None = None
        code: str | None = None
        body = reply.json_or_none()
        if isinstance(body, dict):
            try:
                envelope = ErrorBody.model_validate(body)
                text, code = envelope.text(), envelope.code()
            except ValidationError:
                pass
        return self._scrub(text or reply.text() or "(empty body)"), code

    def _error_text(self, reply: Reply, what: str) -> str:
        words, code = self._vendor_words(reply)
        said = f"{reply.status} {code or ''}".strip() + f': "{words}"'
        if reply.status in (401, 403):
            return (
                f"FinRadar refused the API key ({said}); check credentials.api_key of "
                f"venue {self.name!r}"
            )
        if reply.status == 429 and (asked := self._too_long(reply)) is not None:
            cap = self.settings.retry_after_cap_s
            return f"{what}: {not_waiting(VENDOR, asked, cap)} ({said})"
        if reply.status == 429 and not reply.sent:
            return (
                f"{what}: not sent — FinRadar asked a moment ago to wait longer than "
                f"{self.settings.retry_after_cap_s:g} s (rate limited)"
            )
        if reply.status == 429:
            return f"{what}: rate limited ({said}); the console will retry"
        return f"{what}: {said}"

    def _slots_text(self, available: int | None) -> str:
        if available is None:
            return ""
        total = self._slots_total
        return f"; {max(0, total - available)} of {total} slots used"

    def _scrub(self, text: str) -> str:
        return self._scrubber.scrub(text)

    def _scrubbed(self, exc: FeedError) -> FeedError:
        """The same error, its text scrubbed (an Incomplete keeps what it read)."""
        text = self._scrub(str(exc))
        if isinstance(exc, Incomplete):
            return Incomplete(text, exc.partial)
        return type(exc)(text)


def _already_stopped_from_idempotent_200(
    stop: StopReply, seen: _Seen | None, sent_at: float
) -> bool:
    """Stop answers 200 for an already-STOPPED target too, with its original stop's body.

    It was already stopped when the body's reason is not ``manual_stop`` (it ended by
    itself), when our last read showed it STOPPED, or, for a target we never read, when
    its ``stopped_at`` is well before we sent the call (allowing for clock skew).
    """
    if stop.resolution_reason and stop.resolution_reason != MANUAL_STOP:
        return True
    if seen is not None:
        return seen.status.upper() == "STOPPED"
    stopped_at = _epoch(stop.stopped_at)
    return stopped_at is not None and stopped_at < sent_at - CLOCK_SKEW_S


def _unknown_target_from_404(target_id: str, said: str) -> tuple[OutcomeKind, str]:
    """FinRadar answers 404 for an unknown id and for another user's, alike."""
    return (
        OutcomeKind.REJECTED,
        f"unknown target (or not yours): FinRadar has no sniper target {target_id} under "
        f"this API key ({said}) — refresh the list and check the id",
    )


def _parse(reply: Reply, model: type[_M]) -> _M:
    """The reply's JSON as ``model``; ValueError names malformed JSON or the bad shape."""
    body = reply.json()
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValueError(f"an answer of unexpected shape ({where}: {first['msg']})") from None


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def _label(target_id: str, ticker: str | None) -> str:
    return f"{ticker} sniper {target_id}" if ticker else f"sniper {target_id}"


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
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return f"an answer of unexpected shape ({where}: {first['msg']})"
    return str(exc)
