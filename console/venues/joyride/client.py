"""Joyride exchange admin kill switch: one target per option expiration.

Joyride (a 0DTE options exchange, daily rounds settling at 08:00 UTC) lets an admin
pause or resume every instrument of one expiration with one idempotent call,
``POST /v1/admin/instruments/pause-by-expiration {"expiration", "paused"}`` under
``Authorization: Bearer <ADMIN_TOKEN>``. Requests go to ``/v1/...`` relative to the
profile's ``base_url``, which includes ``/api``; the vendor's documented REST base,
``https://host/api/v1``, is taken too: a ``base_url`` whose path ends with ``/v1`` is used
without it (:func:`api_base`). A 404, on a call or on the list, says to check it.

Quirks handled here (and nowhere else):

* **No pause state to read back** (Project decision 4): targets are UNKNOWN with
  ``pause_source="unknown"`` until this process pauses/resumes one and gets a definite
  answer; then PAUSED/RUNNING with ``pause_source="set here"`` and ``set_at``. That is
  this client's memory, never a read: the dispatcher reports such a target halted by
  the venue's answer only, never verified (``CAPABILITIES.reports_pause_state``).
* **Counts, not states**: ``db_updated > 0`` is *applied*; ``db_updated == 0`` with
  ``engine_updated > 0`` is *applied* too: the database already had the flag and the
  engine is flipped now (:func:`~console.venues.joyride.outcomes.engine_caught_up`); all
  zeros are *already* (:func:`~console.venues.joyride.outcomes.already_from_zero_counts`,
  with the drift as a warning when ``engine_missing`` names instruments), unless the
  expiration matches no instrument at all, which is *rejected*
  (:meth:`JoyrideClient._nothing_matched_from_zero_counts`).
* **DB/engine drift**: ``engine_missing`` non-empty or ``engine_updated`` other than
  ``db_updated`` is still a success, carried as ``Outcome.warning`` and as the ``drift``
  attr on later reads (:func:`~console.venues.joyride.outcomes.drift_warning`).
* **Echo check**: a 200 whose ``expiration``/``paused`` do not echo the request is
  *uncertain* (:func:`~console.venues.joyride.outcomes.bad_echo`).
* **Timeouts and cut-short bodies**: never re-sent; *uncertain*, then the instrument list
  is re-read, which can only say whether the round still exists (pause state cannot be
  read), so the message says that re-issuing the idempotent call is safe and that its
  counts say what it changes then — 0 changed rows is the database, not the engine
  (:class:`~console.venues.kit.control.ControlStep`).
* **Wrong types**: a 200 answer is read strictly (the counts are JSON integers; a
  ``"5"`` is no count): its words name each missing field or wrong type
  (:func:`~console.venues.joyride.wire.pause_result_problem`), and it is *uncertain*.
* **Auth** ([GAP] body): 401/403 is *rejected* with advice to check ``admin_token``;
  the token never appears in any message, warning, feed error or log line: one
  :class:`~console.venues.kit.scrubber.VenueScrubber` over ``admin_token``, whatever the
  venue echoed.
* **Rate limits** ([GAP]): paced at 20 requests/s plus 50 ms of slack per window
  (``settings.rate_limits["admin"]`` overrides); a 429 was refused, so a pause goes
  again after ``Retry-After`` or a backoff for up to the cap
  (``console/venues/kit/refused.py``) — unless the venue asks for longer than
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
* **Expired rounds** (expiration <= now) are STOPPED, raw ``expired``, with no actions;
  ``execute`` sends nothing for one: a pause is *already* (its market takes no orders,
  which is what a pause is for: STOPPED satisfies it), a resume *rejected*.
* No pagination exists on the instrument list; no stream carries pause state, so the
  feed polls the list.

Target attrs produced (docs/ATTRIBUTES.md, :mod:`console.venues.joyride.mapping`):
``expiration``, ``instruments``, ``calls``, ``puts``, ``assets``, ``by_asset``,
``pause_source``, ``set_at``, ``drift``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from console.core.model import Action, ActionKind, ActionSpec, Outcome, OutcomeKind, Target
from console.core.ports import Capabilities, ControlRate
from console.core.scrub import printable, scrub_head
from console.venues.joyride.mapping import (
    ACTIONS,
    Knowledge,
    Rounds,
    actionable,
    count_list,
    expiration_name,
    group_targets,
    parse_expiration,
)
from console.venues.joyride.outcomes import (
    BASE_URL_HINT,
    MISSING_SHOWN,
    already_from_zero_counts,
    applied,
    bad_echo,
    drift_warning,
    engine_caught_up,
    expired,
    no_answer,
    not_waiting_words,
    nothing_matched,
    refused,
    settled,
    unreached,
    unsettled,
)
from console.venues.joyride.wire import (
    PauseResult,
    pause_result_problem,
    vendor_code,
    venue_words,
)
from console.venues.kit.base import FeedSink, RateLimit, VenueClient, VenueSettings
from console.venues.kit.control import ControlStep, guarded
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, poll_forever
from console.venues.kit.http import (
    CallError,
    Reply,
    UnsafeId,
    dumps,
    segment,
    send,
)
from console.venues.kit.http_client import Seam, make_http_client, use_scrubber
from console.venues.kit.pacing import make_pacer, retry_after_seconds, too_long
from console.venues.kit.refused import Refusals
from console.venues.kit.scrubber import VenueScrubber
from console.venues.kit.transient import transient_reply

log = logging.getLogger(__name__)

VENDOR = "Joyride"
INSTRUMENTS_PATH = "/v1/market/instruments"
PAUSE_PATH = "/v1/admin/instruments/pause-by-expiration"
# [GAP] Joyride documents no REST limit; this is our conservative choice.
ADMIN_RATE = RateLimit(20, 1.0)


# What core and the screen may know of Joyride: it cannot report pause state (its
# expirations read UNKNOWN, or what this client set), so a call is never verified, only
# halted by the venue's answer (docs/venues/joyride.md); admin calls paced.
CAPABILITIES = Capabilities(
    reports_pause_state=False,
    control_rate=ControlRate("admin", ADMIN_RATE.limit, ADMIN_RATE.window_s),
)


def api_base(base_url: str) -> str:
    """``base_url`` as the client's paths (``/v1/...``) expect it: ending in ``/api``.
    The vendor documents its REST base as ``https://joyride.exchange/api/v1``; a profile
    that copied it would send every call to ``/api/v1/v1/...`` (a 404 each), so a path
    ending with ``/v1`` (or ``/v1/``) loses that last ``/v1``. Anything else is kept."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        return base_url
    return urlunsplit(parts._replace(path=path[: -len("/v1")]))


class JoyrideClient(VenueClient):
    """Watches Joyride's rounds and pauses/resumes them through the admin kill switch."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def __init__(self, settings: VenueSettings, *, transport: Seam | None = None) -> None:
        super().__init__(settings)
        base = api_base(settings.base_url)
        if base != settings.base_url:  # (the URL itself is not logged: it may hold a login)
            log.info(
                "%s: base_url ends with /v1; its paths are sent below it without that /v1",
                settings.name,
            )
            settings = dataclasses.replace(settings, base_url=base)
        self._http = make_http_client(settings, transport=transport)
        rate = settings.rate_limits.get("admin", ADMIN_RATE)
        self._cap_s = settings.retry_after_cap_s
        self._pacer = make_pacer(
            rate, enabled=settings.pacing, scale=settings.rate_scale, cap_s=self._cap_s
        )
        self._retry_wait_s = rate.window_s * settings.rate_scale
        self._refusals = Refusals.of(settings, self._pacer)
        token = settings.credentials.get("admin_token")
        self._token = token.reveal() if token is not None else ""
        self.scrubber = VenueScrubber([self._token])
        use_scrubber(self._http, self.scrubber.scrub)  # before a network error is cut
        self._known: dict[int, Knowledge] = {}
        self._listed: dict[int, int] = {}  # expiration -> instruments at the last read
        # The list is one unpaginated body (tens of thousands of rows on a big venue) that
        # changes only when a round lists or settles: the same bytes are not parsed again.
        # Known by its digest, not kept: the body is 5.3 MB at ~12,000 targets (30,000
        # instruments), held for the whole session only to be compared; the digest costs
        # ~3 ms a read. None until a list was read whole (an empty first body is no list
        # to reuse).
        self._last_digest: bytes | None = None
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
        (it was ~300 ms with a model per row), a slice at a time (``count_list``)."""
        what = "reading Joyride's instrument list"
        self.skipped_rows = []
        reply = await self._get_list(what)
        # SHA-256: OpenSSL's, with the CPU's SHA instructions where it has them (12 ms for
        # the 22 MB list at ~50,000 targets against 24 for blake2b; collisions as unlikely).
        digest = hashlib.sha256(reply.content).digest()
        if digest == self._last_digest:
            self.skipped_rows = list(self._last_skipped)
            return self._last_rounds
        cap = self.settings.max_targets
        try:
            listing = await count_list(reply.content, cap, scrub=self.scrubber.scrub)
        except Unreadable as exc:
            raise Unreadable(
                self.scrubber.scrub(
                    f"{what}: Joyride answered HTTP {reply.status} with {exc}, not the "
                    "documented list of instruments; nothing can be said of its rounds"
                )
            ) from None
        skipped = [self.scrubber.scrub(printable(row)) for row in listing.skipped]
        self.skipped_rows = skipped
        if skipped:
            shown = "; ".join(skipped[:MISSING_SHOWN])
            log.warning(
                "%s",
                self.scrubber.scrub(
                    f"{self.name}: skipped {len(skipped)} unreadable instrument rows: {shown}"
                ),
            )
        rounds = listing.rounds
        if listing.truncated:
            raise Incomplete(
                self.scrubber.scrub(
                    f"{what}: Joyride listed {listing.total} instruments, more than "
                    f"max_targets ({cap}); only the first {cap} were read ({len(rounds)} "
                    "expirations). Pausing one of them pauses every instrument of it."
                ),
                partial=self._group(rounds),
            )
        self._listed = {expiration: r.instruments for expiration, r in rounds.items()}
        self._last_digest, self._last_rounds = digest, rounds
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
                raise FeedError(
                    self.scrubber.scrub(f"{what}: {exc.message}"), transient=exc.transient
                ) from None
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
                raise FeedError(
                    self.scrubber.scrub(f"{what}: {not_waiting_words(reply, self._cap_s)}")
                )
        if not reply.ok:
            hint = f"; {BASE_URL_HINT}" if reply.status == 404 else ""
            raise FeedError(
                self.scrubber.scrub(f"{what}: {venue_words(reply, self.scrubber.scrub)}{hint}"),
                transient=transient_reply(reply, self._cap_s),
            )
        return reply

    # ----- actions -----------------------------------------------------------------
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """Pause and resume on every live round: the true state is unknown, so both."""
        return list(ACTIONS) if actionable(target, self.clock()) else []

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        """Always re-issue the idempotent pause: Joyride cannot confirm a round is still paused."""
        return Action(ActionKind.PAUSE) if actionable(target, self.clock()) else None

    async def execute(self, target_id: str, action: Action) -> Outcome:
        """One pause or resume of a whole expiration; never raises, never shows the token."""

        def internal_error(exc: Exception) -> Outcome:
            return Outcome(
                OutcomeKind.UNCERTAIN,
                f"{action.kind} on Joyride expiration {self._shown(target_id)} hit an "
                f"internal error ({type(exc).__name__}); it may or may not have been "
                "sent. Pausing or resuming again is safe (the call is idempotent).",
            )

        return await guarded(
            self._execute(target_id, action), self.scrubber, internal_error=internal_error, log=log
        )

    def _shown(self, target_id: str) -> str:
        """An id for a message, at most 40 characters: scrubbed, then cut (cut first, a
        secret Joyride echoed across the 40th character would lose its end and no
        longer be recognised whole by the outcome's scrubbing)."""
        return scrub_head(printable(target_id), 40, self.scrubber.scrub)

    def _body(self, reply: Reply) -> str:
        """The start of an answer's body for a message, scrubbed, then cut."""
        return reply.text(120, scrub=self.scrubber.scrub)

    async def _execute(self, target_id: str, action: Action) -> Outcome:
        try:
            segment(target_id)
        except UnsafeId:
            return Outcome(
                OutcomeKind.FAILED,
                f"Joyride expiration id {self._shown(target_id)!r} cannot be sent safely "
                "(an empty or dot-segment id, which a proxy would resolve); nothing was sent. "
                "Pick a round from the list.",
            )
        expiration = parse_expiration(target_id)
        if expiration is None:
            return Outcome(
                OutcomeKind.REJECTED,
                f"{self._shown(target_id)!r} is not a Joyride expiration (expected Unix "
                "seconds such as 1740816000); pick a round from the list.",
            )
        paused = {ActionKind.PAUSE: True, ActionKind.RESUME: False}.get(action.kind)
        label = expiration_name(expiration)
        if paused is None:
            return Outcome(
                OutcomeKind.REJECTED,
                f"Joyride has no {action.kind} control for {label}: its admin kill switch "
                "only pauses or resumes a whole expiration. Use pause instead.",
            )
        if expiration <= self.clock():
            return expired(expiration, paused)
        body = dumps({"expiration": expiration, "paused": paused})
        step = self._step(expiration, paused)
        return await step.run(
            partial(self._post_control, body, paused),
            translate=partial(self._translate, step, expiration, paused),
            unreached=partial(unreached, expiration, paused),
            unanswered=lambda err: no_answer(expiration, paused, err.message, None, None).what,
        )

    def _step(self, expiration: int, paused: bool) -> ControlStep[int]:
        """The control step of one call: settled by re-reading the list."""
        return ControlStep(
            refusals=self._refusals,
            halting=paused,
            reread=partial(self._reread_round, expiration),
            judge=partial(settled, paused),
            reread_failed=partial(unsettled, paused),
            said=lambda reply: venue_words(reply, self.scrubber.scrub),
        )

    async def _reread_round(self, expiration: int) -> int:
        """No trustworthy answer: forget what we knew, re-read the list; the round's
        instruments now (the pause state itself cannot be read)."""
        self._known.pop(expiration, None)
        await self._fetch_rounds()
        return self._listed.get(expiration, 0)

    async def _post_control(self, body: bytes, halting: bool) -> Reply:
        """One paced POST (a 429 goes again in the ControlStep: kit/refused.py)."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return await send(
            self._http,
            "POST",
            PAUSE_PATH,
            content=body,
            headers=headers,
            timeout_s=self.settings.control_timeout_s,
            pacer=self._pacer,
            resend_on_stale=halting,  # a pause: docs/EMERGENCY.md, never a resume
        )

    async def _translate(
        self, step: ControlStep[int], expiration: int, paused: bool, reply: Reply
    ) -> Outcome:
        status, latency = reply.status, reply.latency_ms
        if not reply.ok:
            words = self.scrubber.scrub(venue_words(reply, self.scrubber.scrub))
            return refused(
                expiration,
                paused,
                reply,
                words,
                vendor_code(reply, self.scrubber.scrub),
                has_token=bool(self._token),
                cap_s=self._cap_s,
            )
        try:
            data = reply.json()
        except ValueError as exc:
            return await step.settle(no_answer(expiration, paused, str(exc), status, latency))
        try:
            result = PauseResult.model_validate(data)
        except ValidationError as exc:
            why = f"its 200 answer {pause_result_problem(exc)} ({self._body(reply)})"
            return await step.settle(no_answer(expiration, paused, why, status, latency))
        if result.expiration != expiration or result.paused != paused:
            why = bad_echo(expiration, paused, result)
            return await step.settle(no_answer(expiration, paused, why, status, latency))
        scrub = self.scrubber.scrub
        if result.db_updated == 0 and result.engine_updated > 0:
            outcome = engine_caught_up(expiration, paused, result, reply, scrub)
        elif result.db_updated == 0 and result.engine_missing:
            outcome = already_from_zero_counts(
                expiration, paused, reply, drift_warning(result, scrub)
            )
        elif result.db_updated == 0:
            return await self._nothing_matched_from_zero_counts(
                expiration, paused, reply
            ) or self._already_from_zero_counts(expiration, paused, reply)
        else:
            outcome = applied(expiration, paused, result, reply, scrub)
        self._remember(expiration, paused, outcome.warning)
        return outcome

    def _already_from_zero_counts(self, expiration: int, paused: bool, reply: Reply) -> Outcome:
        """All counts zero: already so; the drift last seen on the round is kept (zeros
        say nothing of the engine)."""
        previous = self._known.get(expiration)
        self._remember(expiration, paused, previous.drift if previous else None)
        return already_from_zero_counts(expiration, paused, reply)

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
        return nothing_matched(expiration, paused, reply)

    def _remember(self, expiration: int, paused: bool, drift: str | None) -> None:
        self._known[expiration] = Knowledge(paused=paused, at=time.time(), drift=drift)

    # ----- feed ------------------------------------------------------------------------
    async def run_feed(self, sink: FeedSink) -> None:
        """Poll the instrument list: no Joyride stream reports pause state."""
        await poll_forever(self.name, self.list_targets, sink, self.settings.poll_interval_s)

    async def aclose(self) -> None:
        await self._http.aclose()
