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
  the token never appears in any message, warning, feed error or log line: one
  :class:`~console.core.scrub.Scrubber` over ``admin_token`` (``_scrub``), whatever the
  venue echoed.
* **Rate limits** ([GAP]): paced at 20 requests/s plus 50 ms of slack per window
  (``settings.rate_limits["admin"]`` overrides); a 429 was refused, so it is retried once
  after ``Retry-After`` — unless the venue asks for longer than
  ``settings.retry_after_cap_s``: then the call is *failed* at once with the venue's wait
  in words (``not_waiting``) and a list read is a FeedError saying so. A list read's 429
  with a short wait is retried once too.
* **Hostile lists** (``read_instrument_list``): an empty body, ``{}``, ``null``, malformed
  JSON or a list of which no row is an instrument is :class:`Unreadable` (never "no
  rounds", the first read included); one row with an impossible value (expiration 10^12,
  an id ``.``) is skipped and named in ``skipped_rows``; a list of more instruments than
  ``settings.max_targets`` is :class:`Incomplete`, with the rounds of the rows read.
* **Ids**: an expiration travels in the request body, never in a path; still, an id that
  :func:`~console.venues.kit.http.segment` refuses (``.``, ``..``, empty) is *failed* unsent.
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
import traceback
from collections.abc import Callable

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
from console.core.ports import Capabilities, ControlRate
from console.core.scrub import Scrubber, printable, scrub_outcome
from console.venues.joyride.mapping import (
    Knowledge,
    Rounds,
    count_rounds,
    expiration_name,
    group_targets,
    parse_expiration,
)
from console.venues.joyride.wire import PauseResult, parse_error, read_instrument_list
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import (
    CallError,
    Reply,
    Seam,
    UnsafeId,
    dumps,
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

log = logging.getLogger(__name__)

VENDOR = "Joyride"
INSTRUMENTS_PATH = "/v1/market/instruments"
PAUSE_PATH = "/v1/admin/instruments/pause-by-expiration"
# [GAP] Joyride documents no REST limit; this is our conservative choice.
ADMIN_RATE = RateLimit(20, 1.0)
_MISSING_SHOWN = 5

_LEAVES_BEHIND = (
    "resting orders stay on the book (owners can still cancel them); open positions "
    "stay open until the round settles at 08:00 UTC"
)


# What core and the screen may know of Joyride: it cannot report pause state (its
# expirations read UNKNOWN), so a call is verified by its echo; admin calls paced.
CAPABILITIES = Capabilities(
    reports_pause_state=False,
    control_rate=ControlRate("admin", ADMIN_RATE.limit, ADMIN_RATE.window_s),
)


class JoyrideClient(VenueClient):
    """Watches Joyride's rounds and pauses/resumes them through the admin kill switch."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(
        self, settings: VenueSettings, *, transport: Seam | None = None
    ) -> None:
        super().__init__(settings)
        self._http = make_http_client(settings, transport=transport)
        rate = settings.rate_limits.get("admin", ADMIN_RATE)
        self._cap_s = settings.retry_after_cap_s
        self._pacer = make_pacer(
            rate, enabled=settings.pacing, scale=settings.rate_scale, cap_s=self._cap_s
        )
        self._retry_wait_s = rate.window_s * settings.rate_scale
        token = settings.credentials.get("admin_token")
        self._token = token.reveal() if token is not None else ""
        self._scrubber = Scrubber([self._token])
        self._known: dict[int, Knowledge] = {}
        self._listed: dict[int, int] = {}  # expiration -> instruments at the last read
        # The list is one unpaginated body (tens of thousands of rows on a big venue) that
        # changes only when a round lists or settles: the same bytes are not parsed again.
        # None until a list was read whole (an empty first body is no list to reuse).
        self._last_body: bytes | None = None
        self._last_rounds: Rounds = {}
        self._last_skipped: list[str] = []
        self.clock: Callable[[], float] = time.time

    # ----- reading -----------------------------------------------------------------
    async def list_targets(self) -> list[Target]:
        return self._group(await self._fetch_rounds())

    async def read_target(self, target_id: str) -> Target | None:
        expiration = parse_expiration(target_id)
        if expiration is None:
            return None
        try:
            targets = self._group(await self._fetch_rounds())
        except Incomplete as exc:
            found = next((t for t in exc.partial if t.id == str(expiration)), None)
            if found is None:
                raise
            return found
        return next((t for t in targets if t.id == str(expiration)), None)

    def _group(self, rounds: Rounds) -> list[Target]:
        return group_targets(self.name, rounds, self._known, now=self.clock())

    async def _fetch_rounds(self) -> Rounds:
        """The whole instrument list (no pagination exists), counted per expiration.

        Raises FeedError in plain words (Unreadable when the answer is not a list of
        instruments, Incomplete past ``max_targets`` instruments). Rows that cannot be
        read are named in ``skipped_rows``. A body identical to the last one is not
        parsed again; a new one is parsed and counted in ~100 ms at 30,000 instruments
        (it was ~300 ms with a model per row, all of it on the screen's loop)."""
        what = "reading Joyride's instrument list"
        self.skipped_rows = []
        reply = await self._get_list(what)
        if reply.content == self._last_body:
            self.skipped_rows = list(self._last_skipped)
            return self._last_rounds
        cap = self.settings.max_targets
        try:
            listing = read_instrument_list(reply.content, cap)
        except Unreadable as exc:
            raise Unreadable(
                self._scrub(
                    f"{what}: Joyride answered HTTP {reply.status} with {exc}, not the "
                    "documented list of instruments; nothing can be said of its rounds"
                )
            ) from None
        skipped = [self._scrub(printable(row)) for row in listing.skipped]
        self.skipped_rows = skipped
        if skipped:
            shown = "; ".join(skipped[:_MISSING_SHOWN])
            log.warning(
                "%s",
                self._scrub(
                    f"{self.name}: skipped {len(skipped)} unreadable instrument rows: {shown}"
                ),
            )
        rounds = count_rounds(listing.rows)
        if listing.truncated:
            raise Incomplete(
                self._scrub(
                    f"{what}: Joyride listed {listing.total} instruments, more than "
                    f"max_targets ({cap}); only the first {cap} were read ({len(rounds)} "
                    "expirations). Pausing one of them pauses every instrument of it."
                ),
                partial=self._group(rounds),
            )
        self._listed = {expiration: r.instruments for expiration, r in rounds.items()}
        self._last_body, self._last_rounds = reply.content, rounds
        self._last_skipped = skipped
        return rounds

    async def _get_list(self, what: str) -> Reply:
        """One GET of the list; a 429 with a wait within the cap is retried once after
        it, one asking for longer fails at once in the venue's words."""
        reply: Reply | None = None
        for attempt in range(2):
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
            if reply.status != 429 or attempt:
                break
            wait = retry_after_seconds(reply.headers)
            if too_long(wait, self._cap_s):
                break
            await asyncio.sleep(self._retry_wait_s if wait is None else wait)
        assert reply is not None
        if reply.status == 429:
            asked = retry_after_seconds(reply.headers)
            if too_long(asked, self._cap_s) or not reply.sent:
                raise FeedError(self._scrub(f"{what}: {self._not_waiting(reply)}"))
        if not reply.ok:
            raise FeedError(self._scrub(f"{what}: {self._venue_words(reply)}"))
        return reply

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
            return self._scrubbed(await self._execute(target_id, action))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # last line of defence: an outcome, never an exception
            log.error(
                "%s",
                self._scrub(
                    f"{self.name}: unexpected error executing {action.kind}\n"
                    f"{traceback.format_exc()}"
                ),
            )
            return Outcome(
                OutcomeKind.UNCERTAIN,
                self._scrub(
                    f"{action.kind} on Joyride expiration {printable(target_id)[:40]} hit an "
                    f"internal error ({type(exc).__name__}); it may or may not have been "
                    "sent. Pausing or resuming again is safe (the call is idempotent)."
                ),
            )

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        try:
            segment(target_id)
        except UnsafeId:
            return Outcome(
                OutcomeKind.FAILED,
                f"Joyride expiration id {printable(target_id)[:40]!r} cannot be sent safely "
                "(an empty or dot-segment id, which a proxy would resolve); nothing was sent. "
                "Pick a round from the list.",
            )
        expiration = parse_expiration(target_id)
        if expiration is None:
            return Outcome(
                OutcomeKind.REJECTED,
                f"{printable(target_id)[:40]!r} is not a Joyride expiration (expected Unix "
                "seconds such as "
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
        """One paced POST; a 429 was refused (not acted on), so it is retried once, after
        ``Retry-After`` — never when the venue asks for longer than the cap (then the
        429 is answered at once, ``_translate`` says the venue's wait)."""
        reply = await self._post_once(body)
        if reply.status != 429:
            return reply
        wait = retry_after_seconds(reply.headers)
        if too_long(wait, self._cap_s) or not reply.sent:
            return reply
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
            asked = retry_after_seconds(reply.headers)
            if too_long(asked, self._cap_s) or not reply.sent:
                return Outcome(
                    OutcomeKind.FAILED,
                    self._scrub(f"{label} not {verb}d: {self._not_waiting(reply)}"),
                    http_status=status,
                    latency_ms=latency,
                    vendor_code=self._vendor_code(reply),
                )
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
            shown = ", ".join(printable(m)[:80] for m in missing[:_MISSING_SHOWN])
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
        """``HTTP 503 service_unavailable: 'the venue's message'`` (or its raw text),
        control characters removed; scrubbed by the caller."""
        err = parse_error(reply.json_or_none())
        if err is not None and (err.error or err.message):
            code = f" {printable(err.error)[:80]}" if err.error else ""
            said = f": {printable(err.message)[:300]!r}" if err.message else ""
            return f"HTTP {reply.status}{code}{said}"
        text = printable(reply.text(160))
        return f"HTTP {reply.status}" + (f": {text!r}" if text else "")

    def _not_waiting(self, reply: Reply) -> str:
        """A 429 not waited for: the venue asked for longer than the cap (or a moment ago
        did, and the pacer answered for it without sending)."""
        asked = retry_after_seconds(reply.headers)
        if too_long(asked, self._cap_s):
            assert asked is not None
            return not_waiting(VENDOR, asked, self._cap_s)
        left = f" (another {wait_words(asked)})" if asked else ""
        return (
            f"{VENDOR} asked a moment ago to wait longer than {self._cap_s:g} s{left} "
            "(rate limited): nothing was sent — retry later (r in the kill report)"
        )

    @staticmethod
    def _vendor_code(reply: Reply) -> str | None:
        err = parse_error(reply.json_or_none())
        if err is None or err.error is None:
            return None
        return printable(err.error)[:80]

    def _scrub(self, text: str) -> str:
        """Text never carries the admin token (or anything credential-shaped), whatever
        the venue echoed: one Scrubber over ``admin_token``."""
        return self._scrubber.scrub(text)

    def _scrubbed(self, outcome: Outcome) -> Outcome:
        """Every outcome's message and warning through the scrubber (rebuilt only when
        that changed something)."""
        return scrub_outcome(outcome, self._scrub)

    # ----- feed ------------------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the instrument list: no Joyride stream reports pause state."""
        await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()
