"""55-tech MM API client: one ENGINE target per client API key.

Credentials: ``api_keys``, the client keys (UUIDs) comma-joined. Every key is its own
target, never merged by slug: the target id is the ``client`` slug the key's answers
carry, or ``<slug>@key<N>`` when several keys answer with one slug (see
:mod:`console.venues.fiftyfive_keys`); the id→key map stays inside this module. One
:class:`~console.core.scrub.Scrubber` built from every key scrubs each message, outcome,
error, health detail and log line: no text this module writes ever contains a key, even
when the venue echoes one.

Vendor quirks handled here (CONTRACTS.md section 1, Project decision 1):

* One status read per key: the list is ``GET /api/v1/trading/status`` for every key,
  concurrently, each key paced under its own 2,000 requests/minute. A key whose read
  fails (refused, rate-limited, unreadable answer) fails its own engine only: the list
  holds every other engine and names the failed ones in ``skipped_rows``; only when no
  key answers does the list raise (``Unreadable`` when every answer was unreadable).
* Controls answer 200 with a ``result``: ``*_applied`` → applied, ``already_*`` →
  already, ``start_required`` → rejected (resume cannot lift a stop; use start);
  see :func:`console.venues.fiftyfive_actions.outcome_from_result`.
* Pause and stop are two flags: a start lifts the stop only, so an engine both stopped
  and paused reads PAUSED after it. That start is done (``Outcome.leaves`` = PAUSED,
  :func:`~console.venues.fiftyfive_actions.start_leaves`), with the warning "still
  manually paused: resume to trade".
* A repeat may instead be ``409 {"detail"}`` (docs leave it open): re-read, then
  already or rejected (:meth:`FiftyFiveClient._already_from_409`).
* ``401 {"detail": "Invalid or missing API key"}`` → rejected, "API key refused".
* ``429`` carries no documented headers: wait ``Retry-After`` if one appears (up to
  ``retry_after_cap_s``; beyond it the call is failed at once with the vendor's wait in
  words, nothing re-sent), else the docs' first backoff step (1 s, scaled), and retry
  once (a 429 was refused, not done).
* A control call with no answer (timeout, broken connection) or a malformed body is
  never re-sent: the status is re-read and the outcome says what it showed.
* The nullable status fields may be absent (quickstart sample); ``status`` may be a
  value nobody documented (kept raw, state UNKNOWN).
* Global flags (emergency / system stop / soft pause) are shown, never set: no endpoint.

Target attrs (docs/ATTRIBUTES.md): ``client``, ``status_words``, ``trading_active``,
``manual_paused``, ``manual_stopped``, ``pause_reason``, ``paused_at``, ``stop_reason``,
``stopped_at``, ``system_blocked``, ``emergency``, ``system_stopped``, ``soft_paused``,
``system_reason``, ``system_duration_s``, ``odds_format``, ``orders_seen``.

The feed (REST polling plus one WebSocket per key) lives in
:mod:`console.venues.fiftyfive_feed`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from functools import partial
from urllib.parse import urlsplit

import httpx

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    AttrValue,
    Outcome,
    OutcomeKind,
    Target,
    TargetKind,
)
from console.core.ports import Capabilities, ControlRate
from console.core.scrub import Scrubber, scrub_outcome
from console.venues.fiftyfive_actions import (
    ALREADY_WORDS,
    action_specs,
    asked_state,
    cap,
    detail,
    outcome_from_result,
    short_validation,
    start_leaves,
    still_blocked,
)
from console.venues.fiftyfive_feed import run_feed
from console.venues.fiftyfive_keys import KeyIds
from console.venues.fiftyfive_reads import VENDOR, combine_errors, status_from_reply
from console.venues.fiftyfive_wire import (
    ControlReply,
    TradingStatus,
    state_of,
    status_words,
)
from console.venues.kit.base import (
    FeedSink,
    RateLimit,
    Secret,
    VenueClient,
    VenueConfigError,
    VenueSettings,
)
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, describe
from console.venues.kit.http import CallError, Reply, dumps, make_http_client, send
from console.venues.kit.pacing import (
    Pacer,
    make_pacer,
    not_waiting,
    retry_after_seconds,
    too_long,
)

log = logging.getLogger(__name__)

# 2,000 requests per minute per client API key (documented).
REST_LIMIT = RateLimit(2000, 60.0)
# Requests of one key in flight at once: far below the connection pool's 64.
IN_FLIGHT_PER_KEY = 8
# The docs suggest backing off 1 s, 2 s, 4 s after a 429; one retry waits the first step.
RETRY_429_S = 1.0


# What core and the screen may know of 55-tech: control calls paced per client key.
CAPABILITIES = Capabilities(control_rate=ControlRate("rest", REST_LIMIT.limit, REST_LIMIT.window_s))


class FiftyFiveClient(VenueClient):
    """55-tech MM: pause / resume / stop / start of each client's trading engine."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(
        self, settings: VenueSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        raw = settings.secret("api_keys").reveal()
        self._keys = [Secret(k.strip()) for k in raw.split(",") if k.strip()]
        if not self._keys:
            raise VenueConfigError(
                f"venue {settings.name!r} (55tech) has an empty api_keys credential; "
                "list one client API key per engine, comma-separated"
            )
        # One scrubber for every text this venue writes: the venue may echo a key.
        self.scrubber = Scrubber(k.reveal() for k in self._keys)
        rate = settings.rate_limits.get("rest", REST_LIMIT)
        self._pacers: list[Pacer] = [
            make_pacer(
                rate,
                enabled=settings.pacing,
                scale=settings.rate_scale,
                cap_s=settings.retry_after_cap_s,
            )
            for _ in self._keys
        ]
        # See _send: a key's requests queue here, before its pacer, not in the pool after it.
        self._in_flight = [asyncio.Semaphore(IN_FLIGHT_PER_KEY) for _ in self._keys]
        self._http = make_http_client(settings, transport=transport)
        base_path = urlsplit(settings.base_url).path.rstrip("/")
        self._prefix = "" if base_path.endswith("/api/v1") else "/api/v1"
        self.ids = KeyIds(len(self._keys))
        self._warned: set[str] = set()
        # Order events seen on each engine's stream, by target id.
        self.orders_seen: dict[str, int] = {}

    # ----- keys and identities -----------------------------------------------------------
    @property
    def key_count(self) -> int:
        return len(self._keys)

    def key(self, index: int) -> Secret:
        return self._keys[index]

    def id_of(self, index: int) -> str | None:
        """The target id of a key's engine, once it has answered."""
        return self.ids.id_of(index)

    def slug_of(self, index: int) -> str | None:
        return self.ids.slug_of(index)

    def who(self, index: int) -> str:
        """How messages name a key's engine: its target id once known, never the key."""
        target_id = self.ids.id_of(index)
        return (
            f"engine '{target_id}'" if target_id else f"API key #{index + 1} of {len(self._keys)}"
        )

    def scrub(self, text: str) -> str:
        return self.scrubber.scrub(text)

    def scrubbed_error(self, exc: BaseException) -> FeedError:
        """``exc`` as a FeedError of the same kind, its words scrubbed."""
        text = self.scrub(describe(exc) if not isinstance(exc, FeedError) else str(exc))
        if isinstance(exc, Incomplete):
            return Incomplete(text, exc.partial)
        if isinstance(exc, Unreadable):
            return Unreadable(text)
        return FeedError(text)

    def ws_url(self) -> str | None:
        if self.settings.ws_url:
            return self.settings.ws_url
        parts = urlsplit(self.settings.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}/ws/subscribe"

    def _path(self, endpoint: str) -> str:
        return f"{self._prefix}/trading/{endpoint}"

    def _headers(self, index: int) -> dict[str, str]:
        return {"X-API-Key": self._keys[index].reveal()}

    async def _send(
        self,
        index: int,
        method: str,
        path: str,
        *,
        timeout_s: float,
        pacer: Pacer | None,
        content: bytes | None = None,
    ) -> Reply:
        """One request with a key's credential, at most IN_FLIGHT_PER_KEY at a time.

        The pacer counts a request when it is let go; if it then waited for a pooled
        connection, a burst could reach the venue closer together than it was paced and
        overrun the venue's window. Queueing before the pacer keeps the two in step.
        """
        async with self._in_flight[index]:
            return await send(
                self._http,
                method,
                path,
                content=content,
                headers=self._headers(index),
                timeout_s=timeout_s,
                pacer=pacer,
            )

    async def _index_for(self, target_id: str) -> tuple[int | None, list[str]]:
        """The key serving ``target_id`` (learnt by reading every key when not yet known)."""
        errors: list[str] = []
        if self.ids.index_of(target_id) is None:
            _, failures = await self.read_all()
            errors = [str(exc) for _, exc in failures]
        return self.ids.index_of(target_id), errors

    # ----- reads ------------------------------------------------------------------------
    async def _fetch_status(self, index: int) -> TradingStatus:
        """One key's status answer, not yet learnt; raises the FeedError family, scrubbed."""
        try:
            reply = await self._send(
                index,
                "GET",
                self._path("status"),
                timeout_s=self.settings.request_timeout_s,
                pacer=self._pacers[index],
            )
        except CallError as exc:
            raise FeedError(
                self.scrub(f"55-tech status read for {self.who(index)}: {exc.message}")
            ) from None
        try:
            return status_from_reply(reply, self.who(index), self.settings.retry_after_cap_s)
        except FeedError as exc:
            raise self.scrubbed_error(exc) from None

    async def read_status(self, index: int) -> TradingStatus:
        """One key's engine status; raises :class:`FeedError` with a plain-words reason."""
        status = await self._fetch_status(index)
        self.ids.learn({index: status.client})
        return status

    async def read_key(self, index: int) -> Target:
        return self.to_target(await self.read_status(index), index)

    async def read_all(self) -> tuple[list[Target], list[tuple[int, FeedError]]]:
        """Every key's engine, concurrently: the targets read, and each failed key with
        why (scrubbed). Keys that answered in this read are identified together, so keys
        sharing a slug all get their own id (:class:`KeyIds`)."""
        results = await asyncio.gather(
            *(self._fetch_status(i) for i in range(len(self._keys))), return_exceptions=True
        )
        answered: dict[int, TradingStatus] = {}
        failures: list[tuple[int, FeedError]] = []
        for index, result in enumerate(results):
            if isinstance(result, TradingStatus):
                answered[index] = result
            elif isinstance(result, asyncio.CancelledError):
                raise result
            elif isinstance(result, FeedError):
                failures.append((index, result))
            else:  # not venue trouble we know of: still this key's engine only
                log.error("55-tech status read failed: %s", self.scrub(describe(result)))
                failures.append((index, self.scrubbed_error(result)))
        self.ids.learn({i: status.client for i, status in answered.items()})
        targets = [self.to_target(status, i) for i, status in answered.items()]
        return targets, failures

    async def list_targets(self) -> list[Target]:
        """Every key's engine. A failed key fails its own engine only: it is named in
        ``skipped_rows`` (``"<id or key #N>: <why>"``) and the others are returned; when
        no key could be read the whole list raises (nothing can be said of any engine)."""
        self.skipped_rows = []
        targets, failures = await self.read_all()
        if failures and not targets:
            raise self._none_read(failures)
        self.skipped_rows = [f"{self.ids.row_id(i)}: {exc}" for i, exc in failures]
        return targets

    def _none_read(self, failures: list[tuple[int, FeedError]]) -> FeedError:
        message = combine_errors([str(exc) for _, exc in failures], len(self._keys))
        if all(isinstance(exc, Unreadable) for _, exc in failures):
            return Unreadable(message)
        return FeedError(message)

    async def read_target(self, target_id: str) -> Target | None:
        index, errors = await self._index_for(target_id)
        if index is None and errors:
            raise FeedError(self.scrub(combine_errors(errors, len(self._keys))))
        return None if index is None else await self.read_key(index)

    def to_target(self, status: TradingStatus, index: int) -> Target:
        """Key ``index``'s engine as the console sees it (its id from :class:`KeyIds`)."""
        target_id = self.ids.id_of(index) or status.client
        duration = status.system_duration_seconds
        attrs: dict[str, AttrValue] = {
            "client": status.client,
            "key_no": index + 1,
            "status_words": status_words(status.status),
            "trading_active": status.trading_active,
            "manual_paused": status.manual_paused,
            "manual_stopped": status.manual_stopped,
            "pause_reason": status.manual_pause_reason,
            "paused_at": status.manual_paused_at,
            "stop_reason": status.manual_stop_reason,
            "stopped_at": status.manual_stopped_at,
            "system_blocked": status.system_trading_blocked,
            "emergency": status.emergency_active,
            "system_stopped": status.system_stopped,
            "soft_paused": status.soft_paused,
            "system_reason": status.system_reason,
            "system_duration_s": (
                int(duration) if duration is not None and math.isfinite(duration) else None
            ),
            "orders_seen": self.orders_seen.get(target_id, 0),
        }
        if status.odds_format is not None:
            attrs["odds_format"] = status.odds_format
        warning = self.ids.warning(status.client)
        if warning is not None:
            attrs["warning"] = self.scrub(warning)
            if status.client not in self._warned:
                self._warned.add(status.client)
                log.warning("55-tech: %s", attrs["warning"])
        return Target(
            venue=self.name,
            kind=TargetKind.ENGINE,
            id=target_id,
            name=status.client_name,
            state=state_of(status.status),
            raw_status=status.status,
            attrs=attrs,
        )

    # ----- actions ----------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        return action_specs(target.attrs)

    def kill_action(self, target: Target, *, close_positions: bool = False) -> Action | None:
        """A manual stop, unless the engine is already manually stopped.

        A global emergency or a manual pause is not enough: the vendor lifts the former
        and anyone with the key can resume the latter. 55-tech has no way to flatten
        positions, so ``close_positions`` changes nothing here.
        """
        if target.attrs.get("manual_stopped") is True:
            return None
        return Action(ActionKind.STOP)

    # ----- control ----------------------------------------------------------------------
    async def execute(self, target_id: str, action: Action) -> Outcome:
        """One control call to the engine of ``target_id``'s own key; never raises."""
        try:
            outcome = await self._execute(target_id, action)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must still end as an outcome
            log.error("55-tech %s failed: %s", action.kind.value, self.scrub(describe(exc)))
            outcome = Outcome(
                OutcomeKind.UNCERTAIN,
                f"Could not {action.kind.value} engine '{target_id}': internal error "
                f"({describe(exc)}). The call may or may not have been sent: re-read the "
                "engine before retrying.",
            )
        return self._scrubbed(outcome)

    def _scrubbed(self, outcome: Outcome) -> Outcome:
        return scrub_outcome(outcome, self.scrub)

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        verb = action.kind.value
        index, errors = await self._index_for(target_id)
        if index is None and errors:
            return Outcome(
                OutcomeKind.FAILED,
                f"Cannot {verb} engine '{target_id}': nothing was sent because its API key "
                f"is not known yet and {combine_errors(errors, len(self._keys))}. Retry when the "
                "venue answers.",
            )
        if index is None:
            shared = self.ids.sharing(target_id)
            if len(shared) > 1:
                names = ", ".join(self.ids.id_of(i) or f"key #{i + 1}" for i in shared)
                return Outcome(
                    OutcomeKind.REJECTED,
                    f"Cannot {verb} '{target_id}': {len(shared)} API keys answer as that "
                    f"client, each its own engine; name one of {names}. Nothing was sent.",
                )
            return Outcome(
                OutcomeKind.REJECTED,
                f"Cannot {verb} engine '{target_id}': no API key in this profile answers "
                "for that client. Check api_keys in the profile; nothing was sent.",
            )
        body = dumps({"reason": action.reason}) if action.reason else None
        who = self.who(index)
        try:
            reply = await self._send_control(index, verb, body)
        except CallError as exc:
            if not exc.maybe_sent:
                return Outcome(
                    OutcomeKind.FAILED,
                    f"Could not reach 55-tech to {verb} {who}: {exc.message}. "
                    "Nothing was sent; retry when the venue is reachable.",
                    latency_ms=exc.latency_ms,
                )
            what = f"No answer from 55-tech to {verb} {who} ({exc.message})"
            return await self._reread_after(index, action, what, None, exc.latency_ms)
        return await self._translate(index, action, reply)

    async def _send_control(self, index: int, verb: str, body: bytes | None) -> Reply:
        """POST one control verb; a 429 (refused, so not acted on) is retried once, after
        the vendor's wait when it names one within the cap, else after the docs' first
        backoff step. A wait beyond the cap is not taken: the 429 is the answer."""

        async def post(pacer: Pacer | None) -> Reply:
            return await self._send(
                index,
                "POST",
                self._path(verb),
                content=body,
                timeout_s=self.settings.control_timeout_s,
                pacer=pacer,
            )

        reply = await post(self._pacers[index])
        if reply.status != 429:
            return reply
        wait = retry_after_seconds(reply.headers)
        if too_long(wait, self.settings.retry_after_cap_s):
            return reply
        await asyncio.sleep(wait if wait is not None else RETRY_429_S * self.settings.rate_scale)
        # The pacer now holds every read for a while (at most the cap); this one retry,
        # after the vendor's own backoff step, is allowed past that hold.
        return await post(None)

    async def _translate(self, index: int, action: Action, reply: Reply) -> Outcome:
        who = self.who(index)
        verb = action.kind.value
        said = detail(reply)
        if reply.status == 200:
            try:
                parsed = reply.validated(ControlReply)
            except ValueError as exc:
                what = f"55-tech answered {verb} of {who} with {short_validation(exc)}"
                return await self._reread_after(index, action, what, 200, reply.latency_ms)
            return outcome_from_result(who, action.kind, parsed, reply)
        if reply.status == 409:
            return await self._already_from_409(index, action, reply)
        if reply.status == 401:
            return Outcome(
                OutcomeKind.REJECTED,
                f"55-tech refused to {verb} {who}: API key refused (401 '{said}'). "
                "Check that key in api_keys; nothing was changed.",
                http_status=401,
                latency_ms=reply.latency_ms,
                vendor_code="401",
            )
        if reply.status == 429:
            wait = retry_after_seconds(reply.headers)
            cap_s = self.settings.retry_after_cap_s
            if wait is not None and too_long(wait, cap_s):
                return Outcome(
                    OutcomeKind.FAILED,
                    f"Could not {verb} {who}: {not_waiting(VENDOR, wait, cap_s)} (429 '{said}').",
                    http_status=429,
                    latency_ms=reply.latency_ms,
                )
            return Outcome(
                OutcomeKind.FAILED,
                f"Could not {verb} {who}: rate limited by 55-tech twice (429 '{said}'). "
                "Nothing was changed; retry in a minute.",
                http_status=429,
                latency_ms=reply.latency_ms,
            )
        if reply.status >= 500:
            return Outcome(
                OutcomeKind.FAILED,
                f"55-tech failed to {verb} {who}: {reply.status} '{said}'. "
                "Probably nothing was changed; re-read the engine, then retry.",
                http_status=reply.status,
                latency_ms=reply.latency_ms,
            )
        return Outcome(
            OutcomeKind.REJECTED,
            f"55-tech refused to {verb} {who}: {reply.status} '{said}'.",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
        )

    async def _already_from_409(self, index: int, action: Action, reply: Reply) -> Outcome:
        """A 409 "blocked by current state": re-read to tell *already there* from *no*."""
        who = self.who(index)
        verb = action.kind.value
        said = detail(reply)
        outcome = partial(Outcome, http_status=409, latency_ms=reply.latency_ms, vendor_code="409")
        try:
            status = await self.read_status(index)
        except FeedError as exc:
            return outcome(
                OutcomeKind.REJECTED,
                f"55-tech refused to {verb} {who}: 409 '{said}'; the follow-up read failed "
                f"({exc}), so re-read the engine before retrying.",
            )
        state = state_of(status.status)
        if status.holds(action.kind):
            return outcome(
                OutcomeKind.ALREADY,
                f"{cap(who)} was {ALREADY_WORDS[action.kind]}: 55-tech answered "
                f"409 '{said}' and a re-read shows status {status_words(status.status)}.",
                state_after=state,
                warning=still_blocked(action.kind, status),
                leaves=start_leaves(action.kind, status),
            )
        return outcome(
            OutcomeKind.REJECTED,
            f"55-tech refused to {verb} {who}: 409 '{said}'; a re-read shows status "
            f"{status_words(status.status)}.",
            state_after=state,
        )

    async def _reread_after(
        self,
        index: int,
        action: Action,
        what: str,
        http_status: int | None,
        latency_ms: float | None,
    ) -> Outcome:
        """No usable answer to a control call: never re-send it, re-read the engine."""
        who = self.who(index)
        asked = asked_state(action.kind)
        try:
            status = await self.read_status(index)
        except FeedError as exc:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"{what}; the follow-up read failed too ({exc}). {cap(who)} may or "
                f"may not be {asked}: check it before retrying.",
                http_status=http_status,
                latency_ms=latency_ms,
            )
        state = state_of(status.status)
        words = status_words(status.status)
        if status.holds(action.kind):
            return Outcome(
                OutcomeKind.APPLIED,
                f"{what}, but a re-read shows {who} {asked} (status {words}).",
                http_status=http_status,
                latency_ms=latency_ms,
                state_after=state,
                warning="; ".join(w for w in (what, still_blocked(action.kind, status)) if w),
                leaves=start_leaves(action.kind, status),
            )
        return Outcome(
            OutcomeKind.UNCERTAIN,
            f"{what}; a re-read does not show {who} {asked} (status {words}). The call may "
            "still land or may be lost: re-read before retrying.",
            http_status=http_status,
            latency_ms=latency_ms,
            state_after=state,
        )

    # ----- feed and lifecycle -------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        await run_feed(self, sink)

    async def aclose(self) -> None:
        await self._http.aclose()
