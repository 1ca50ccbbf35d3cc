"""x3algo venue client: algorithms watched by polling, stopped and started one by one.

Vendor quirks handled here (and nowhere else):

* Auth is a 15-minute JWT plus a refresh cookie, under a 5-per-15-minutes auth budget:
  log in once, refresh ahead of expiry and once on 401 (:mod:`console.venues.x3algo.auth`).
* ``422 UNPROCESSABLE_ENTITY`` "Algorithm not active" to a stop: re-read, and the
  algorithm being ``stopped`` (or ``draft``) makes it *already*
  (:meth:`X3AlgoClient._already_stopped_from_422`); "Algorithm already active" to a start
  is *already* once a re-read shows it active (``_already_active_from_422``).
* ``400 VALIDATION_ERROR`` (config incomplete, ``details.missingFields``) and ``403
  FORBIDDEN`` (daily loss limit, ``details.dailyLoss``/``limit``) on start are
  *rejected* with those details spelled out.
* No pause/resume endpoint: ``paused`` is shown read-only; only stop and start exist.
* No stream: the list is polled (100 per page); the poll interval stretches so polling
  uses at most 80 % of the general 1000-per-15-minutes budget, and control calls have
  their own trading bucket (100 per minute), so polling never starves a stop.
* A control call with no answer is never re-sent: the algorithm is re-read and the
  outcome is *applied* when it shows the asked state, else *uncertain*. The same goes
  for a 200 whose JSON is malformed (:class:`~console.venues.kit.control.ControlStep`).

Against a hostile venue (docs/venues/x3algo.md, "Bounds"): the list is read within
``max_pages``, ``max_targets`` and what the read budget pays for within the Retry-After
cap (:mod:`console.venues.kit.paging`); a wait the venue asks beyond ``retry_after_cap_s`` is not waited
(*failed*, in words); an id ``.`` or ``..`` is never sent (*failed*, nothing sent); and
every text passes one :class:`~console.core.scrub.Scrubber` that knows the email, the
password and every token this session was given.

Target attrs (docs/ATTRIBUTES.md): symbols, timeframe, strategy_type, trades, win_rate,
profit, profit_factor, updated_at, last_execution (when the venue gives them).
"""

from __future__ import annotations

import asyncio
import logging
import time
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
from console.core.ports import Capabilities, ControlRate, describe
from console.core.scrub import printable
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.control import ControlStep, NoAnswer, about_another, guarded
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import CallError, Reply, UnsafeId, segment
from console.venues.kit.http_client import Seam, make_http_client, use_scrubber
from console.venues.kit.pacing import (
    Pacer,
    make_pacer,
    wait_words,
)
from console.venues.kit.paging import (
    Allowance,
    ListWords,
    Page,
    PagedList,
    forget_unlisted,
    page_allowance,
    reserve_of,
    room_for_a_page,
)
from console.venues.kit.refused import Refusals
from console.venues.kit.transient import transient_reply
from console.venues.x3algo.auth import X3AlgoAuthError, X3AlgoSession
from console.venues.x3algo.mapping import (
    PAGE_LIMIT,
    contradicts,
    listed_target,
    parse_page,
    to_target,
)
from console.venues.x3algo.outcomes import (
    asked_state,
    error_details,
    failed,
    first_line,
    from_422,
    read_failure,
    rejected_bad_request,
    rejected_forbidden,
    rejected_incomplete_config,
    settled,
    unsafe_id,
    unsettled,
    vendor_error,
)
from console.venues.x3algo.wire import Algorithm, AlgorithmRow, ControlReply, state_of

log = logging.getLogger(__name__)

ALGORITHMS = "/api/trading/algorithms"
POLL_SHARE = 0.8  # of the general budget; the rest is kept for re-reads
REREAD_SHARE = 0.03
"""Share of the general budget a list read leaves untouched (30 of x3algo's 1,000 per
15 minutes): whatever the list does, a kill's re-read of a few algorithms still goes."""

RATE_LIMITS: dict[str, RateLimit] = {
    "auth": RateLimit(5, 15 * 60),
    "trading": RateLimit(100, 60),
    "general": RateLimit(1000, 15 * 60),
}

STOP_SPEC = ActionSpec(
    ActionKind.STOP,
    "Stop algorithm",
    leaves_behind=(
        "open positions stay open; exit conditions, stop-loss and take-profit orders "
        "stay live (x3algo closes nothing on stop)"
    ),
)
START_SPEC = ActionSpec(
    ActionKind.START,
    "Start algorithm",
    leaves_behind="the algorithm generates entry signals and opens new positions again",
)


class X3AlgoReadError(FeedError):
    """A read the console could not use; ``message`` is shown as is (secret-free)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message, transient=transient)
        self.message = message


# What core and the screen may know of x3algo: profit measures exposure; stops pace
# under the trading bucket.
CAPABILITIES = Capabilities(
    exposure_attrs=(("profit", 1.0),),
    control_rate=ControlRate(
        "trading", RATE_LIMITS["trading"].limit, RATE_LIMITS["trading"].window_s
    ),
)


class X3AlgoClient(VenueClient):
    """The x3algo algorithms API in the console's vocabulary."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(self, settings: VenueSettings, *, transport: Seam | None = None) -> None:
        super().__init__(settings)
        self._http = make_http_client(settings, transport=transport)
        self._general = self._pacer("general")
        self._trading = self._pacer("trading")
        self._refusals = Refusals.of(settings, self._trading)
        self.session = X3AlgoSession(self._http, settings, self._pacer("auth"))
        self.scrubber = self.session.scrubber  # knows the email, password and tokens
        use_scrubber(self._http, self.scrubber.scrub)  # before a network error is cut
        self._names: dict[str, str] = {}
        self._whole = 0  # algorithms in the last whole list read (forget_unlisted)
        self._list: PagedList[AlgorithmRow] = PagedList(
            ListWords("x3algo", "algorithm"),
            page_limit=PAGE_LIMIT,
            max_targets=settings.max_targets,
            to_target=partial(listed_target, self.name, self._names),
            scrubber=self.scrubber,  # twin notes: the id scrubbed, then cut
        )
        self._poll_pages = 1
        self._last_poll = 0.0

    def _pacer(self, bucket: str) -> Pacer:
        rate = self.settings.rate_limits.get(bucket, RATE_LIMITS[bucket])
        return make_pacer(
            rate,
            enabled=self.settings.pacing,
            scale=self.settings.rate_scale,
            cap_s=self.settings.retry_after_cap_s,
        )

    # ----- reads ----------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        """Every algorithm (docs/venues/x3algo.md, "Bounds"): raises ``Unreadable`` for an
        answer not in the documented shape, ``Incomplete`` (with what was read) when a
        cap, the read budget or a later page stopped it, ``FeedError`` otherwise."""
        self.skipped_rows = []
        try:
            targets = await self._list.read(
                self._fetch_page, self._page_allowance(), self._room_for_a_page
            )
        except FeedError as exc:
            if isinstance(exc, Incomplete):  # the names of what it read were kept
                forget_unlisted(self._names, {t.id for t in exc.partial}, self._whole)
            raise self.scrubber.error(exc) from None
        finally:
            self.skipped_rows = [self.scrubber.scrub(row) for row in self._list.skipped]
            self._poll_pages = max(1, self._list.pages_read)
        self._whole = len(targets)
        forget_unlisted(self._names, {t.id for t in targets})  # (the whole list was read)
        return targets

    async def read_target(self, target_id: str) -> Target | None:
        try:
            path = f"{ALGORITHMS}/{segment(target_id)}"
        except UnsafeId:
            raise X3AlgoReadError(unsafe_id(target_id, "read")) from None
        try:
            reply = await self._read(path)
            if reply.status == 404:
                return None
            if reply.status != 200:
                raise X3AlgoReadError(
                    self._read_failure(reply, f"algorithm {target_id}"),
                    transient=transient_reply(reply, self.settings.retry_after_cap_s),
                )
            try:
                algo = reply.validated(Algorithm)
            except ValueError as exc:
                raise Unreadable(
                    self.scrubber.scrub(
                        printable(
                            f"x3algo sent an unreadable answer for algorithm {target_id}: "
                            f"{first_line(exc)}"
                        )
                    )
                ) from None
            other = about_another(algo.id, target_id)
            if other is not None:  # what it shows is not this algorithm's state
                raise Unreadable(
                    self.scrubber.scrub(f"x3algo answered the read of algorithm {target_id} "
                                        f"with {other}; its state is not known")
                )  # fmt: skip
        except FeedError as exc:
            raise self.scrubber.error(exc) from None
        return self._target(algo)

    async def _fetch_page(self, number: int) -> Page[AlgorithmRow]:
        params: dict[str, str | int] = {
            "page": number,
            "limit": PAGE_LIMIT,
            "sort": "createdAt",
            "order": "asc",
        }
        reply = await self._read(ALGORITHMS, params)
        if reply.status != 200:
            raise X3AlgoReadError(
                self._read_failure(reply, f"the algorithm list (page {number})"),
                transient=transient_reply(reply, self.settings.retry_after_cap_s),
            )
        return parse_page(reply.content, number, self.scrubber.scrub)

    def _page_allowance(self) -> Allowance:
        """Pages one list read may request: ``max_pages``, and no more than the general
        budget can pay for within the Retry-After cap while leaving ``REREAD_SHARE`` of it
        for re-reads (:func:`~console.venues.kit.paging.page_allowance`)."""
        return page_allowance(
            "x3algo",
            self._general,
            max_pages=self.settings.max_pages,
            cap_s=self.settings.retry_after_cap_s,
            reserve=reserve_of(self._general, REREAD_SHARE),
            pacing=self.settings.pacing,
        )

    def _room_for_a_page(self) -> str | None:
        """Whether the general budget can still pay for one more page (and the reserve)
        within the cap; read by every page past the first, as other reads share it."""
        if not self.settings.pacing:
            return None
        cap, reserve = self.settings.retry_after_cap_s, reserve_of(self._general, REREAD_SHARE)
        return room_for_a_page("x3algo", self._general, cap_s=cap, reserve=reserve)

    async def _read(self, path: str, params: dict[str, str | int] | None = None) -> Reply:
        """One GET; refused unsent when the general budget could not pay for it within
        the Retry-After cap (the pacer would hold it up to 15 minutes)."""
        wait = self._general.delay_for() if self.settings.pacing else 0.0
        cap = self.settings.retry_after_cap_s
        if wait > cap:
            raise X3AlgoReadError(
                f"x3algo's read budget ({self._general.rate.limit} per "
                f"{wait_words(self._general.rate.window_s)}) is spent for "
                f"{wait_words(wait)}: not waiting longer than {cap:g} s; nothing was sent"
            )
        try:
            return await self.session.request(
                "GET",
                path,
                params=params,
                pacer=self._general,
                timeout_s=self.settings.request_timeout_s,
            )
        except CallError as exc:
            raise X3AlgoReadError(
                self.scrubber.scrub(
                    f"x3algo gave no usable answer to a read of {path}: {exc.message}"
                ),
                transient=exc.transient,
            ) from None

    def _read_failure(self, reply: Reply, what: str) -> str:
        return self.scrubber.scrub(
            read_failure(reply, what, self.settings.retry_after_cap_s, self.scrubber.scrub)
        )

    def _target(self, algo: Algorithm) -> Target:
        self._names[algo.id] = algo.name
        return to_target(self.name, algo)

    # ----- actions --------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Stop on active, paused or unknown; start on stopped. Draft and error get none:
        a draft cannot start (config incomplete) and x3algo refuses to stop either."""
        if target.state in (State.RUNNING, State.PAUSED, State.UNKNOWN):
            return [STOP_SPEC]
        if target.raw_status.strip().lower() == "stopped":
            return [START_SPEC]
        return []

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        """Stop whatever may be trading (active, paused, or a status nobody knows);
        x3algo cannot close positions on stop, whatever ``clear_leaves_behind`` asks."""
        if target.state in (State.RUNNING, State.PAUSED, State.UNKNOWN):
            return Action(ActionKind.STOP)
        return None

    async def execute(self, target_id: str, action: Action) -> Outcome:
        """One stop or start; every message and warning scrubbed of credentials."""

        def internal_error(exc: Exception) -> Outcome:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"Could not {action.kind.value} {self._what(target_id)}: internal error "
                f"({describe(exc)}). The call may or may not have been sent: re-read the "
                "algorithm before retrying.",
            )

        return await guarded(
            self._execute(target_id, action), self.scrubber, internal_error=internal_error, log=log
        )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        what = self._what(target_id)
        if action.kind not in (ActionKind.STOP, ActionKind.START):
            return Outcome(
                OutcomeKind.REJECTED,
                f"x3algo has no {action.kind.value} endpoint (only start and stop; paused is "
                f"shown, never set). Nothing was sent for {what}; use stop instead.",
            )
        verb = action.kind.value
        try:
            path = f"{ALGORITHMS}/{segment(target_id)}/{verb}"
        except UnsafeId:
            return Outcome(OutcomeKind.FAILED, unsafe_id(target_id, verb))
        step: ControlStep[Target | None] = ControlStep(
            refusals=self._refusals,
            halting=action.kind.destructive,
            reread=partial(self.read_target, target_id),
            judge=partial(settled, action),
            reread_failed=unsettled,
            errors=(FeedError, CallError),
            said=lambda reply: self.scrubber.scrub(vendor_error(reply, self.scrubber.scrub)[1]),
        )
        try:
            return await step.run(
                partial(self._send_control, path, action.kind.destructive),
                translate=partial(self._translate, step, target_id, action, what),
                unreached=lambda err: Outcome(
                    OutcomeKind.FAILED,
                    f"Could not reach x3algo to {verb} {what}: {err.message}. Nothing was "
                    f"sent; check the network or the venue's base URL, then retry.",
                ),
                unanswered=lambda err: (
                    f"x3algo gave no usable answer to the {verb} of {what} ({err.message})"
                ),
            )
        except X3AlgoAuthError as exc:
            return Outcome(
                OutcomeKind.FAILED,
                f"Could not {verb} {what}: {exc.message} Nothing was sent.",
                http_status=exc.status,
                vendor_code=exc.code,
            )

    async def _send_control(self, path: str, halting: bool) -> Reply:
        return await self.session.request(
            "POST",
            path,
            pacer=self._trading,
            timeout_s=self.settings.control_timeout_s,
            resend_on_stale=halting,  # a stop, never a start: docs/EMERGENCY.md
        )

    async def _translate(
        self,
        step: ControlStep[Target | None],
        target_id: str,
        action: Action,
        what: str,
        reply: Reply,
    ) -> Outcome:
        verb = action.kind.value
        status, latency = reply.status, reply.latency_ms
        if reply.ok:  # 200 is documented; any success is read by its body
            try:
                body = reply.validated(ControlReply)
            except ValueError as exc:
                said = "" if status == 200 else f"HTTP {status} and "
                reason = f"x3algo answered the {verb} of {what} with {said}{first_line(exc)}"
                return await step.settle(NoAnswer(reason, status, latency))
            other = about_another(body.id, target_id)
            if other is not None:
                reason = f"x3algo answered the {verb} of {what} with {other}"
                return await step.settle(NoAnswer(reason, status, latency))
            if body.active is not None and contradicts(body.status, body.active):
                reason = (
                    f"x3algo answered the {verb} of {what} with status {body.status!r} but "
                    f"active {str(body.active).lower()}"
                )
                return await step.settle(NoAnswer(reason, status, latency))
            state = state_of(body.status) if body.status else asked_state(action)
            return Outcome(
                OutcomeKind.APPLIED,
                f"x3algo: {body.message or verb + ' done'!r} — {what} is now {body.status or '?'}.",
                http_status=status,
                latency_ms=latency,
                state_after=state,
            )
        scrub = self.scrubber.scrub
        code, message = vendor_error(reply, scrub)
        details = error_details(reply)
        if status == 422 and action.kind is ActionKind.STOP:
            return await self._already_stopped_from_422(target_id, message, latency)
        if status == 422:
            return await self._already_active_from_422(target_id, message, latency)
        if status == 400 and action.kind is ActionKind.START:
            return rejected_incomplete_config(what, code, message, details, latency, scrub)
        if status == 400:
            return rejected_bad_request(what, verb, code, message, latency)
        if status == 403:
            return rejected_forbidden(what, verb, code, message, details, latency, scrub)
        if status == 404:
            return Outcome(
                OutcomeKind.REJECTED,
                f"x3algo does not know {what}: {message!r}. It may have been deleted; "
                f"refresh the list.",
                http_status=404,
                latency_ms=latency,
                vendor_code=code or None,
            )
        return failed(what, verb, reply, code, message, self.settings.retry_after_cap_s)

    async def _already_stopped_from_422(
        self, target_id: str, message: str, latency: float
    ) -> Outcome:
        """x3algo answers 422 "Algorithm not active" to stopping a non-running algorithm."""
        hint = "x3algo can only stop an active or paused algorithm."
        return await self._already_from_422(
            target_id, message, latency, State.STOPPED, "stop", hint
        )

    async def _already_active_from_422(
        self, target_id: str, message: str, latency: float
    ) -> Outcome:
        """x3algo answers 422 "Algorithm already active" to starting a running algorithm."""
        hint = "Only a stopped algorithm can be started (a paused one must be stopped first)."
        return await self._already_from_422(
            target_id, message, latency, State.RUNNING, "start", hint
        )

    async def _already_from_422(
        self, target_id: str, message: str, latency: float, wanted: State, verb: str, hint: str
    ) -> Outcome:
        """A 422 is *already* when a re-read shows the asked state, else a refusal."""
        what = self._what(target_id)
        try:
            now, problem = await self.read_target(target_id), "x3algo no longer knows it"
        except (FeedError, CallError) as exc:
            now, problem = None, getattr(exc, "message", str(exc))
        return from_422(what, verb, message, latency, wanted, hint, now, problem)

    def _what(self, target_id: str) -> str:
        # Scrubbed before they are cut: a secret x3algo echoed in a name or an id, cut
        # through, would no longer be recognised whole by the outcome's scrubbing.
        scrub = self.scrubber.scrub
        name = scrub(printable(self._names.get(target_id) or ""))[:80]
        shown = scrub(printable(target_id))
        if len(shown) > 80:  # a 100,000-character id is named, not printed whole
            shown = f"{shown[:79]}… ({len(target_id):,} characters)"
        return f"algorithm {name!r} ({shown})" if name else f"algorithm {shown}"

    # ----- feed -----------------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the list forever; the interval stretches with the number of pages."""
        await poll_forever(self.name, self._poll_once, sink, self.settings.poll_interval_s)

    async def _poll_once(self) -> list[Target]:
        due = self._last_poll + self.poll_spacing()
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)  # pacing: keep polling inside its share of the budget
        self._last_poll = time.monotonic()
        return await self.list_targets()  # its errors are scrubbed, and keep their kind

    def poll_spacing(self) -> float:
        """Seconds between poll starts so polling spends at most POLL_SHARE of the budget."""
        if not self.settings.pacing:
            return 0.0
        rate = self._general.rate
        return self._poll_pages * rate.window_s / (rate.limit * POLL_SHARE)

    async def aclose(self) -> None:
        await self._http.aclose()
