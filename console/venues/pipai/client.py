"""PipAI Strategies venue client, generation A ("signed v1", CONTRACTS.md section 3).

Vendor quirks handled here and nowhere else:

* Every request is HMAC-signed over ``timestamp + METHOD + request target + body``;
  the target includes ``?query`` (Project decision) and is taken from the URL httpx
  will send, the body is serialised once and the same bytes are signed and sent, and
  the timestamp is taken after the pacer lets the call go (a long queue cannot make
  it stale).
* Per-endpoint weights (get 1, list 2, pause 5, deploy 10) under one budget of 1,200
  weight per rolling 60 s [INF], paced client-side (bucket name ``weight``) with calls
  counted until their answer arrives (:class:`console.venues.kit.pacing.Pacer`); a 429
  ``RATE_LIMITED`` was refused, so it is retried once after ``Retry-After`` — unless
  PipAI asks for longer than ``settings.retry_after_cap_s``: then nothing more is sent
  and the call is *failed* (a list read: a FeedError) with PipAI's wait in words.
* No stop endpoint (Project decision 3): the strongest control is pause with
  ``close_positions``; resume is a deploy of a paused strategy (deploying a draft is
  not offered); stop/start are rejected with a plain explanation.
* ``409 INVALID_STATE`` to a pause is how PipAI says "already paused": re-read, then
  ``already`` when paused (``_already_paused_from_409``), with a warning when
  ``close_positions`` was asked and positions are still open (PipAI cannot flatten a
  paused strategy). Same for deploy of a deployed strategy (``_already_deployed_from_409``).
* Pause with ``close_positions`` waits for market closes before answering: it gets a
  longer timeout (``options.close_timeout_s``, default 4 × control timeout).
* No answer / malformed JSON to a control call: never re-sent; the strategy is re-read
  and the outcome is ``applied`` when it shows the asked state, else ``uncertain``.
* Unknown status values map to ``State.UNKNOWN`` with the raw word kept; decimal
  strings (capital, P&L, win rate) stay strings.
* Messages quote PipAI's ``code``/``message`` and never carry the key, the secret or a
  signature: one :class:`~console.core.scrub.Scrubber` for the key and the secret, plus
  any 64-hex-digit signature, over every outcome, FeedError, health text and log line.
* Every id is sent as one percent-encoded path segment (:func:`console.venues.kit.http.segment`,
  signed as sent); ``.``/``..``/empty are refused unsent (a *failed* outcome).
* Lists (:mod:`console.venues.pipai.mapping`): a page not in the documented shape is
  *unreadable*, never empty; a strategy with an impossible value is skipped and named in
  ``skipped_rows``; paging stops at ``settings.max_pages`` pages, ``max_targets``
  strategies, a repeated or oversized cursor, or a page failing after the first —
  *incomplete*, with the strategies read so far.

Target attrs (docs/ATTRIBUTES.md): ``template``, ``symbols``, ``timeframe``,
``capital``, ``leverage``, ``open_positions``, ``pnl``, ``win_rate``, ``trades``,
``deployed_at``, ``updated_at``. Feed: see :mod:`console.venues.pipai.feed`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    OptionSpec,
    OptionValue,
    Outcome,
    OutcomeKind,
    State,
    Target,
)
from console.core.ports import Capabilities, ControlRate
from console.core.scrub import Scrubber, printable, scrub_outcome
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import (
    JSON,
    CallError,
    QueryValue,
    Reply,
    UnsafeId,
    dumps,
    make_http_client,
    segment,
    send,
)
from console.venues.kit.pacing import make_pacer, not_waiting, retry_after_seconds, too_long
from console.venues.pipai.auth import now_ms, signed_headers, ws_auth_frame
from console.venues.pipai.feed import StatusStream
from console.venues.pipai.mapping import MAX_CURSOR_CHARS, read_page, to_target
from console.venues.pipai.outcomes import error_code, http_error, not_offered, vendor_words
from console.venues.pipai.wire import Strategy

WEIGHT_BUDGET = RateLimit(1200, 60.0)  # [INF] budget and window are a documented [GAP]
WEIGHTS = {"get": 1, "list": 2, "pause": 5, "deploy": 10}
PAGE_SIZE = 100  # the documented maximum: fewest weighted list calls
_HEX_SIGNATURE = re.compile(r"\b[0-9a-f]{64}\b")
# Unreserved characters, percent escapes and the separators of a path and query.
_ENCODED_TARGET = re.compile(r"(?:[A-Za-z0-9._~/?=&-]|%[0-9A-F]{2})*")

CLOSE_POSITIONS = OptionSpec(
    name="close_positions",
    label="Close open positions at market first",
    default=False,
    help="PipAI sends market-close orders for every open position, then pauses. "
    "A paused strategy cannot be flattened later through the API.",
)

M = TypeVar("M", bound=BaseModel)


# What core and the screen may know of PipAI: positions, then P&L and capital measure
# exposure; a pause weighs 5 of the weight budget; close_positions leaves nothing open.
CAPABILITIES = Capabilities(
    exposure_attrs=(("open_positions", 1e9), ("pnl", 1.0), ("capital", 1e-3)),
    control_rate=ControlRate(
        "weight", WEIGHT_BUDGET.limit, WEIGHT_BUDGET.window_s, weight=WEIGHTS["pause"]
    ),
    clears_leaves_behind="close_positions",
)


class PipAIClient(VenueClient):
    """One PipAI account (API key + secret) as the console sees it."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(
        self, settings: VenueSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        self._api_key = settings.secret("api_key")
        self._api_secret = settings.secret("api_secret")
        # One scrubber for everything this venue writes (outcomes, errors, health, logs).
        self._scrubber = Scrubber([self._api_key.reveal(), self._api_secret.reveal()])
        self._http = make_http_client(settings, transport=transport)
        self._base_path = self._http.base_url.raw_path.decode("ascii").rstrip("/")
        rate = settings.rate_limits.get("weight", WEIGHT_BUDGET)
        self._pacer = make_pacer(
            rate,
            enabled=settings.pacing,
            scale=settings.rate_scale,
            cap_s=settings.retry_after_cap_s,
        )
        self._page_size = int(settings.options.get("page_size", PAGE_SIZE))
        close_timeout = settings.options.get("close_timeout_s", settings.control_timeout_s * 4)
        self._close_timeout_s = float(close_timeout)

    # ----- signed HTTP ----------------------------------------------------------------
    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None,
        body: dict[str, JSON] | None,
        weight: int,
        timeout_s: float,
    ) -> Reply:
        """One signed, paced request; the bytes signed are exactly the bytes sent."""
        target = request_target(path, query)
        content = dumps(body) if body is not None else None
        wire_target = self._wire_target(method, target)
        async with self._pacer.slot(weight):
            # Signed only once the pacer lets it go: a long queue cannot make it stale.
            headers = signed_headers(
                self._api_key.reveal(),
                self._api_secret.reveal(),
                method,
                wire_target,
                content or b"",
                timestamp_ms=now_ms(),
            )
            reply = await send(
                self._http, method, target, content=content, headers=headers, timeout_s=timeout_s
            )
        self._pacer.observe(reply.status, reply.headers)
        return reply

    def _wire_target(self, method: str, target: str) -> str:
        """The request target as it goes on the wire (base path, encoding and all): what
        is signed. A target already percent-encoded (every one this module builds) is the
        base URL's path joined to it, as httpx joins them; anything else is built by
        httpx. Skipping httpx's request building saves a kill ~40 µs per call."""
        if target.startswith("/") and "/." not in target and _ENCODED_TARGET.fullmatch(target):
            return self._base_path + target
        return self._http.build_request(method, target).url.raw_path.decode("ascii")

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: dict[str, JSON] | None = None,
        weight: int,
        timeout_s: float,
    ) -> Reply:
        """:meth:`_request`, retried once after a 429 (PipAI refused it: nothing was done).

        A ``Retry-After`` beyond ``settings.retry_after_cap_s`` is not waited for: the 429
        is returned at once, for the caller to say so (nothing more is sent)."""
        reply = await self._request(
            method, path, query=query, body=body, weight=weight, timeout_s=timeout_s
        )
        if reply.status != 429:
            return reply
        delay = retry_after_seconds(reply.headers)
        if too_long(delay, self.settings.retry_after_cap_s):
            return reply
        if not self.settings.pacing:  # a paced client already holds until Retry-After
            await asyncio.sleep(min(delay if delay is not None else 1.0, self._cap_s))
        return await self._request(
            method, path, query=query, body=body, weight=weight, timeout_s=timeout_s
        )

    @property
    def _cap_s(self) -> float:
        return self.settings.retry_after_cap_s

    async def _get(
        self, path: str, doing: str, weight: int, query: Mapping[str, QueryValue] | None = None
    ) -> Reply:
        """A signed GET; FeedError with PipAI's words when it fails (a 404 is returned)."""
        try:
            reply = await self._call(
                "GET", path, query=query, weight=weight, timeout_s=self.settings.request_timeout_s
            )
        except CallError as err:
            raise FeedError(
                self._scrub(f"PipAI did not answer when {doing}: {err.message}")
            ) from None
        if reply.status == 429:
            wait = retry_after_seconds(reply.headers)
            if too_long(wait, self._cap_s):
                assert wait is not None
                raise FeedError(
                    self._scrub(
                        f"PipAI answered HTTP 429 {vendor_words(reply)} when {doing}: "
                        + not_waiting("PipAI", wait, self._cap_s)
                    )
                )
        if not reply.ok and reply.status != 404:
            raise FeedError(self._scrub(http_error(reply, doing)))
        return reply

    def _parsed(self, reply: Reply, model: type[M], doing: str) -> M:
        if not reply.ok:  # a 404 where only a single strategy may be missing
            raise FeedError(self._scrub(http_error(reply, doing)))
        try:
            return reply.validated(model)
        except (ValueError, RecursionError) as exc:  # malformed JSON or a shape we cannot read
            raise Unreadable(
                self._scrub(f"PipAI sent an unreadable answer when {doing}: {_short(exc)}")
            ) from None

    async def _read(self, path: str, doing: str) -> Strategy | None:
        """One strategy; None when PipAI says 404 (missing or not ours)."""
        reply = await self._get(path, doing, WEIGHTS["get"])
        return None if reply.status == 404 else self._parsed(reply, Strategy, doing)

    # ----- reading --------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        """Every strategy, page after page, within the venue's bounds (module docstring).

        Raises FeedError (no answer, an error answer), Unreadable (a first page not in
        the documented shape) or Incomplete (with the strategies read so far)."""
        self.skipped_rows = []
        doing = "listing strategies"
        targets: list[Target] = []
        ids: set[str] = set()
        skipped: list[str] = []
        cursor: str | None = None
        seen: set[bytes] = set()
        pages = 0
        max_pages, max_targets = self.settings.max_pages, self.settings.max_targets

        def incomplete(why: str) -> Incomplete:
            self.skipped_rows = [self._scrub(printable(row)) for row in skipped]
            read = f"{len(targets)} strateg{'y' if len(targets) == 1 else 'ies'}"
            return Incomplete(
                self._scrub(f"PipAI's strategy list was not read to its end: {why}; "
                            f"{read} read from {pages} page(s) are kept"),
                targets,
            )  # fmt: skip

        while True:
            if pages >= max_pages:
                raise incomplete(f"still more pages after {max_pages} (max_pages)")
            query: dict[str, QueryValue] = {"limit": self._page_size}
            if cursor is not None:
                query["cursor"] = cursor
            try:
                reply = await self._get("/v1/strategies", doing, WEIGHTS["list"], query)
                if not reply.ok:  # a 404: the list itself is missing
                    raise FeedError(self._scrub(http_error(reply, doing)))
                page = read_page(self.name, reply.content, time.time(), pages + 1)
            except FeedError as exc:
                if pages == 0:  # nothing read: the venue is unreachable or unreadable
                    exc.args = (self._scrub(_words(exc)),)
                    raise
                raise incomplete(f"page {pages + 1} failed ({_words(exc)})") from None
            except Exception as exc:  # the last line of defence: a read raises FeedErrors
                why = f"failed inside the console ({type(exc).__name__}: {_short(exc)})"
                if pages == 0:
                    raise FeedError(self._scrub(f"PipAI's strategy list {why}")) from None
                raise incomplete(f"page {pages + 1} {why}") from None
            pages += 1
            skipped.extend(page.skipped)
            for target in page.targets:
                if target.id not in ids:  # a strategy seen on an earlier page counts once
                    ids.add(target.id)
                    targets.append(target)
            if len(targets) > max_targets:
                del targets[max_targets:]
                raise incomplete(f"more than {max_targets} strategies (max_targets)")
            cursor = page.next_cursor
            if not cursor:
                self.skipped_rows = [self._scrub(printable(row)) for row in skipped]
                return targets
            if len(cursor) > MAX_CURSOR_CHARS:
                raise incomplete(
                    f"PipAI sent a page cursor of {len(cursor)} characters; not followed"
                )
            try:
                mark = hashlib.sha256(cursor.encode()).digest()
            except UnicodeEncodeError:  # "\ud800" in JSON: no URL can carry it back
                raise incomplete("PipAI sent a page cursor that cannot be sent back") from None
            if mark in seen:
                raise incomplete("PipAI repeated a page cursor; stopped paging")
            seen.add(mark)

    async def read_target(self, target_id: str) -> Target | None:
        try:
            path = _strategy_path(target_id)
        except UnsafeId as exc:
            raise FeedError(self._scrub(f"{exc}; it was not read")) from None
        strategy = await self._read(path, f"reading {target_id}")
        return to_target(self.name, strategy) if strategy is not None else None

    # ----- actions --------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        if target.state in (State.RUNNING, State.UNKNOWN):
            # Unknown status: PipAI answers 409 if it cannot be paused, so offering it is safe.
            return [self._pause_spec(target)]
        if target.state is State.PAUSED:
            return [
                ActionSpec(
                    ActionKind.RESUME,
                    "Resume (deploy again)",
                    leaves_behind="the strategy takes new entries again, with any parameters "
                    "edited while paused; it redeploys with its saved capital and leverage",
                )
            ]
        return []

    @staticmethod
    def _pause_spec(target: Target) -> ActionSpec:
        held = target.attrs.get("open_positions")
        count = f"{held} " if isinstance(held, int) else ""
        return ActionSpec(
            ActionKind.PAUSE,
            "Pause (no new entries)",
            leaves_behind=f"open positions stay open ({count}still managed by the strategy's "
            "exit rules) unless 'close open positions' is chosen; there is no stop in PipAI",
            options=(CLOSE_POSITIONS,),
        )

    def kill_action(self, target: Target, *, close_positions: bool = False) -> Action | None:
        if target.state in (State.RUNNING, State.UNKNOWN):
            return Action(ActionKind.PAUSE, {"close_positions": close_positions})
        return None

    async def execute(self, target_id: str, action: Action) -> Outcome:
        try:
            if action.kind is ActionKind.PAUSE:
                close = _flag(action.option("close_positions", False))
                outcome = await self._pause(target_id, close)
            elif action.kind is ActionKind.RESUME:
                outcome = await self._resume(target_id)
            else:
                outcome = not_offered(target_id, action.kind)
        except UnsafeId:
            outcome = Outcome(
                OutcomeKind.FAILED,
                f"The strategy id {target_id!r} cannot be sent safely as a URL path segment "
                f"(a proxy could route it elsewhere), so nothing was sent: the {action.kind} "
                "did not happen. Check this strategy in PipAI itself.",
            )
        except Exception as exc:  # the last line of defence: execute never raises
            outcome = Outcome(
                OutcomeKind.FAILED,
                f"{action.kind} of {target_id} failed inside the console "
                f"({type(exc).__name__}: {_short(exc)}); check the strategy in PipAI",
            )
        return scrub_outcome(outcome, self._scrub)

    async def _pause(self, target_id: str, close: bool) -> Outcome:
        timeout = self._close_timeout_s if close else self.settings.control_timeout_s
        body: dict[str, JSON] = {"close_positions": close}
        path = _strategy_path(target_id) + "/pause"
        reply, early = await self._control(target_id, "pause", path, body, timeout, State.PAUSED)
        if early is not None:
            return early
        assert reply is not None
        if reply.status == 409:
            return await self._already_paused_from_409(target_id, reply, close)
        if not reply.ok:
            return self._refused(target_id, "pause", reply)
        return await self._applied_or_unsure(target_id, "pause", reply, State.PAUSED, close)

    async def _resume(self, target_id: str) -> Outcome:
        path = _strategy_path(target_id) + "/deploy"
        timeout = self.settings.control_timeout_s
        reply, early = await self._control(target_id, "resume", path, {}, timeout, State.RUNNING)
        if early is not None:
            return early
        assert reply is not None
        if reply.status == 409:
            return await self._already_deployed_from_409(target_id, reply)
        if not reply.ok:
            return self._refused(target_id, "resume", reply)
        return await self._applied_or_unsure(target_id, "resume", reply, State.RUNNING, False)

    async def _control(
        self,
        target_id: str,
        verb: str,
        path: str,
        body: dict[str, JSON],
        timeout_s: float,
        wanted: State,
    ) -> tuple[Reply | None, Outcome | None]:
        """Send one control call; an Outcome already when there was no usable answer."""
        weight = WEIGHTS["pause" if verb == "pause" else "deploy"]
        try:
            reply = await self._call("POST", path, body=body, weight=weight, timeout_s=timeout_s)
        except CallError as err:
            if not err.maybe_sent:
                return None, Outcome(
                    OutcomeKind.FAILED,
                    f"Could not {verb} {target_id}: {err.message}; the request never reached "
                    "PipAI, so nothing changed. Check the network or base_url and try again.",
                    latency_ms=err.latency_ms,
                )
            why = f"PipAI gave no answer within {timeout_s:g} s ({err.message})"
            return None, await self._settle_by_reread(target_id, verb, wanted, why, err.latency_ms)
        if reply.status == 429:
            return None, self._rate_limited(target_id, verb, reply)
        return reply, None

    # ----- translating answers ----------------------------------------------------------
    async def _applied_or_unsure(
        self, target_id: str, verb: str, reply: Reply, wanted: State, close: bool
    ) -> Outcome:
        try:
            strategy = reply.validated(Strategy)
        except ValueError as exc:
            why = f"PipAI answered HTTP {reply.status} but the body was unreadable ({_short(exc)})"
            return await self._settle_by_reread(target_id, verb, wanted, why, reply.latency_ms)
        target = to_target(self.name, strategy)
        held = target.attrs.get("open_positions")
        done = "Paused" if verb == "pause" else "Resumed"
        if verb == "pause" and close:
            tail = "its open positions were closed at market first"
        elif verb == "pause":
            tail = f"{held if isinstance(held, int) else 'its'} open position(s) stay open"
        else:
            tail = "it takes new entries again"
        warning = None
        if target.state is not wanted:
            warning = f"PipAI reports status {target.raw_status!r} after the {verb}"
        elif close and isinstance(held, int) and held > 0:
            warning = f"PipAI still reports {held} open position(s) after closing them"
        return Outcome(
            OutcomeKind.APPLIED,
            f"{done} {target.name} ({target_id}); {tail}.",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=target.state,
            warning=warning,
        )

    async def _already_paused_from_409(self, target_id: str, reply: Reply, close: bool) -> Outcome:
        """PipAI answers 409 INVALID_STATE rather than a no-op when already paused."""
        current, problem = await self._reread(target_id)
        if current is not None and current.state is State.PAUSED:
            held = current.attrs.get("open_positions")
            warning = None
            if close and isinstance(held, int) and held > 0:
                warning = (
                    f"{held} position(s) stay open: PipAI cannot flatten a paused strategy "
                    "through its API; close them on the exchange or in PipAI's own UI"
                )
            return Outcome(
                OutcomeKind.ALREADY,
                f"{current.name} ({target_id}) was already paused "
                f"(PipAI answered 409 {vendor_words(reply)}; a re-read confirms paused).",
                http_status=reply.status,
                latency_ms=reply.latency_ms,
                state_after=State.PAUSED,
                vendor_code=error_code(reply),
                warning=warning,
            )
        return self._refused(target_id, "pause", reply, current, problem)

    async def _already_deployed_from_409(self, target_id: str, reply: Reply) -> Outcome:
        """A deploy of a deployed strategy is 409 INVALID_STATE: already running."""
        current, problem = await self._reread(target_id)
        if current is not None and current.state is State.RUNNING:
            return Outcome(
                OutcomeKind.ALREADY,
                f"{current.name} ({target_id}) was already deployed "
                f"(PipAI answered 409 {vendor_words(reply)}; a re-read confirms deployed).",
                http_status=reply.status,
                latency_ms=reply.latency_ms,
                state_after=State.RUNNING,
                vendor_code=error_code(reply),
            )
        return self._refused(target_id, "resume", reply, current, problem)

    async def _settle_by_reread(
        self, target_id: str, verb: str, wanted: State, why: str, latency_ms: float | None
    ) -> Outcome:
        """No usable answer: never re-send; re-read and say what the strategy shows now."""
        current, problem = await self._reread(target_id)
        if current is not None and current.state is wanted:
            return Outcome(
                OutcomeKind.APPLIED,
                f"{why}; the {verb} was not re-sent. A re-read shows {current.name} "
                f"({target_id}) {current.raw_status}, so it took effect.",
                latency_ms=latency_ms,
                state_after=current.state,
            )
        if current is not None:
            seen = f"a re-read shows {current.name} ({target_id}) still {current.raw_status}"
            state_after: State | None = current.state
        else:
            seen = f"the re-read failed too ({problem})"
            state_after = None
        return Outcome(
            OutcomeKind.UNCERTAIN,
            f"{why}; the {verb} of {target_id} was not re-sent and may still land; {seen}. "
            "Check the strategy again before repeating the action.",
            latency_ms=latency_ms,
            state_after=state_after,
        )

    async def _reread(self, target_id: str) -> tuple[Target | None, str]:
        try:
            target = await self.read_target(target_id)
        except FeedError as exc:
            return None, exc.args[0] if exc.args else "no answer"
        return target, "" if target is not None else "PipAI no longer knows this strategy"

    def _refused(
        self,
        target_id: str,
        verb: str,
        reply: Reply,
        current: Target | None = None,
        problem: str = "",
    ) -> Outcome:
        kind = OutcomeKind.FAILED if reply.status >= 500 else OutcomeKind.REJECTED
        message = http_error(reply, f"asked to {verb} {target_id}")
        if current is not None:
            message += f" A re-read shows it {current.raw_status}."
        elif problem:
            message += f" Re-reading it failed: {problem}."
        return Outcome(
            kind,
            message,
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=current.state if current is not None else None,
            vendor_code=error_code(reply),
        )

    def _rate_limited(self, target_id: str, verb: str, reply: Reply) -> Outcome:
        wait = retry_after_seconds(reply.headers)
        if wait is not None and too_long(wait, self._cap_s):
            return Outcome(
                OutcomeKind.FAILED,
                f"Could not {verb} {target_id}: PipAI answered 429 {vendor_words(reply)}. "
                + not_waiting("PipAI", wait, self._cap_s),
                http_status=429,
                latency_ms=reply.latency_ms,
                vendor_code=error_code(reply),
            )
        after = f" PipAI asks to wait {wait:g} s." if wait is not None else ""
        return Outcome(
            OutcomeKind.FAILED,
            f"Could not {verb} {target_id}: rate limited (PipAI answered 429 "
            f"{vendor_words(reply)}, again after one paced retry); nothing changed.{after} "
            "Another client may be using this API key; try again shortly.",
            http_status=429,
            latency_ms=reply.latency_ms,
            vendor_code=error_code(reply),
        )

    def _scrub(self, text: str) -> str:
        """Never show the key, the secret or a signature, whatever a venue echoes back:
        the venue's one scrubber, then any HMAC-SHA256 in hex (ours, on any request)."""
        if not text:
            return text
        return _HEX_SIGNATURE.sub("***", self._scrubber.scrub(text))

    # ----- feed -------------------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        if not self.settings.ws_url:
            await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)
            return
        stream = StatusStream(
            self.settings,
            sink,
            list_all=self.list_targets,
            read_one=self.read_target,
            auth_frame=lambda: ws_auth_frame(
                self._api_key.reveal(), self._api_secret.reveal(), timestamp_ms=now_ms()
            ),
            scrub=self._scrub,
        )
        await stream.run()

    async def aclose(self) -> None:
        await self._http.aclose()


def request_target(path: str, query: Mapping[str, QueryValue] | None) -> str:
    """``path?query`` as sent and signed (every query value percent-encoded)."""
    return path + ("?" + urlencode(query, quote_via=quote, safe="") if query else "")


def _strategy_path(target_id: str) -> str:
    """The strategy's path, its id one percent-encoded segment; UnsafeId for ``.``/``..``."""
    return "/v1/strategies/" + segment(target_id)


def _words(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _flag(value: OptionValue) -> bool:
    if isinstance(value, bool):
        return value
    return value.strip().lower() in ("1", "true", "yes", "on")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"
