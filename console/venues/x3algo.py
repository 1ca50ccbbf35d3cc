"""x3algo venue client: algorithms watched by polling, stopped and started one by one.

Vendor quirks handled here (and nowhere else):

* Auth is a 15-minute JWT plus a refresh cookie, under a 5-per-15-minutes auth budget:
  log in once, refresh ahead of expiry and once on 401 (``x3algo_auth``).
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
  for a 200 whose JSON is malformed.

Target attrs (docs/ATTRIBUTES.md): symbols, timeframe, strategy_type, trades, win_rate,
profit, profit_factor, updated_at, last_execution (when the venue gives them).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    Outcome,
    OutcomeKind,
    State,
    Target,
)
from console.venues.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.feeds import FeedError, poll_forever
from console.venues.http import CallError, Reply, make_http_client
from console.venues.pacing import Pacer, make_pacer
from console.venues.x3algo_auth import X3AlgoAuthError, X3AlgoSession, vendor_error
from console.venues.x3algo_outcomes import (
    asked_state,
    error_details,
    failed,
    first_line,
    rejected_forbidden,
    rejected_incomplete_config,
)
from console.venues.x3algo_rows import (
    ROWS_PAGE,
    AlgorithmRow,
    algorithm_row,
    row_target,
    to_target,
)
from console.venues.x3algo_wire import (
    Algorithm,
    AlgorithmPage,
    ControlReply,
    Pagination,
    state_of,
)

ALGORITHMS = "/api/trading/algorithms"
PAGE_LIMIT = 100
PAGES_AT_ONCE = 4
"""Pages of the list in flight at once. All 59 pages of a 6,000-algorithm list at once
came back together and were parsed back to back, holding the screen's event loop for
100–200 ms per poll (key presses waited behind them); four at a time on loopback reads
the list about as fast and leaves the loop free between pages."""
MAX_PAGES = 1000


@dataclass(slots=True)
class _Page:
    """One page of the algorithm list, read: its targets, pagination and raw rows."""

    pagination: Pagination | None = None
    targets: list[Target] = field(default_factory=list)
    cache: dict[str, tuple[object, Target]] = field(default_factory=dict)
    rows: int = 0


POLL_SHARE = 0.8  # of the general budget; the rest is kept for re-reads

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

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class X3AlgoClient(VenueClient):
    """The x3algo algorithms API in the console's vocabulary."""

    def __init__(
        self, settings: VenueSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        self._http = make_http_client(settings, transport=transport)
        self._general = self._pacer("general")
        self._trading = self._pacer("trading")
        self.session = X3AlgoSession(self._http, settings, self._pacer("auth"))
        self._names: dict[str, str] = {}
        self._poll_pages = 1
        self._last_poll = 0.0
        self._rows: dict[str, tuple[object, Target]] = {}  # id -> (last row read, its target)

    def _pacer(self, bucket: str) -> Pacer:
        rate = self.settings.rate_limits.get(bucket, RATE_LIMITS[bucket])
        return make_pacer(rate, enabled=self.settings.pacing, scale=self.settings.rate_scale)

    # ----- reads ----------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        first = await self._page(1)
        pages = [first]
        total_pages = first.pagination.total_pages if first.pagination else None
        if total_pages is not None:
            more = range(2, min(total_pages, MAX_PAGES) + 1)
            reading = asyncio.Semaphore(PAGES_AT_ONCE)

            async def read(number: int) -> _Page:
                async with reading:
                    return await self._page(number)

            pages += await asyncio.gather(*(read(p) for p in more))
        else:  # no pagination block: read on until a short page
            page_no, last = 1, first
            while last.rows >= PAGE_LIMIT and page_no < MAX_PAGES:
                page_no += 1
                last = await self._page(page_no)
                pages.append(last)
        self._poll_pages = len(pages)
        seen: dict[str, Target] = {}
        rows: dict[str, tuple[object, Target]] = {}
        for page in pages:
            for target in page.targets:
                seen[target.id] = target
            rows.update(page.cache)
        self._rows = rows  # algorithms no longer listed drop out of the cache
        return list(seen.values())

    async def read_target(self, target_id: str) -> Target | None:
        reply = await self._read(f"{ALGORITHMS}/{quote(target_id, safe='')}")
        if reply.status == 404:
            return None
        if reply.status != 200:
            raise X3AlgoReadError(self._read_failure(reply, f"algorithm {target_id}"))
        try:
            algo = reply.validated(Algorithm)
        except ValueError as exc:
            raise X3AlgoReadError(
                f"x3algo sent an unreadable answer for algorithm {target_id}: {first_line(exc)}"
            ) from None
        return self._target(algo)

    async def _page(self, page: int) -> _Page:
        params: dict[str, str | int] = {
            "page": page,
            "limit": PAGE_LIMIT,
            "sort": "createdAt",
            "order": "asc",
        }
        reply = await self._read(ALGORITHMS, params)
        if reply.status != 200:
            raise X3AlgoReadError(self._read_failure(reply, f"the algorithm list (page {page})"))
        try:
            return self._parse_page(reply)
        except ValueError as exc:
            raise X3AlgoReadError(
                f"x3algo sent an unreadable algorithm list (page {page}): {first_line(exc)}"
            ) from None

    def _parse_page(self, reply: Reply) -> _Page:
        """One page of the list as targets. A row identical to the one read last time
        keeps its parsed target (re-confirmed now): a poll of 6,000 algorithms, of which
        a few dozen moved, maps a few dozen, not 6,000, on the screen's own loop.
        Raises ``ValueError`` (pydantic's ``ValidationError`` for a wrong shape)."""
        try:
            body = ROWS_PAGE.validate_json(reply.content)
        except ValidationError:
            return self._parse_page_tolerantly(reply)
        return self._page_of(body["data"], body.get("pagination"))

    def _parse_page_tolerantly(self, reply: Reply) -> _Page:
        """A page the fast reading refused, read as a single algorithm is: this one
        says what is wrong, or reads a shape the docs do not promise (no ``data``)."""
        body = reply.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(data, list):
            # Not the documented shape: pydantic says what is wrong (or, with no ``data``
            # at all, reads an empty page as before).
            return _Page(AlgorithmPage.model_validate(body).pagination)
        pagination = body.get("pagination")
        rows = [algorithm_row(Algorithm.model_validate(row)) for row in data]
        return self._page_of(
            rows, Pagination.model_validate(pagination) if pagination is not None else None
        )

    def _page_of(self, rows: list[AlgorithmRow], pagination: Pagination | None) -> _Page:
        page = _Page(pagination)
        now = time.time()
        cached = self._rows
        names = self._names
        for row in rows:
            target_id = row["id"]
            hit = cached.get(target_id)
            if hit is not None and hit[0] == row:
                target = hit[1]
                target = Target(target.venue, target.kind, target.id, target.name,
                                target.state, target.raw_status, target.attrs, now)  # fmt: skip
            else:
                target = row_target(self.name, row, now)
                names[target_id] = row.get("name", "")
            page.targets.append(target)
            page.cache[target_id] = (row, target)
        page.rows = len(rows)
        return page

    async def _read(self, path: str, params: dict[str, str | int] | None = None) -> Reply:
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
                f"x3algo did not answer a read of {path}: {exc.message}"
            ) from None

    def _read_failure(self, reply: Reply, what: str) -> str:
        code, message = vendor_error(reply)
        hint = {
            401: "the login no longer works; check the account in the profile",
            403: "this account may not see it",
            429: "x3algo's rate limit; the console will slow down and retry",
        }.get(reply.status, "x3algo is in trouble; the console keeps retrying")
        if reply.status >= 500:
            hint = "x3algo's server failed; the console keeps retrying"
        text = f"x3algo could not give {what}: HTTP {reply.status} {code} {message!r} ({hint})"
        return self.session.scrub(text.replace("  ", " "))

    def _target(self, algo: Algorithm) -> Target:
        self._names[algo.id] = algo.name
        return to_target(self.name, algo)

    # ----- actions --------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Stop on active, paused or unknown; start on stopped. Draft and error get none:
        a draft cannot start (config incomplete) and x3algo refuses to stop either."""
        if target.state in (State.RUNNING, State.PAUSED, State.UNKNOWN):
            return [STOP_SPEC]
        if target.raw_status == "stopped":
            return [START_SPEC]
        return []

    def kill_action(self, target: Target, *, close_positions: bool = False) -> Action | None:
        """Stop whatever may be trading (active, paused, or a status nobody knows);
        x3algo cannot close positions on stop, whatever ``close_positions`` asks."""
        if target.state in (State.RUNNING, State.PAUSED, State.UNKNOWN):
            return Action(ActionKind.STOP)
        return None

    async def execute(self, target_id: str, action: Action) -> Outcome:
        what = self._what(target_id)
        if action.kind not in (ActionKind.STOP, ActionKind.START):
            return Outcome(
                OutcomeKind.REJECTED,
                f"x3algo has no {action.kind.value} endpoint (only start and stop; paused is "
                f"shown, never set). Nothing was sent for {what}; use stop instead.",
            )
        verb = action.kind.value
        path = f"{ALGORITHMS}/{quote(target_id, safe='')}/{verb}"
        try:
            reply = await self.session.request(
                "POST", path, pacer=self._trading, timeout_s=self.settings.control_timeout_s
            )
        except X3AlgoAuthError as exc:
            return Outcome(
                OutcomeKind.FAILED,
                self.session.scrub(f"Could not {verb} {what}: {exc.message} Nothing was sent."),
                http_status=exc.status,
                vendor_code=exc.code,
            )
        except CallError as exc:
            if exc.maybe_sent:
                reason = f"x3algo gave no answer to the {verb} of {what} ({exc.message})"
                return await self._settle_by_reread(target_id, action, reason, None, exc.latency_ms)
            return Outcome(
                OutcomeKind.FAILED,
                f"Could not reach x3algo to {verb} {what}: {exc.message}. Nothing was sent; "
                f"check the network or the venue's base URL, then retry.",
            )
        outcome = await self._translate(target_id, action, reply)
        message = self.session.scrub(outcome.message)
        return outcome if message == outcome.message else replace(outcome, message=message)

    async def _translate(self, target_id: str, action: Action, reply: Reply) -> Outcome:
        verb, what = action.kind.value, self._what(target_id)
        status, latency = reply.status, reply.latency_ms
        if status == 200:
            try:
                body = reply.validated(ControlReply)
            except ValueError as exc:
                reason = f"x3algo answered the {verb} of {what} with {first_line(exc)}"
                return await self._settle_by_reread(target_id, action, reason, 200, latency)
            state = state_of(body.status) if body.status else asked_state(action)
            return Outcome(
                OutcomeKind.APPLIED,
                f"x3algo: {body.message or verb + ' done'!r} — {what} is now {body.status or '?'}.",
                http_status=200,
                latency_ms=latency,
                state_after=state,
            )
        code, message = vendor_error(reply)
        details = error_details(reply)
        if status == 422 and action.kind is ActionKind.STOP:
            return await self._already_stopped_from_422(target_id, message, latency)
        if status == 422:
            return await self._already_active_from_422(target_id, message, latency)
        if status == 400:
            return rejected_incomplete_config(what, code, message, details, latency)
        if status == 403:
            return rejected_forbidden(what, verb, code, message, details, latency)
        if status == 404:
            return Outcome(
                OutcomeKind.REJECTED,
                f"x3algo does not know {what}: {message!r}. It may have been deleted; "
                f"refresh the list.",
                http_status=404,
                latency_ms=latency,
                vendor_code=code or None,
            )
        return failed(what, verb, reply, code, message)

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
        now, problem = await self._reread(target_id)
        if now is not None and now.state is wanted:
            return Outcome(
                OutcomeKind.ALREADY,
                f"{what} was already {now.raw_status} (x3algo: {message!r}).",
                http_status=422,
                latency_ms=latency,
                state_after=wanted,
                vendor_code="UNPROCESSABLE_ENTITY",
            )
        seen = f"a re-read shows it {now.raw_status}" if now else f"re-read failed: {problem}"
        return Outcome(
            OutcomeKind.REJECTED,
            f"x3algo would not {verb} {what}: {message!r}; {seen}. {hint}",
            http_status=422,
            latency_ms=latency,
            state_after=now.state if now else None,
            vendor_code="UNPROCESSABLE_ENTITY",
        )

    async def _settle_by_reread(
        self,
        target_id: str,
        action: Action,
        reason: str,
        http_status: int | None,
        latency: float | None,
    ) -> Outcome:
        """No usable answer: never re-send; re-read and say what the algorithm shows."""
        asked = asked_state(action)
        now, problem = await self._reread(target_id)
        if now is not None and now.state is asked:
            return Outcome(
                OutcomeKind.APPLIED,
                self.session.scrub(
                    f"{reason}; a re-read shows it {now.raw_status}, as asked (not re-sent)."
                ),
                http_status=http_status,
                latency_ms=latency,
                state_after=now.state,
                warning=reason,
            )
        seen = (
            f"a re-read shows it {now.raw_status}" if now else f"the re-read failed too: {problem}"
        )
        return Outcome(
            OutcomeKind.UNCERTAIN,
            self.session.scrub(
                f"{reason}; it may or may not have happened, and {seen}. Not re-sent: "
                f"check the algorithm before retrying."
            ),
            http_status=http_status,
            latency_ms=latency,
            state_after=now.state if now else None,
        )

    async def _reread(self, target_id: str) -> tuple[Target | None, str]:
        try:
            target = await self.read_target(target_id)
        except (FeedError, CallError) as exc:
            return None, getattr(exc, "message", str(exc))
        return target, "" if target else "x3algo no longer knows it"

    def _what(self, target_id: str) -> str:
        name = self._names.get(target_id)
        return f"algorithm {name!r} ({target_id})" if name else f"algorithm {target_id}"

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
        try:
            return await self.list_targets()
        except (FeedError, CallError) as exc:
            raise X3AlgoReadError(self.session.scrub(getattr(exc, "message", str(exc)))) from None

    def poll_spacing(self) -> float:
        """Seconds between poll starts so polling spends at most POLL_SHARE of the budget."""
        if not self.settings.pacing:
            return 0.0
        rate = self._general.rate
        return self._poll_pages * rate.window_s / (rate.limit * POLL_SHARE)

    async def aclose(self) -> None:
        await self._http.aclose()
