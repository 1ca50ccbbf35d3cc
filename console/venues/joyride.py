"""Joyride exchange admin kill switch: one target per option expiration.

Joyride (a 0DTE options exchange, daily rounds settling at 08:00 UTC) lets an admin
pause or resume every instrument of one expiration with one idempotent call,
``POST /v1/admin/instruments/pause-by-expiration {"expiration", "paused"}`` under
``Authorization: Bearer <ADMIN_TOKEN>``. Requests go to ``/v1/...`` relative to the
profile's ``base_url``, which includes ``/api``.

Quirks handled here (and nowhere else):

* **No pause state to read back** (Project decision 4): targets are UNKNOWN with
  ``pause_source="unknown"`` until this process pauses/resumes one and gets a definite
  answer; then PAUSED/RUNNING with ``pause_source="set here"`` and ``set_at``.
* **Counts, not states**: ``db_updated > 0`` is *applied*; ``db_updated == 0`` is
  *already* (``_already_from_zero_counts``), unless the expiration matches no instrument
  at all, which is *rejected* (``_nothing_matched_from_zero_counts``).
* **DB/engine drift**: ``engine_missing`` non-empty or ``engine_updated < db_updated`` is
  still a success, carried as ``Outcome.warning`` and as the ``drift`` attr on later reads
  (``_drift_warning``).
* **Echo check**: a 200 whose ``expiration``/``paused`` do not echo the request is
  *uncertain* (``_uncertain_from_bad_echo``).
* **Timeouts and cut-short bodies**: never re-sent; *uncertain*, then the instrument list
  is re-read, which can only say whether the round still exists (pause state cannot be
  read), so the message says that re-issuing the idempotent call will confirm it.
* **Auth** ([GAP] body): 401/403 is *rejected* with advice to check ``admin_token``;
  the token never appears in any message (``_scrub``).
* **Rate limits** ([GAP]): paced at 20 requests/s plus 50 ms of slack per window
  (``settings.rate_limits["admin"]`` overrides); a 429 was refused, so it is retried once
  after ``Retry-After``.
* **Expired rounds** (expiration <= now) are STOPPED, raw ``expired``, with no actions.
* No pagination exists on the instrument list; no stream carries pause state, so the
  feed polls the list.

Target attrs produced (docs/ATTRIBUTES.md): ``expiration``, ``instruments``, ``calls``,
``puts``, ``assets``, ``by_asset``, ``pause_source``, ``set_at``, ``drift``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

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
    TargetKind,
)
from console.venues.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.feeds import FeedError, poll_forever
from console.venues.http import CallError, Reply, dumps, make_http_client, send
from console.venues.joyride_targets import (
    Knowledge,
    Rounds,
    count_rounds,
    expiration_name,
    group_targets,
    parse_expiration,
)
from console.venues.joyride_wire import (
    PauseResult,
    clean_instrument_rows,
    parse_error,
    parse_instrument_rows,
)
from console.venues.pacing import make_pacer, retry_after_seconds

log = logging.getLogger(__name__)

INSTRUMENTS_PATH = "/v1/market/instruments"
PAUSE_PATH = "/v1/admin/instruments/pause-by-expiration"
# [GAP] Joyride documents no REST limit; this is our conservative choice.
ADMIN_RATE = RateLimit(20, 1.0)
_MISSING_SHOWN = 5

_LEAVES_BEHIND = (
    "resting orders stay on the book (owners can still cancel them); open positions "
    "stay open until the round settles at 08:00 UTC"
)


class JoyrideClient(VenueClient):
    """Watches Joyride's rounds and pauses/resumes them through the admin kill switch."""

    def __init__(
        self, settings: VenueSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        super().__init__(settings)
        self._http = make_http_client(settings, transport=transport)
        rate = settings.rate_limits.get("admin", ADMIN_RATE)
        self._pacer = make_pacer(rate, enabled=settings.pacing, scale=settings.rate_scale)
        self._retry_wait_s = rate.window_s * settings.rate_scale
        token = settings.credentials.get("admin_token")
        self._token = token.reveal() if token is not None else ""
        self._known: dict[int, Knowledge] = {}
        self._listed: dict[int, int] = {}  # expiration -> instruments at the last read
        # The list is one unpaginated body (tens of thousands of rows on a big venue) that
        # changes only when a round lists or settles: the same bytes are not parsed again.
        self._last_body = b""
        self._last_rounds: Rounds = {}
        self.clock: Callable[[], float] = time.time

    # ----- reading -----------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        return self._group(await self._fetch_rounds())

    async def read_target(self, target_id: str) -> Target | None:
        expiration = parse_expiration(target_id)
        if expiration is None:
            return None
        rounds = await self._fetch_rounds()
        return next((t for t in self._group(rounds) if t.id == str(expiration)), None)

    def _group(self, rounds: Rounds) -> list[Target]:
        return group_targets(self.name, rounds, self._known, now=self.clock())

    async def _fetch_rounds(self) -> Rounds:
        """The whole instrument list (no pagination exists), counted per expiration;
        raises FeedError in plain words. A body identical to the last one is not parsed
        again; a new one is parsed and counted in ~100 ms at 30,000 instruments (it was ~300 ms
        with a model per row, all of it on the screen's loop, on the way to first paint)."""
        what = "reading Joyride's instrument list"
        try:
            reply = await send(
                self._http,
                "GET",
                INSTRUMENTS_PATH,
                timeout_s=self.settings.request_timeout_s,
                pacer=self._pacer,
            )
        except CallError as exc:
            raise FeedError(self._scrub(f"{what}: {exc.message}")) from None
        if not reply.ok:
            raise FeedError(self._scrub(f"{what}: {self._venue_words(reply)}"))
        if reply.content == self._last_body:
            return self._last_rounds
        instruments, skipped = clean_instrument_rows(reply.content), 0
        if instruments is None:
            try:
                instruments, skipped = parse_instrument_rows(reply.json())
            except ValueError as exc:
                raise FeedError(self._scrub(f"{what}: {exc}")) from None
        if skipped:
            log.warning("%s: skipped %d unreadable instrument rows", self.name, skipped)
        rounds = count_rounds(instruments)
        self._listed = {expiration: r.instruments for expiration, r in rounds.items()}
        self._last_body, self._last_rounds = reply.content, rounds
        return rounds

    # ----- actions -----------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Pause and resume on every live round: the true state is unknown, so both."""
        if not self._actionable(target):
            return []
        return [
            ActionSpec(ActionKind.PAUSE, "Pause expiration", leaves_behind=_LEAVES_BEHIND),
            ActionSpec(
                ActionKind.RESUME,
                "Resume expiration",
                leaves_behind="new orders are accepted again on every instrument of this round",
            ),
        ]

    def kill_action(self, target: Target, *, close_positions: bool = False) -> Action | None:
        """Always re-issue the idempotent pause: Joyride cannot confirm a round is still paused."""
        if not self._actionable(target):
            return None
        return Action(ActionKind.PAUSE)

    def _actionable(self, target: Target) -> bool:
        expiration = parse_expiration(target.id)
        instruments = target.attrs.get("instruments", 1)
        return (
            target.kind is TargetKind.EXPIRATION
            and expiration is not None
            and expiration > self.clock()
            and not (isinstance(instruments, int) and instruments <= 0)
        )

    async def execute(self, target_id: str, action: Action) -> Outcome:
        try:
            return await self._execute(target_id, action)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # last line of defence: an outcome, never an exception
            log.exception("%s: unexpected error executing %s", self.name, action.kind)
            return Outcome(
                OutcomeKind.UNCERTAIN,
                self._scrub(
                    f"{action.kind} on Joyride expiration {target_id} hit an internal error "
                    f"({type(exc).__name__}); it may or may not have been sent. Pausing or "
                    "resuming again is safe (the call is idempotent)."
                ),
            )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        expiration = parse_expiration(target_id)
        if expiration is None:
            return Outcome(
                OutcomeKind.REJECTED,
                f"{target_id!r} is not a Joyride expiration (expected Unix seconds such as "
                "1740816000); pick a round from the list.",
            )
        paused = {ActionKind.PAUSE: True, ActionKind.RESUME: False}.get(action.kind)
        label = expiration_name(expiration)
        if paused is None:
            return Outcome(
                OutcomeKind.REJECTED,
                f"Joyride has no {action.kind} control for {label}: its admin kill switch "
                "only pauses or resumes a whole expiration. Use pause instead.",
            )
        verb = "pause" if paused else "resume"
        if expiration <= self.clock():
            return Outcome(
                OutcomeKind.REJECTED,
                f"Expiration {label} has passed: its market is closed and settling, so there "
                f"is nothing to {verb}. Nothing was sent.",
                state_after=State.STOPPED,
            )
        body = dumps({"expiration": expiration, "paused": paused})
        try:
            reply = await self._post_control(body)
        except CallError as exc:
            if exc.maybe_sent:
                return await self._uncertain(expiration, verb, exc.message, exc.latency_ms)
            return Outcome(
                OutcomeKind.FAILED,
                self._scrub(
                    f"Could not reach Joyride to {verb} {label}: {exc.message}. Nothing was "
                    "sent; check the venue is reachable and try again."
                ),
            )
        return await self._translate(expiration, paused, reply)

    async def _post_control(self, body: bytes) -> Reply:
        """One paced POST; a 429 was refused (not acted on), so it is retried once."""
        reply = await self._post_once(body)
        if reply.status != 429:
            return reply
        wait = retry_after_seconds(reply.headers)
        wait = self._retry_wait_s if wait is None else wait
        if wait > self.settings.control_timeout_s:
            return reply
        await asyncio.sleep(wait)
        return await self._post_once(body)

    async def _post_once(self, body: bytes) -> Reply:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return await send(
            self._http,
            "POST",
            PAUSE_PATH,
            content=body,
            headers=headers,
            timeout_s=self.settings.control_timeout_s,
            pacer=self._pacer,
        )

    async def _translate(self, expiration: int, paused: bool, reply: Reply) -> Outcome:
        verb = "pause" if paused else "resume"
        label = expiration_name(expiration)
        status, latency = reply.status, reply.latency_ms
        if reply.ok:
            try:
                data = reply.json()
            except ValueError as exc:
                return await self._uncertain(expiration, verb, str(exc), latency, status)
            try:
                result = PauseResult.model_validate(data)
            except ValidationError:
                why = f"its 200 answer lacked the documented fields ({reply.text(120)})"
                return await self._uncertain(expiration, verb, why, latency, status)
            if result.expiration != expiration or result.paused != paused:
                return await self._uncertain_from_bad_echo(expiration, paused, result, reply)
            if result.db_updated == 0:
                return await self._nothing_matched_from_zero_counts(
                    expiration, paused, reply
                ) or self._already_from_zero_counts(expiration, paused, reply)
            return self._applied(expiration, paused, result, reply)
        words = self._venue_words(reply)
        if status in (401, 403):
            return self._rejected_auth(verb, label, words, reply)
        if status in (400, 422):
            return Outcome(
                OutcomeKind.REJECTED,
                self._scrub(
                    f"Joyride rejected the {verb} of {label}: {words}. Nothing changed; this "
                    "is a bug in the request, please report it."
                ),
                http_status=status,
                latency_ms=latency,
                vendor_code=self._vendor_code(reply),
            )
        if status == 429:
            return Outcome(
                OutcomeKind.FAILED,
                self._scrub(
                    f"Joyride rate limited the {verb} of {label} ({words}); a 429 is refused "
                    "before it acts, so nothing changed. Wait a moment and try again."
                ),
                http_status=status,
                latency_ms=latency,
                vendor_code=self._vendor_code(reply),
            )
        if status == 404:
            hint = "check that the profile's base_url ends with /api"
        else:
            hint = "nothing is known to have changed; try again when Joyride is healthy"
        return Outcome(
            OutcomeKind.FAILED,
            self._scrub(f"Joyride failed to {verb} {label}: {words}; {hint}."),
            http_status=status,
            latency_ms=latency,
            vendor_code=self._vendor_code(reply),
        )

    # ----- quirk translators -------------------------------------------------------
    def _applied(self, expiration: int, paused: bool, result: PauseResult, reply: Reply) -> Outcome:
        label = expiration_name(expiration)
        warning = self._drift_warning(result)
        self._remember(expiration, paused, warning)
        done = "blocked new orders on" if paused else "lifted the block on"
        return Outcome(
            OutcomeKind.APPLIED,
            f"Joyride {done} {result.db_updated} instruments of {label} "
            f"(engine flipped {result.engine_updated}).",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=State.PAUSED if paused else State.RUNNING,
            warning=warning,
        )

    def _already_from_zero_counts(self, expiration: int, paused: bool, reply: Reply) -> Outcome:
        """``db_updated == 0``: every instrument of the round already had that flag."""
        previous = self._known.get(expiration)
        self._remember(expiration, paused, previous.drift if previous else None)
        word = "already paused" if paused else "already live"
        return Outcome(
            OutcomeKind.ALREADY,
            f"{expiration_name(expiration)} was {word}: Joyride changed no instrument "
            "(db_updated 0).",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=State.PAUSED if paused else State.RUNNING,
        )

    async def _nothing_matched_from_zero_counts(
        self, expiration: int, paused: bool, reply: Reply
    ) -> Outcome | None:
        """Zero counts also mean "no such expiration": tell the two apart by the list."""
        if self._listed.get(expiration, 0) > 0:
            return None
        try:
            await self._fetch_rounds()
        except FeedError:
            return None  # cannot tell; the zero counts still say nothing changed
        if self._listed.get(expiration, 0) > 0:
            return None
        self._known.pop(expiration, None)
        verb = "pause" if paused else "resume"
        return Outcome(
            OutcomeKind.REJECTED,
            f"Joyride lists no instrument expiring {expiration_name(expiration)}, so there "
            f"was nothing to {verb} (the round may have settled). Refresh the list.",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
        )

    def _drift_warning(self, result: PauseResult) -> str | None:
        """DB/engine drift from the counts: a warning to show, not a failure."""
        parts = []
        missing = result.engine_missing
        if missing:
            shown = ", ".join(missing[:_MISSING_SHOWN])
            more = (
                f" and {len(missing) - _MISSING_SHOWN} more"
                if len(missing) > _MISSING_SHOWN
                else ""
            )
            parts.append(
                f"{len(missing)} instruments changed in the DB but missing from the matching "
                f"engine: {shown}{more} (gateway restarting?); orders on them may not be "
                "blocked until the engine reloads them, so repeat the call once it is back"
            )
        already = result.db_updated - result.engine_updated - len(missing)
        if already > 0:
            parts.append(
                f"the engine was already at the target for {already} of "
                f"{result.db_updated} changed instruments (DB/engine drift, now corrected)"
            )
        elif not missing and result.engine_updated < result.db_updated:
            parts.append(
                f"engine flipped {result.engine_updated} of {result.db_updated} instruments"
            )
        return "; ".join(parts) if parts else None

    async def _uncertain_from_bad_echo(
        self, expiration: int, paused: bool, result: PauseResult, reply: Reply
    ) -> Outcome:
        why = (
            f"its answer echoed expiration {result.expiration} paused={result.paused}, not "
            f"what was asked (expiration {expiration} paused={paused})"
        )
        verb = "pause" if paused else "resume"
        return await self._uncertain(expiration, verb, why, reply.latency_ms, reply.status)

    async def _uncertain(
        self,
        expiration: int,
        verb: str,
        why: str,
        latency_ms: float | None,
        status: int | None = None,
    ) -> Outcome:
        """No trustworthy answer: forget what we knew, re-read what can be read, say so."""
        self._known.pop(expiration, None)
        label = expiration_name(expiration)
        try:
            await self._fetch_rounds()
            count = self._listed.get(expiration, 0)
            if count:
                reread = (
                    f"the list still shows {count} instruments for it, but Joyride's API "
                    "cannot show whether they are paused"
                )
            else:
                reread = "the list no longer shows this round (it may have settled)"
        except FeedError as exc:
            reread = f"re-reading the instrument list failed too ({exc})"
        return Outcome(
            OutcomeKind.UNCERTAIN,
            self._scrub(
                f"No reliable answer from Joyride to {verb} {label}: {why}. It may or may "
                f"not have been applied; {reread}. Sending {verb} again is safe (the call is "
                "idempotent) and will confirm it."
            ),
            http_status=status,
            latency_ms=latency_ms,
        )

    def _rejected_auth(self, verb: str, label: str, words: str, reply: Reply) -> Outcome:
        if self._token:
            what = "Joyride refused the admin token"
            advice = "Check admin_token for this venue in the profile."
        else:
            what = "Joyride requires an admin token"
            advice = "No admin_token is configured for this venue: add it to the profile."
        return Outcome(
            OutcomeKind.REJECTED,
            self._scrub(f"{what}, so {label} was not {verb}d: {words}. {advice}"),
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            vendor_code=self._vendor_code(reply),
        )

    # ----- helpers -------------------------------------------------------------------
    def _remember(self, expiration: int, paused: bool, drift: str | None) -> None:
        self._known[expiration] = Knowledge(paused=paused, at=time.time(), drift=drift)

    def _venue_words(self, reply: Reply) -> str:
        """``HTTP 503 service_unavailable: 'the venue's message'`` (or its raw text)."""
        err = parse_error(reply.json_or_none())
        if err is not None and (err.error or err.message):
            code = f" {err.error}" if err.error else ""
            said = f": {err.message!r}" if err.message else ""
            return f"HTTP {reply.status}{code}{said}"
        text = reply.text(160)
        return f"HTTP {reply.status}" + (f": {text!r}" if text else "")

    @staticmethod
    def _vendor_code(reply: Reply) -> str | None:
        err = parse_error(reply.json_or_none())
        return err.error if err is not None else None

    def _scrub(self, text: str) -> str:
        """Messages never carry the admin token, whatever the venue echoed."""
        return text.replace(self._token, "***") if self._token else text

    # ----- feed ------------------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the instrument list: no Joyride stream reports pause state."""
        await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()
