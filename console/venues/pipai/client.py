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
  ``RATE_LIMITED`` was refused, so a control call goes again after ``Retry-After`` for up
  to the cap (``console/venues/kit/refused.py``; a read once) — unless
  PipAI asks for longer than ``settings.retry_after_cap_s``: then nothing more is sent
  and the call is *failed* (a list read: a FeedError) with PipAI's wait in words.
* No stop endpoint (Project decision 3): the strongest control is pause with
  ``close_positions``; resume is a deploy of a paused strategy (deploying a draft is
  not offered); stop/start are rejected with a plain explanation.
* ``409 INVALID_STATE`` to a pause is how PipAI says "already paused": re-read, then
  ``already`` when paused (:meth:`PipAIClient._already_from_409`), with a warning when
  ``close_positions`` was asked and positions are still open (PipAI cannot flatten a
  paused strategy). Same for deploy of a deployed strategy.
* Pause with ``close_positions`` waits for market closes before answering: it gets a
  longer timeout (``options.close_timeout_s``, default 4 × control timeout).
* No answer / malformed JSON to a control call: never re-sent; the strategy is re-read
  and the outcome is ``applied`` when it shows the asked state, else ``uncertain``
  (:class:`~console.venues.kit.control.ControlStep`).
* Unknown status values map to ``State.UNKNOWN`` with the raw word kept; decimal
  strings (capital, P&L, win rate) stay strings.
* Messages quote PipAI's ``code``/``message`` and never carry the key, the secret or a
  signature: one :class:`~console.venues.pipai.auth.SignatureScrubber` (the key, the
  secret and any 64-hex-digit signature) over every outcome, FeedError, health text and
  log line.
* Every id is sent as one percent-encoded path segment (:func:`console.venues.kit.http.segment`,
  signed as sent); ``.``/``..``/empty are refused unsent (a *failed* outcome).
* Lists (:mod:`console.venues.pipai.mapping`, :class:`~console.venues.kit.paging.CursorList`):
  a page not in the documented shape is *unreadable*, never empty; a strategy with an
  impossible value is skipped and named in ``skipped_rows``; paging stops at ``settings.max_pages`` pages, ``max_targets``
  strategies, a repeated or oversized cursor, a page failing after the first, or a page
  with no ``next_cursor`` key (its strategies kept) — *incomplete*, with the strategies
  read so far.

Target attrs (docs/ATTRIBUTES.md): ``template``, ``symbols``, ``timeframe``,
``capital``, ``leverage``, ``open_positions``, ``pnl``, ``win_rate``, ``trades``,
``deployed_at``, ``updated_at``. Feed: see :mod:`console.venues.pipai.feed`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TypeVar

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
from console.core.scrub import exception_line
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.control import ControlStep, NoAnswer, about_another, guarded
from console.venues.kit.feeds import FeedError, Unreadable, poll_forever
from console.venues.kit.http import (
    CallError,
    QueryValue,
    Reply,
    UnsafeId,
    dumps,
    segment,
    send,
)
from console.venues.kit.http_client import Seam, make_http_client, use_scrubber
from console.venues.kit.pacing import make_pacer, retry_after_seconds, too_long
from console.venues.kit.paging import CursorList, ListWords
from console.venues.kit.refused import Refusals
from console.venues.kit.transient import transient_reply
from console.venues.pipai.auth import (
    SignatureScrubber,
    Signer,
    now_ms,
    request_target,
    wire_target,
    ws_auth_frame,
)
from console.venues.pipai.feed import StatusStream
from console.venues.pipai.mapping import MAX_CURSOR_CHARS, ListPage, read_page, to_target
from console.venues.pipai.outcomes import (
    already_deployed,
    already_paused,
    applied,
    http_error,
    not_offered,
    rate_limited,
    read_error,
    refused,
    settled,
    unreached,
    unsettled,
    vendor_words,
)
from console.venues.pipai.wire import Strategy

log = logging.getLogger(__name__)

WEIGHT_BUDGET = RateLimit(1200, 60.0)  # [INF] budget and window are a documented [GAP]
WEIGHTS = {"get": 1, "list": 2, "pause": 5, "deploy": 10}
PAGE_SIZE = 100  # the documented maximum: fewest weighted list calls

CLOSE_POSITIONS = OptionSpec(
    name="close_positions",
    label="Close open positions at market first",
    default=False,
    help="PipAI sends market-close orders for every open position, then pauses. "
    "A paused strategy cannot be flattened later through the API.",
)

M = TypeVar("M", bound=BaseModel)

# The bodies of the control calls, serialised once (a kill sends hundreds of the same).
_PAUSE = dumps({"close_positions": False})
_PAUSE_CLOSING = dumps({"close_positions": True})
_RESUME = dumps({})


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

    def __init__(self, settings: VenueSettings, *, transport: Seam | None = None) -> None:
        super().__init__(settings)
        self._api_key = settings.secret("api_key")
        self._api_secret = settings.secret("api_secret")
        # One scrubber for everything this venue writes (outcomes, errors, health, logs).
        self.scrubber = SignatureScrubber([self._api_key.reveal(), self._api_secret.reveal()])
        self._signer = Signer(self._api_key.reveal(), self._api_secret.reveal())
        # Whether the signed path carries the ?query: a [GAP] of the docs, ours yes, an
        # implementation of the same docs may say no (learnt from its 401; _call).
        self._sign_query = True
        self._http = make_http_client(settings, transport=transport)
        use_scrubber(self._http, self.scrubber.scrub)  # before a network error is cut
        self._base_path = self._http.base_url.raw_path.decode("ascii").rstrip("/")
        rate = settings.rate_limits.get("weight", WEIGHT_BUDGET)
        self._pacer = make_pacer(
            rate,
            enabled=settings.pacing,
            scale=settings.rate_scale,
            cap_s=settings.retry_after_cap_s,
        )
        self._refusals = Refusals.of(settings, self._pacer)
        self._page_size = int(settings.options.get("page_size", PAGE_SIZE))
        self._list = CursorList(
            ListWords("PipAI", "strategy", "strategies"),
            max_pages=settings.max_pages,
            max_targets=settings.max_targets,
            max_cursor_chars=MAX_CURSOR_CHARS,
            scrubber=self.scrubber,
        )
        close_timeout = settings.options.get("close_timeout_s", settings.control_timeout_s * 4)
        self._close_timeout_s = float(close_timeout)

    # ----- signed HTTP ----------------------------------------------------------------
    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None,
        content: bytes | None,
        weight: int,
        timeout_s: float,
        resend_on_stale: bool = False,
    ) -> Reply:
        """One signed, paced request; the bytes signed are exactly the bytes sent
        (``content``, serialised once by :func:`~console.venues.kit.http.dumps`)."""
        target = request_target(path, query)
        signed = target if self._sign_query else path
        signed_target = wire_target(self._http, self._base_path, method, signed)
        pacer = self._pacer
        slot = await pacer.acquire(weight, urgent=method != "GET")  # a control call first
        try:
            # Signed only once the pacer lets it go: a long queue cannot make it stale.
            headers = self._signer.headers(
                method, signed_target, content or b"", timestamp_ms=now_ms()
            )
            reply = await send(
                self._http,
                method,
                target,
                content=content,
                headers=headers,
                timeout_s=timeout_s,
                resend_on_stale=resend_on_stale,
                resend_pacer=pacer,
            )
        finally:
            pacer.settle(slot)
        pacer.observe(reply.status, reply.headers)
        return reply

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        content: bytes | None = None,
        weight: int,
        timeout_s: float,
        resend_on_stale: bool = False,
    ) -> Reply:
        """:meth:`_request`; a read is retried once after a 429 (PipAI refused it: nothing
        was done; a control call's 429s go again in its ControlStep: kit/refused.py).

        A ``Retry-After`` beyond ``settings.retry_after_cap_s`` is not waited for: the 429
        is returned at once, for the caller to say so (nothing more is sent)."""
        request = functools.partial(
            self._request, method, path, query=query, content=content, weight=weight,
            timeout_s=timeout_s, resend_on_stale=resend_on_stale,
        )  # fmt: skip
        reply = await request()
        if reply.status == 401 and query and method == "GET" and self._sign_query:
            reply = await self._signed_without_query(request, reply)
        if reply.status != 429 or method != "GET":
            return reply
        delay = retry_after_seconds(reply.headers)
        if too_long(delay, self.settings.retry_after_cap_s):
            return reply
        if not self.settings.pacing:  # a paced client already holds until Retry-After
            await asyncio.sleep(min(delay if delay is not None else 1.0, self._cap_s))
        return await request()

    async def _signed_without_query(
        self, request: Callable[[], Awaitable[Reply]], refused: Reply
    ) -> Reply:
        """A read with a query refused 401: signed again over the path alone, once. The
        docs leave open whether the signed path carries the query ([GAP]); a PipAI that
        signs the path alone refused every list read, so the venue was unreadable. When
        that works, this client signs so from then on; else it signs as before, and the
        first refusal is the answer. Only reads: re-sending one changes nothing."""
        self._sign_query = False
        again = await request()
        if again.status == 401:
            self._sign_query = True
            return refused
        log.info("PipAI signs the path without its query: this client does so from now on")
        return again

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
                self.scrubber.scrub(f"PipAI gave no usable answer when {doing}: {err.message}"),
                transient=err.transient,
            ) from None
        if not reply.ok and reply.status != 404:
            raise FeedError(
                self.scrubber.scrub(read_error(reply, doing, self._cap_s, self.scrubber.scrub)),
                transient=transient_reply(reply, self._cap_s),
            )
        return reply

    def _parsed(self, reply: Reply, model: type[M], doing: str) -> M:
        if not reply.ok:  # a 404 where only a single strategy may be missing
            raise FeedError(self.scrubber.scrub(http_error(reply, doing, self.scrubber.scrub)))
        try:
            return reply.validated(model)
        except (ValueError, RecursionError) as exc:  # malformed JSON or a shape we cannot read
            raise Unreadable(
                self.scrubber.scrub(
                    f"PipAI sent an unreadable answer when {doing}: {exception_line(exc, self.scrubber.scrub)}"
                )
            ) from None

    async def _read(self, path: str, doing: str) -> Strategy | None:
        """One strategy; None when PipAI says 404 (missing or not ours)."""
        reply = await self._get(path, doing, WEIGHTS["get"])
        return None if reply.status == 404 else self._parsed(reply, Strategy, doing)

    # ----- reading --------------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        """Every strategy, page after page, within the venue's bounds (module docstring;
        :class:`~console.venues.kit.paging.CursorList`).

        Raises FeedError (no answer, an error answer), Unreadable (a first page not in
        the documented shape) or Incomplete (with the strategies read so far). A page
        with no ``next_cursor`` key at all ends the list as Incomplete with its own
        strategies and those before it, on page 1 as on page 6 (``ListPage.cursor_missing``,
        :class:`~console.venues.kit.paging.CursorList`)."""
        self.skipped_rows = []
        try:
            return await self._list.read(self._fetch_page)
        finally:
            self.skipped_rows = list(self._list.skipped)

    async def _fetch_page(self, cursor: str | None, number: int) -> ListPage:
        doing = "listing strategies"
        query: dict[str, QueryValue] = {"limit": self._page_size}
        if cursor is not None:
            query["cursor"] = cursor
        reply = await self._get("/v1/strategies", doing, WEIGHTS["list"], query)
        if not reply.ok:  # a 404: the list itself is missing
            raise FeedError(self.scrubber.scrub(http_error(reply, doing, self.scrubber.scrub)))
        return read_page(self.name, reply.content, time.time(), number, scrub=self.scrubber.scrub)

    async def read_target(self, target_id: str) -> Target | None:
        try:
            path = _strategy_path(target_id)
        except UnsafeId as exc:
            raise FeedError(self.scrubber.scrub(f"{exc}; it was not read")) from None
        strategy = await self._read(path, f"reading {target_id}")
        if strategy is None:
            return None
        other = about_another(strategy.id, target_id)
        if other is not None:  # what it shows is not this strategy's state
            raise Unreadable(
                self.scrubber.scrub(f"PipAI answered the read of {target_id} with {other}; "
                                    "its state is not known")
            )  # fmt: skip
        return to_target(self.name, strategy)

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
        """The same words for every strategy (a plan of many shows them once); how many
        positions each holds is :meth:`held_by`'s, summed by a kill."""
        return ActionSpec(
            ActionKind.PAUSE,
            "Pause (no new entries)",
            leaves_behind="open positions stay open (still managed by the strategy's exit "
            "rules) unless 'close open positions' is chosen; there is no stop in PipAI",
            options=(CLOSE_POSITIONS,),
        )

    def held_by(self, target: Target) -> tuple[int, str] | None:
        """A strategy's open positions: a pause leaves them unless it closes them, and a
        paused strategy's cannot be closed at all (Appendix A)."""
        held = target.attrs.get("open_positions")
        if not isinstance(held, int) or isinstance(held, bool) or held <= 0:
            return None
        return held, "open positions"

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        if target.state in (State.RUNNING, State.UNKNOWN):
            return Action(ActionKind.PAUSE, {"close_positions": clear_leaves_behind})
        return None

    async def execute(self, target_id: str, action: Action) -> Outcome:
        def internal_error(exc: Exception) -> Outcome:  # execute never raises
            return Outcome(
                OutcomeKind.FAILED,
                f"{action.kind} of {target_id} failed inside the console "
                f"({type(exc).__name__}: {exception_line(exc, self.scrubber.scrub)}); check the strategy in PipAI",
            )

        return await guarded(
            self._execute(target_id, action), self.scrubber, internal_error=internal_error, log=log
        )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        try:
            if action.kind is ActionKind.PAUSE:
                close = _flag(action.option("close_positions", False))
                timeout = self._close_timeout_s if close else self.settings.control_timeout_s
                body = _PAUSE_CLOSING if close else _PAUSE
                return await self._control(target_id, "pause", body, timeout, close)
            if action.kind is ActionKind.RESUME:
                timeout = self.settings.control_timeout_s
                return await self._control(target_id, "resume", _RESUME, timeout, False)
            return not_offered(target_id, action.kind)
        except UnsafeId:
            return Outcome(
                OutcomeKind.FAILED,
                f"The strategy id {target_id!r} cannot be sent safely as a URL path segment "
                f"(a proxy could route it elsewhere), so nothing was sent: the {action.kind} "
                "did not happen. Check this strategy in PipAI itself.",
            )

    async def _control(
        self, target_id: str, verb: str, body: bytes, timeout_s: float, close: bool
    ) -> Outcome:
        """One pause (``POST …/pause``) or resume (``POST …/deploy``), never re-sent: no
        answer is settled by a re-read (:class:`~console.venues.kit.control.ControlStep`)."""
        path = _strategy_path(target_id) + ("/pause" if verb == "pause" else "/deploy")
        weight = WEIGHTS["pause" if verb == "pause" else "deploy"]
        wanted = State.PAUSED if verb == "pause" else State.RUNNING
        step: ControlStep[Target | None] = ControlStep(
            refusals=self._refusals,
            halting=verb == "pause",
            reread=partial(self.read_target, target_id),
            judge=partial(settled, target_id, verb, wanted),
            reread_failed=partial(unsettled, target_id, verb),
            said=lambda reply: self.scrubber.scrub(vendor_words(reply, self.scrubber.scrub)),
        )
        return await step.run(
            partial(
                self._call,
                "POST",
                path,
                content=body,
                weight=weight,
                timeout_s=timeout_s,
                resend_on_stale=verb == "pause",  # docs/EMERGENCY.md; never a deploy
            ),
            translate=partial(self._translate, step, target_id, verb, close),
            unreached=partial(unreached, target_id, verb),
            unanswered=lambda err: (
                f"PipAI gave no usable answer to the {verb} of {target_id} ({err.message})"
            ),
        )

    # ----- translating answers ----------------------------------------------------------
    async def _translate(
        self,
        step: ControlStep[Target | None],
        target_id: str,
        verb: str,
        close: bool,
        reply: Reply,
    ) -> Outcome:
        if reply.status == 429:
            return rate_limited(target_id, verb, reply, self._cap_s, self.scrubber.scrub)
        if reply.status == 409:
            return await self._already_from_409(target_id, verb, close, reply)
        if not reply.ok:
            return refused(target_id, verb, reply, self.scrubber.scrub)
        try:
            strategy = reply.validated(Strategy)
        except ValueError as exc:
            why = f"PipAI answered HTTP {reply.status} but the body was unreadable ({exception_line(exc, self.scrubber.scrub)})"
            return await step.settle(NoAnswer(why, reply.status, reply.latency_ms))
        other = about_another(strategy.id, target_id)
        if other is not None:
            why = f"PipAI answered the {verb} of {target_id} with {other}"
            return await step.settle(NoAnswer(why, reply.status, reply.latency_ms))
        return applied(target_id, verb, reply, strategy, close)

    async def _already_from_409(
        self, target_id: str, verb: str, close: bool, reply: Reply
    ) -> Outcome:
        """PipAI answers 409 INVALID_STATE rather than a no-op to a pause of a paused
        strategy and a deploy of a deployed one: re-read to tell *already* from *no*."""
        try:
            current = await self.read_target(target_id)
            problem = "PipAI no longer knows this strategy"
        except FeedError as exc:
            current, problem = None, str(exc) or "no answer"
        if verb == "pause":
            return already_paused(target_id, reply, close, current, problem, self.scrubber.scrub)
        return already_deployed(target_id, reply, current, problem, self.scrubber.scrub)

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
            scrubber=self.scrubber,
        )
        await stream.run()

    async def aclose(self) -> None:
        await self._http.aclose()


def _strategy_path(target_id: str) -> str:
    """The strategy's path, its id one percent-encoded segment; UnsafeId for ``.``/``..``."""
    return "/v1/strategies/" + segment(target_id)


def _flag(value: OptionValue) -> bool:
    if isinstance(value, bool):
        return value
    return value.strip().lower() in ("1", "true", "yes", "on")
