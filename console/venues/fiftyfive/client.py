"""55-tech MM API client: one ENGINE target per client API key.

Credentials: ``api_keys``, the client keys (UUIDs) comma-joined. Every key is its own
target, never merged by slug: the target id is the ``client`` slug the key's answers
carry, or ``<slug>@key<N>`` when several keys answer with one slug (see
:class:`~console.venues.fiftyfive.mapping.KeyIds`); the id→key map stays inside this module. One
:class:`~console.venues.kit.scrubber.VenueScrubber` built from every key scrubs each message, outcome,
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
  see :func:`console.venues.fiftyfive.outcomes.outcome_from_result`.
* Pause and stop are two flags: a start lifts the stop only, so an engine both stopped
  and paused reads PAUSED after it. That start is done (``Outcome.leaves`` = PAUSED,
  :func:`~console.venues.fiftyfive.outcomes.start_leaves`), with the warning "still
  manually paused: resume to trade".
* A repeat may instead be ``409 {"detail"}`` (docs leave it open): re-read, then
  already or rejected (:meth:`FiftyFiveClient._already_from_409`).
* ``401 {"detail": "Invalid or missing API key"}`` → rejected, "API key refused".
* ``429`` carries no documented headers: a control call goes again after ``Retry-After``
  if one appears, else after the docs' backoff (1 s, 2 s, 4 s …), for up to
  ``retry_after_cap_s`` (``console/venues/kit/refused.py``; a 429 was refused, not done);
  a wait beyond the cap is never taken: the call is failed at once with the vendor's
  wait in words.
* A control call with no answer (timeout, broken connection) or a malformed body is
  never re-sent: the status is re-read and the outcome says what it showed
  (:class:`~console.venues.kit.control.ControlStep`).
* The nullable status fields may be absent (quickstart sample); ``status`` may be a
  value nobody documented (kept raw, state UNKNOWN).
* Global flags (emergency / system stop / soft pause) are shown, never set: no endpoint.

Target attrs (docs/ATTRIBUTES.md): ``client``, ``status_words``, ``trading_active``,
``manual_paused``, ``manual_stopped``, ``pause_reason``, ``paused_at``, ``stop_reason``,
``stopped_at``, ``system_blocked``, ``emergency``, ``system_stopped``, ``soft_paused``,
``system_reason``, ``system_duration_s``, ``odds_format``, ``orders_seen``.

The feed (REST polling plus one WebSocket per key) lives in
:mod:`console.venues.fiftyfive.feed`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

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
from console.core.scrub import printable
from console.venues.fiftyfive.feed import run_feed
from console.venues.fiftyfive.mapping import (
    STATE_NOW,
    KeyIds,
    action_specs,
    control_state,
    to_target,
    unread_target,
)
from console.venues.fiftyfive.outcomes import (
    from_409,
    outcome_from_result,
    refused,
    settled,
    unreached,
    unsettled,
)
from console.venues.fiftyfive.wire import (
    ControlReply,
    KeyBarred,
    TradingStatus,
    combine_errors,
    detail,
    short_validation,
    status_from_reply,
)
from console.venues.kit.base import (
    FeedSink,
    RateLimit,
    Secret,
    VenueClient,
    VenueConfigError,
    VenueSettings,
)
from console.venues.kit.control import ControlStep, NoAnswer, about_another, guarded
from console.venues.kit.feeds import FeedError, Unreadable, describe
from console.venues.kit.http import CallError, Reply, dumps, send
from console.venues.kit.http_client import Seam, make_http_client, use_scrubber
from console.venues.kit.pacing import Pacer, make_pacer
from console.venues.kit.refused import Refusals
from console.venues.kit.scrubber import VenueScrubber

log = logging.getLogger(__name__)

# 2,000 requests per minute per client API key (documented).
REST_LIMIT = RateLimit(2000, 60.0)
# Requests of one key in flight at once: far below the connection pool's 64.
IN_FLIGHT_PER_KEY = 8


# What core and the screen may know of 55-tech: control calls paced per client key.
CAPABILITIES = Capabilities(control_rate=ControlRate("rest", REST_LIMIT.limit, REST_LIMIT.window_s))


class FiftyFiveClient(VenueClient):
    """55-tech MM: pause / resume / stop / start of each client's trading engine."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(self, settings: VenueSettings, *, transport: Seam | None = None) -> None:
        super().__init__(settings)
        raw = settings.secret("api_keys").reveal()
        self._keys = [Secret(k.strip()) for k in raw.split(",") if k.strip()]
        if not self._keys:
            raise VenueConfigError(
                f"venue {settings.name!r} (55tech) has an empty api_keys credential; "
                "list one client API key per engine, comma-separated"
            )
        # One scrubber for every text this venue writes: the venue may echo a key.
        self.scrubber = VenueScrubber(k.reveal() for k in self._keys)
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
        self._refusals = [Refusals.of(settings, pacer) for pacer in self._pacers]
        # See _send: a key's requests queue here, before its pacer, not in the pool after it.
        self._in_flight = [asyncio.Semaphore(IN_FLIGHT_PER_KEY) for _ in self._keys]
        self._http = make_http_client(settings, transport=transport)
        use_scrubber(self._http, self.scrubber.scrub)  # before a network error is cut
        base_path = urlsplit(settings.base_url).path.rstrip("/")
        self._prefix = "" if base_path.endswith("/api/v1") else "/api/v1"
        self.ids = KeyIds(len(self._keys))
        self._warned: set[str] = set()
        self._last: dict[int, Target] = {}  # key -> its engine as last read (list_targets)
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
        """How messages name a key's engine: its target id once known, never the key (and
        the client it answered as, when its id is its key's position)."""
        target_id = self.ids.id_of(index)
        if not target_id:
            return f"API key #{index + 1} of {len(self._keys)}"
        slug = self.ids.slug_of(index)
        if slug is not None and self.ids.positional(index):
            return f"engine '{target_id}' (client '{printable(slug)[:60]}')"
        return f"engine '{target_id}'"

    def scrub(self, text: str) -> str:
        return self.scrubber.scrub(text)

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
        resend_on_stale: bool = False,
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
                resend_on_stale=resend_on_stale,
            )

    async def _index_for(self, target_id: str) -> tuple[int | None, list[str]]:
        """The key serving ``target_id`` (learnt by reading every key when not yet known,
        as a list read learns it: ``key #N`` too, :meth:`unread_engines`)."""
        errors: list[str] = []
        if self.ids.index_of(target_id) is None:
            targets, failures = await self.read_all()
            if targets:
                self.unread_engines(failures)
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
            words = self.scrub(f"55-tech status read for {self.who(index)}: {exc.message}")
            raise (FeedError if exc.maybe_sent else KeyBarred)(
                words, transient=exc.transient
            ) from None
        try:
            return status_from_reply(
                reply, self.who(index), self.settings.retry_after_cap_s, self.scrubber.scrub
            )
        except FeedError as exc:
            raise self.scrubber.error(exc) from None

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
                failures.append((index, self.scrubber.error(result)))
        self.ids.learn({i: status.client for i, status in answered.items()})
        targets = [self.to_target(status, i) for i, status in answered.items()]
        self._last.update(zip(answered, targets, strict=True))
        return targets, failures

    async def list_targets(self) -> list[Target]:
        """Every key's engine. A failed key fails its own engine only: it is named in
        ``skipped_rows`` (``"<id or key #N>: <why>"``) and its engine is listed UNKNOWN
        (:meth:`_as_last_read`, :meth:`unread_engines`). When no key could be read the
        whole list raises: nothing can be said of any engine, and a venue down for every
        key is named as such, not as a list of engines nobody could read."""
        self.skipped_rows = []
        targets, failures = await self.read_all()
        if failures and not targets:
            raise self._none_read(failures)
        self.skipped_rows = [f"{self.ids.row_id(i)}: {exc}" for i, exc in failures]
        return targets + self.failed_engines(failures)

    def failed_engines(self, failures: list[tuple[int, FeedError]]) -> list[Target]:
        """The engines of the keys whose read failed now, listed UNKNOWN: each read
        before as its last read (:meth:`_as_last_read`), each never read as ``key #N``
        (:meth:`unread_engines`). The panel's poll and a kill's list both list them so
        (one key's status endpoint answering 500 showed its engine in the panel as its
        last read, "MANUAL PAUSED 1s?", the age the venue's, while ``status`` and the kill
        said UNKNOWN)."""
        failed = [self._as_last_read(i, exc) for i, exc in failures if i in self._last]
        return failed + self.unread_engines(failures)

    def unread_engines(self, failures: list[tuple[int, FeedError]]) -> list[Target]:
        """The engines of the failed keys never read in this process whose read failed in
        a way their stop may not (a status endpoint answering 500 for that client, a
        malformed answer, no answer in time; not :class:`KeyBarred`): listed UNKNOWN as
        ``key #N`` (:meth:`KeyIds.unread`), so a kill sends each a stop by its key —
        which needs no read — and says what came back. Named only, a fresh ``kill`` run
        while one client's status endpoint was broken stopped every engine but that one.
        (Only called when another key answered: see :meth:`list_targets`.)"""
        return [
            unread_target(self.name, i, self.ids.unread(i), self.key_count, str(exc))
            for i, exc in failures
            if i not in self._last and not isinstance(exc, KeyBarred)
        ]

    def _as_last_read(self, index: int, why: FeedError) -> Target:
        """A key's engine whose status read failed now: kept, UNKNOWN (its flags unknown
        too, so a kill stops it whatever it last read), its name and age the last read's,
        saying so. Dropped, an engine vanished from the panel and from a kill's plan for
        as long as one key's reads failed (a status endpoint answering 500 for one client
        while its stop still works), though its key is known and a stop needs no read;
        named in ``skipped_rows`` all the same. Every attribute that tells its state now
        is unknown with it (:data:`~.mapping.STATE_NOW`): the last read's status word stood in the
        panel's Status column, "LIVE" beside UNKNOWN."""
        last = self._last[index]
        said = (f"its status could not be read now ({str(why)[:200]}); last read: "
                f"{last.raw_status}")  # fmt: skip
        attrs = {**last.attrs, **STATE_NOW, "warning": said}
        return replace(last, state=State.UNKNOWN, raw_status="unread", attrs=attrs)

    def _none_read(self, failures: list[tuple[int, FeedError]]) -> FeedError:
        message = combine_errors([str(exc) for _, exc in failures], len(self._keys))
        if all(isinstance(exc, Unreadable) for _, exc in failures):
            return Unreadable(message)
        # worth reading again soon when every key's failure is (a 503 for all of them)
        return FeedError(message, transient=all(exc.transient for _, exc in failures))

    async def read_target(self, target_id: str) -> Target | None:
        """The engine of ``target_id`` read now, or its key's failure (a re-read that
        cannot read it says so; the list still lists it UNKNOWN, and a one-target command
        acts on that: ``console/cli/control.py``)."""
        index, errors = await self._index_for(target_id)
        if index is None and errors:
            raise FeedError(self.scrub(combine_errors(errors, len(self._keys))))
        return None if index is None else await self.read_key(index)

    def to_target(self, status: TradingStatus, index: int) -> Target:
        """Key ``index``'s engine as the console sees it (its id from :class:`KeyIds`)."""
        target_id = self.ids.id_of(index) or status.client
        warning = self.ids.warning(status.client)
        if warning is not None:
            warning = self.scrub(warning)
            if status.client not in self._warned:
                self._warned.add(status.client)
                log.warning("55-tech: %s", warning)
        return to_target(
            self.name,
            status,
            index,
            target_id,
            orders_seen=self.orders_seen.get(target_id, 0),
            warning=warning,
        )

    # ----- actions ----------------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        return action_specs(target.attrs)

    def control_state(self, target: Target) -> State:
        """From the manual flags, not the status word (:func:`.mapping.control_state`)."""
        return control_state(target)

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        """A manual stop, unless the engine is already manually stopped.

        A global emergency or a manual pause is not enough: the vendor lifts the former
        and anyone with the key can resume the latter. 55-tech has no way to flatten
        positions, so ``clear_leaves_behind`` changes nothing here.
        """
        if target.attrs.get("manual_stopped") is True:
            return None
        return Action(ActionKind.STOP)

    # ----- control ----------------------------------------------------------------------
    async def execute(self, target_id: str, action: Action) -> Outcome:
        """One control call to the engine of ``target_id``'s own key; never raises."""

        def internal_error(exc: Exception) -> Outcome:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"Could not {action.kind.value} engine '{target_id}': internal error "
                f"({describe(exc)}). The call may or may not have been sent: re-read the "
                "engine before retrying.",
            )

        return await guarded(
            self._execute(target_id, action), self.scrubber, internal_error=internal_error, log=log
        )

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
            return self._unknown_engine(target_id, verb)
        body = dumps({"reason": action.reason}) if action.reason else None
        who = self.who(index)
        step = ControlStep(
            refusals=self._refusals[index],
            halting=action.kind.destructive,
            reread=partial(self.read_status, index),
            judge=partial(settled, who, action.kind),
            reread_failed=partial(unsettled, who, action.kind),
            said=self._said,
        )
        dropped: list[str] = []  # why the reason was left out of a second request
        outcome = await step.run(
            partial(self._send_control, index, verb, body, dropped),
            translate=partial(self._translate, step, index, action),
            unreached=partial(unreached, who, verb),
            unanswered=lambda err: f"No usable answer from 55-tech to {verb} {who} ({err.message})",
        )
        if dropped:
            return replace(outcome, message=f"{outcome.message} ({dropped[0]})")
        return outcome

    def _unknown_engine(self, target_id: str, verb: str) -> Outcome:
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

    async def _send_control(
        self, index: int, verb: str, body: bytes | None, dropped: list[str] | None = None
    ) -> Reply:
        """POST one control verb (a 429 goes again in the ControlStep: kit/refused.py).

        A halting call sent with the operator's reason that the venue refuses as a bad
        request (400, 422) goes again without a body, the documented form (the reason
        body is the console's reading of a [GAP]: a venue validating bodies strictly
        must not keep an emergency stop from landing); ``dropped`` gets the words."""
        reply = await self._post_control(index, verb, body)
        if body is None or reply.status not in (400, 422) or not ActionKind(verb).destructive:
            return reply
        said = self._said(reply)[:160]
        if dropped is not None:
            dropped.append(
                f"sent again without the reason: 55-tech refused the body, {reply.status} {said!r}"
            )
        return await self._post_control(index, verb, None)

    def _said(self, reply: Reply) -> str:
        """55-tech's own words in an answer (its ``detail``), scrubbed whole."""
        return self.scrubber.scrub(detail(reply, self.scrubber.scrub))

    async def _post_control(self, index: int, verb: str, body: bytes | None) -> Reply:
        """One control POST, paced by its key (a 429 goes again in the ControlStep:
        kit/refused.py)."""
        return await self._send(
            index,
            "POST",
            self._path(verb),
            content=body,
            timeout_s=self.settings.control_timeout_s,
            pacer=self._pacers[index],
            resend_on_stale=ActionKind(verb).destructive,  # stop, pause: docs/EMERGENCY.md
        )

    async def _translate(
        self, step: ControlStep[TradingStatus], index: int, action: Action, reply: Reply
    ) -> Outcome:
        who = self.who(index)
        verb = action.kind.value
        if reply.ok:  # 200 is documented; any success is read by its body
            try:
                parsed = reply.validated(ControlReply)
            except ValueError as exc:
                said = "" if reply.status == 200 else f"HTTP {reply.status} and "
                what = f"55-tech answered {verb} of {who} with {said}{short_validation(exc)}"
                return await step.settle(NoAnswer(what, reply.status, reply.latency_ms))
            if self.ids.slug_of(index) is None and parsed.client.strip():
                self.ids.learn({index: parsed.client})  # a key never read: whose it is
                who = self.who(index)
            other = about_another(parsed.client, self.ids.slug_of(index) or parsed.client)
            if other is not None:  # the engine of this key answered as another client
                what = f"55-tech answered {verb} of {who} with {other}"
                return await step.settle(NoAnswer(what, reply.status, reply.latency_ms))
            return outcome_from_result(who, action.kind, parsed, reply)
        if reply.status == 409:
            return await self._already_from_409(index, action, reply)
        return refused(who, verb, reply, self.settings.retry_after_cap_s, self.scrubber.scrub)

    async def _already_from_409(self, index: int, action: Action, reply: Reply) -> Outcome:
        """A 409 "blocked by current state": re-read to tell *already there* from *no*."""
        who = self.who(index)
        try:
            status = await self.read_status(index)
        except FeedError as exc:
            return from_409(who, action.kind, reply, self.scrubber.scrub, None, str(exc))
        return from_409(who, action.kind, reply, self.scrubber.scrub, status)

    # ----- feed and lifecycle -------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        await run_feed(self, sink)

    async def aclose(self) -> None:
        await self._http.aclose()
