"""FinRadar Sniper: watch sniper targets and stop them, through ``/api/v1/sniper/...``.

Vendor quirks handled here, and nowhere else:

* Stop is idempotent: an already-STOPPED target answers ``200`` with the body of its
  original stop. :func:`~console.venues.finradar.outcomes.already_stopped_from_idempotent_200`
  tells *already* from *applied* (a reason other than ``manual_stop``; STOPPED at our
  last read; or, for a target we never read, a ``stopped_at`` well before the call was
  sent).
* ``404`` means unknown **or owned by another user** -> rejected
  (:func:`~console.venues.finradar.outcomes.unknown_target_from_404`).
* There is no single-target GET: ``read_target`` pages through the list (filtered by
  ticker when we know it) and picks the id.
* Offset pagination over a newest-first list (:func:`~console.venues.finradar.mapping.read_whole`):
  the read follows ``meta.total``, not "a short page is the last" (one request when the
  first page reaches the total; a venue whose meta holds no total, as documented, is
  read to an empty page, or to a page saying ``has_more: false``, undocumented; a short
  page followed by the same rows is a venue that does not page, and is whole — unless
  this client saw the venue cap its pages at that size); a total that changes
  between pages (or an id coming back on a later page) re-reads from the start, a few
  times at most, then :class:`Incomplete`; rows listed ≠ ``meta.total`` is never the
  complete list; an id on two rows of one answer is kept once (its least-stopped row)
  and named in ``skipped_rows``. A page that adds no new row (a venue ignoring
  ``offset``), more than ``settings.max_pages`` pages or more than
  ``settings.max_targets`` targets end the read as :class:`Incomplete` with what was
  read; an answer without a ``targets`` list (``{}``, ``null``, malformed JSON) is
  :class:`Unreadable`, never "no targets"; one row that does not parse is skipped and
  named in ``skipped_rows`` (:func:`~console.venues.finradar.wire.parse_page`).
* ``CREATED`` counts as running (it starts monitoring by itself at ``start_time``).
* Error envelope and rate limit are undocumented: we read ``{"error": {"code",
  "message"}}`` and its common variants, and pace 120 requests/min per key (bucket
  ``requests``), honouring ``Retry-After`` on a 429: a stop goes again while refused
  (``console/venues/kit/refused.py``; a 429 was refused, so re-sending it cannot stop
  anything twice), a list read once — up to
  ``settings.retry_after_cap_s``: a longer wait (an hour, ``inf``, a date in year 9999)
  is never waited, the stop is *failed* and the list read a :class:`FeedError`, with
  the vendor's wait in words (:func:`console.venues.kit.pacing.not_waiting`).
* Ids go out as one percent-encoded path segment (:func:`console.venues.kit.http.segment`);
  ``.`` and ``..`` are refused unsent (*failed*).
* One :class:`~console.venues.kit.scrubber.VenueScrubber` over the API key masks every
  outcome, feed error and skipped-row note (a venue may echo the key in its errors).
* A timed-out stop is never re-sent: it is re-read and reported as applied/already when
  the target shows STOPPED, else uncertain. A stop answered with malformed JSON likewise
  (:class:`~console.venues.kit.control.ControlStep`).
* No stream for sniper state (Socket.IO is out of scope): the feed polls the list.

Target attrs: see :mod:`console.venues.finradar.mapping`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from functools import partial

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    Outcome,
    OutcomeKind,
    State,
    Target,
)
from console.core.ports import Capabilities, ControlRate
from console.venues.finradar.mapping import (
    STOP_SPEC,
    Bounds,
    Listing,
    Seen,
    label,
    read_whole,
    to_target,
)
from console.venues.finradar.outcomes import (
    asked_too_long,
    read_error,
    refused,
    settled,
    stopped,
    unreached,
    unsettled,
)
from console.venues.finradar.wire import (
    READING,
    Page,
    StopReply,
    parse,
    parse_page,
    vendor_words,
)
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.control import ControlStep, NoAnswer, about_another, guarded
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import (
    CallError,
    QueryValue,
    Reply,
    UnsafeId,
    segment,
    send,
)
from console.venues.kit.http_client import Seam, make_http_client, use_scrubber
from console.venues.kit.pacing import make_pacer
from console.venues.kit.paging import forget_unlisted
from console.venues.kit.refused import Refusals
from console.venues.kit.scrubber import VenueScrubber
from console.venues.kit.transient import transient_reply

log = logging.getLogger(__name__)

TARGETS_PATH = "/api/v1/sniper/targets"
RATE_BUCKET = "requests"
DOCUMENTED_RATE = RateLimit(120, 60.0)  # [GAP] project decision: 120 requests/min per key
PAID_SLOTS = 5
MAX_PAGE = 200


# What core and the screen may know of FinRadar: requests paced per key.
CAPABILITIES = Capabilities(
    control_rate=ControlRate(RATE_BUCKET, DOCUMENTED_RATE.limit, DOCUMENTED_RATE.window_s)
)


class FinRadarClient(VenueClient):
    """One FinRadar API key: its sniper targets, their slots, and the stop call."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(self, settings: VenueSettings, *, transport: Seam | None = None) -> None:
        super().__init__(settings)
        key = settings.secret("api_key").reveal()
        self.scrubber = VenueScrubber([key])
        self._http = make_http_client(
            settings,
            headers={"X-API-Key": key, "Accept": "application/json"},
            transport=transport,
        )
        use_scrubber(self._http, self.scrubber.scrub)  # before a network error is cut
        rate = settings.rate_limits.get(RATE_BUCKET, DOCUMENTED_RATE)
        self._pacer = make_pacer(
            rate,
            enabled=settings.pacing,
            scale=settings.rate_scale,
            cap_s=settings.retry_after_cap_s,
        )
        self._refusals = Refusals.of(settings, self._pacer)
        page = int(settings.options.get("page_size", MAX_PAGE))
        self._page_size = max(1, min(MAX_PAGE, page))
        self._caps: set[int] = set()  # page sizes this venue was seen to cap at (Bounds)
        self._seen: dict[str, Seen] = {}
        self._whole = 0  # targets in the last whole list read (forget_unlisted)
        self._slots_total = PAID_SLOTS

    # ----- reading ----------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        self.skipped_rows = []
        listing = Listing()
        try:
            await self._list({}, listing)
        except FeedError as exc:
            self.skipped_rows = self._skipped(listing)
            if isinstance(exc, Incomplete):  # what it read was noted in _seen
                forget_unlisted(self._seen, {t.id for t in exc.partial}, self._whole)
            raise self.scrubber.error(exc) from None
        self.skipped_rows = self._skipped(listing)
        targets = self._targets(listing)
        self._whole = len(targets)
        forget_unlisted(self._seen, listing.rows)  # (the whole list was read)
        return targets

    async def read_target(self, target_id: str) -> Target | None:
        """The target, freshly read; None when the list (to its end) does not hold it.

        Raises :class:`Unreadable` when its row is there but does not parse, and
        :class:`Incomplete` when the list could not be read to its end without it.
        """
        seen = self._seen.get(target_id)
        filters: dict[str, QueryValue] = {"ticker": seen.ticker} if seen and seen.ticker else {}
        listing = Listing()
        try:
            await self._list(filters, listing)
        except Incomplete as exc:
            found = [t for t in exc.partial if t.id == target_id]
            if found:
                return found[0]
            raise self.scrubber.error(exc) from None
        except FeedError as exc:
            raise self.scrubber.error(exc) from None
        if target_id in listing.skipped:
            why = listing.skipped[target_id]
            raise Unreadable(
                self.scrubber.scrub(f"{READING}: the row of {target_id} is unreadable ({why})")
            )
        for target in self._targets(listing):
            if target.id == target_id:
                return target
        return None

    async def _list(self, filters: Mapping[str, QueryValue], listing: Listing) -> None:
        """Every page of the (filtered) list into ``listing``, within the venue's bounds
        (:func:`~console.venues.finradar.mapping.read_whole`: FeedError with the venue's
        words, Unreadable, or Incomplete with the targets read so far)."""
        bounds = Bounds(
            self._page_size,
            max(1, self.settings.max_pages),
            max(1, self.settings.max_targets),
            self._caps,
        )
        await read_whole(self._page, filters, listing, bounds, self._targets)

    async def _page(self, params: Mapping[str, QueryValue]) -> Page:
        offset = params.get("offset", 0)
        return parse_page(await self._read(params), offset if isinstance(offset, int) else 0)

    def _targets(self, listing: Listing) -> list[Target]:
        confirmed = time.time()
        meta = listing.meta
        self._slots_total = meta.slots_total or self._slots_total
        for row in listing.rows.values():
            self._seen[row.target_id] = Seen(row.status, row.ticker)
        return [
            to_target(self.name, row, meta, self._slots_total, confirmed)
            for row in listing.rows.values()
        ]

    def _skipped(self, listing: Listing) -> list[str]:
        return [self.scrubber.scrub(note) for note in listing.notes()]

    async def _read(self, params: Mapping[str, QueryValue]) -> Reply:
        reply: Reply | None = None
        for _attempt in range(2):  # a 429 was refused: one paced retry is safe
            try:
                reply = await self._send(
                    "GET", TARGETS_PATH, params=params, timeout_s=self.settings.request_timeout_s
                )
            except CallError as err:
                raise FeedError(f"{READING}: {err.message}", transient=err.transient) from None
            if reply.status != 429 or not reply.sent or self._too_long(reply) is not None:
                break
        assert reply is not None
        if reply.ok:
            return reply
        words, code = self._vendor_words(reply)
        cap_s = self.settings.retry_after_cap_s
        raise FeedError(
            read_error(self.name, READING, reply, words, code, cap_s),
            transient=transient_reply(reply, cap_s),
        )

    def _too_long(self, reply: Reply) -> float | None:
        """The wait a 429 asks for, when it is beyond what we honour (else None)."""
        return asked_too_long(reply, self.settings.retry_after_cap_s)

    # ----- actions ----------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Stop, for anything not already stopped (an unknown status may still monitor)."""
        return [] if target.state is State.STOPPED else [STOP_SPEC]

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        """A sniper holds no positions; stopping it is the whole of an emergency stop."""
        return None if target.state is State.STOPPED else Action(ActionKind.STOP)

    async def execute(self, target_id: str, action: Action) -> Outcome:
        """One stop; never raises, and no outcome carries the key."""

        def internal_error(exc: Exception) -> Outcome:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"the stop of sniper {target_id} hit an internal error "
                f"({type(exc).__name__}); it may or may not have been sent — refresh, or "
                "stop again (stop is idempotent)",
            )

        return await guarded(
            self._execute(target_id, action), self.scrubber, internal_error=internal_error, log=log
        )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        if action.kind is not ActionKind.STOP:
            return Outcome(
                OutcomeKind.REJECTED,
                f"FinRadar sniper targets can only be stopped; {action.kind} does not exist "
                f"for {target_id} (to watch again, create a new target)",
            )
        seen = self._seen.get(target_id)
        named = label(target_id, seen.ticker if seen else None)
        try:
            path = f"{TARGETS_PATH}/{segment(target_id)}/stop"
        except UnsafeId as exc:
            return Outcome(
                OutcomeKind.FAILED,
                f"{named} was not stopped: {exc}; nothing was sent (a proxy could route "
                "it elsewhere) — stop it in FinRadar's dashboard",
            )
        sent_at = time.time()
        step = ControlStep(
            refusals=self._refusals,
            halting=True,  # FinRadar's one control is a stop
            reread=partial(self.read_target, target_id),
            judge=partial(settled, target_id, seen),
            reread_failed=unsettled,
            said=lambda reply: self._vendor_words(reply)[0],
        )
        return await step.run(
            partial(self._send_stop, path),
            translate=partial(self._translate, step, target_id, named, seen, sent_at),
            unreached=partial(unreached, named),
            unanswered=lambda err: (
                f"FinRadar gave no usable answer to the stop of {named} ({err.message})"
            ),
        )

    async def _send_stop(self, path: str) -> Reply:
        timeout_s = self.settings.control_timeout_s
        # (a 429 goes again in the ControlStep: kit/refused.py)
        return await self._send("POST", path, timeout_s=timeout_s, resend_on_stale=True)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        timeout_s: float,
        params: Mapping[str, QueryValue] | None = None,
        resend_on_stale: bool = False,
    ) -> Reply:
        return await send(
            self._http,
            method,
            path,
            params=params,
            timeout_s=timeout_s,
            pacer=self._pacer,
            resend_on_stale=resend_on_stale,
        )

    async def _translate(
        self,
        step: ControlStep[Target | None],
        target_id: str,
        named: str,
        seen: Seen | None,
        sent_at: float,
        reply: Reply,
    ) -> Outcome:
        if not reply.ok:
            words, code = self._vendor_words(reply)
            cap_s = self.settings.retry_after_cap_s
            return refused(self.name, target_id, named, reply, words, code, cap_s)
        try:
            stop = parse(reply, StopReply)
        except ValueError as exc:
            what = f"FinRadar answered the stop of {named} with {exc}"
            return await step.settle(NoAnswer(what, reply.status, reply.latency_ms))
        other = about_another(stop.target_id, target_id)
        if other is not None:
            what = f"FinRadar answered the stop of {named} with {other}"
            return await step.settle(NoAnswer(what, reply.status, reply.latency_ms))
        if (stop.status or "").upper() != "STOPPED":
            what = f"FinRadar answered the stop of {named} with status {stop.status!r}"
            return await step.settle(NoAnswer(what, reply.status, reply.latency_ms))
        ticker = stop.ticker or (seen.ticker if seen else None)
        self._seen[target_id] = Seen("STOPPED", ticker or "")
        slots = self._slots_text(stop.slots_available)
        return stopped(label(target_id, ticker), stop, seen, sent_at, slots, reply)

    # ----- feed and lifecycle -----------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the list (no sniper stream exists); the poller survives any venue error."""
        await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----- messages -----------------------------------------------------------------------
    def _vendor_words(self, reply: Reply) -> tuple[str, str | None]:
        """The vendor's own message and error code, never containing our key."""
        words, code = vendor_words(reply, self.scrubber.scrub)
        return self.scrubber.scrub(words), code

    def _slots_text(self, available: int | None) -> str:
        """``; 2 of 5 slots used``, or ``; 7 of 5 slots used (over the plan by 2)`` when
        the venue counts fewer than no free slots (an over-allocated plan)."""
        if available is None:
            return ""
        total = self._slots_total
        over = f" (over the plan by {-available})" if available < 0 else ""
        return f"; {max(0, total - available)} of {total} slots used{over}"
