"""The control step every venue takes: send → settle by re-reading → one Outcome.

A control call (pause, stop, resume, start) ends in one of three ways, the same for
every vendor; only the words and the vendor's rules differ:

* **an answer** (any HTTP status) → the vendor's ``translate(reply)``. Where an answer
  is there but not usable (a malformed 200, an echo of something else), ``translate``
  settles it itself: ``await step.settle(NoAnswer(...))``;
* **an answer that is not the venue's word on the call** — a redirect (3xx, never
  followed: a control call goes to the configured address only), a gateway's 502 /
  504 (whatever sits between may have passed the call on before it gave up) or any
  other 5xx but 501 and 503, which say the request was not processed (the venue failed
  while handling it: Joyride writes its database, then its engine; 55-tech's 502 is a
  "partial failure") — is settled like no answer, before
  ``translate`` sees it (:func:`unclear_answer`): the call may have landed (a 303 is
  what a server answers *after* acting on a POST), so neither "failed" nor "refused"
  would be known to be true; an answer naming another target than the one asked about
  (:func:`about_another`) is no answer either;
* **no answer, and the request surely never left** (``CallError.maybe_sent`` False) →
  the vendor's ``unreached(err)``: FAILED, nothing sent;
* **no answer, and it may have landed** (a timeout after sending, a cut connection) →
  not re-sent blindly. :meth:`ControlStep.settle` re-reads the target and the vendor's
  ``judge(no_answer, seen)`` says what the re-read shows (APPLIED when it shows the
  asked state, ALREADY where the vendor can tell, else UNCERTAIN); when the re-read
  fails too, ``reread_failed(no_answer, why)`` says so (UNCERTAIN). A **halting** call
  (``halting=True``: a stop, a pause) left UNCERTAIN by a re-read that shows the target
  still RUNNING is sent **once more** and that answer is the outcome, the first's words
  kept: a stop or a pause sent twice is harmless (the second finds it done: ALREADY, then
  read as APPLIED — the first did it, a late read hid it), and an emergency stop left
  running because a gateway said 502 is not (an independent x3algo behind a 502,
  session 18, left the operator to press ``r``). Never a start or a resume.

One exception is made below, in ``send`` itself, for a halting call whose caller opts
in (``resend_on_stale=True``: stop, pause): when its connection broke before any byte of
an answer — a kept-alive connection the venue closed as the request went — it is sent
once more on a fresh connection (``console/venues/kit/stale.py``). The second answer is
translated as usual (APPLIED, ALREADY …) and :meth:`ControlStep.run` adds to the outcome
that it was sent again, so the journal records that two requests left — an ALREADY then
is APPLIED: the first request most likely landed before its connection broke (an
independent PipAI that paused, then cut the connection, was journaled *already*, missing
from ``audit --outcome applied``); when the second
gets no answer either, the ``CallError``'s words say it was sent twice and the call is
settled by a re-read as above.

Around the step, :func:`guarded` turns a bug into an UNCERTAIN outcome (a control call
never raises) and passes the outcome through the venue's :class:`VenueScrubber`.

How a venue uses it (one ControlStep per call, since judging needs the call's context)::

    async def execute(self, target_id, action):
        return await guarded(self._execute(target_id, action), self.scrubber,
                             internal_error=lambda exc: Outcome(UNCERTAIN, ...), log=log)

    async def _execute(self, target_id, action):
        step = ControlStep(
            refusals=self.refusals,                      # Refusals.of(settings, pacer)
            reread=lambda: self.read_target(target_id),        # raises FeedError, or not
            judge=partial(settled, target_id, action),          # (NoAnswer, seen) -> Outcome
            reread_failed=partial(unsettled, target_id, action),  # (NoAnswer, why) -> Outcome
        )
        return await step.run(
            lambda: send(self._http, "POST", path, ...),
            translate=lambda reply: self._translate(step, target_id, action, reply),
            unreached=lambda err: Outcome(FAILED, f"... {err.message}; nothing was sent"),
            unanswered=lambda err: f"No answer from <vendor> to ... ({err.message})",
        )

``judge`` and ``reread_failed`` are pure functions of the vendor's words; they live in
the vendor's ``outcomes.py``. Build each Outcome with :meth:`NoAnswer.outcome`, which
carries the call's HTTP status and latency. ``errors`` widens what a failed re-read
may raise (x3algo's re-read may raise ``CallError`` too).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, NamedTuple, TypeVar

from console.core.model import Outcome, OutcomeKind, State
from console.core.ports import FeedError
from console.core.scrub import printable
from console.core.turns import may_have_landed
from console.venues.kit.http import CallError, Reply
from console.venues.kit.refused import Refusals, tries_words
from console.venues.kit.scrubber import VenueScrubber
from console.venues.kit.shape import html_words

Seen = TypeVar("Seen")

__all__ = ["ControlStep", "NoAnswer", "about_another", "guarded", "unclear_answer"]

_GATEWAY = {502: "bad gateway", 504: "gateway timeout"}
# 501 Not Implemented and 503 Service Unavailable say the request was not processed
# (RFC 9110 §15.6.2, §15.6.4): a venue's answer, failed, not settled by a re-read.
_NOT_PROCESSED = frozenset({501, 503})


def about_another(answered: str | None, asked: str) -> str | None:
    """Words when a control answer names a target other than the one asked about (a
    cache or proxy that mixed answers up, a venue's bug), else None. Such an answer says
    nothing of the target asked about: the call is settled by re-reading it, as Joyride's
    echo of another expiration already was (its answer was read as ours before)."""
    if answered is None or answered == asked:
        return None
    return f"an answer about another target (id {_short_id(answered)}, not {_short_id(asked)})"


def _short_id(value: str) -> str:
    """An id for a message: quoted when short, else only its length (cut, a secret a
    venue put in it would no longer be recognised whole by the scrubber)."""
    return repr(printable(value)) if len(value) <= 40 else f"of {len(value)} characters"


def said_words(said: str) -> str:
    """What a venue's 5xx body said, for an outcome: its words quoted (cut), or, for an
    error page of a proxy in front of it, that page's title or text (an nginx 502 page
    quoted raw was 200 characters of markup; :func:`~console.venues.kit.shape.html_words`,
    which :meth:`Reply.text <console.venues.kit.http.Reply.text>` applied already when
    the venue's words are the body)."""
    page = html_words(said)
    if page is not None or said.startswith("an HTML page"):
        return f"its body was {page or said}"
    return f"it said {printable(said)[:200]!r}"


class _Reading(NamedTuple):
    """How a venue reads the answers of one call (:meth:`ControlStep.run`'s arguments)."""

    translate: Callable[[Reply], Awaitable[Outcome]]
    unreached: Callable[[CallError], Outcome]
    unanswered: Callable[[CallError], str]


def _done_by_the_first(second: Outcome, words: str) -> Outcome:
    """A second request's ALREADY, when the first may have landed: APPLIED, saying why."""
    return replace(second, kind=OutcomeKind.APPLIED, message=f"{second.message} — {words}")


def _cut(words: str, limit: int = 300) -> str:
    """A first request's words inside a second's outcome: at most ``limit`` characters
    (they were scrubbed as an outcome already: ``guarded`` scrubs the whole message)."""
    return words if len(words) <= limit else words[: limit - 1] + "…"


def unclear_answer(status: int) -> str | None:
    """Why an answer with this HTTP status says nothing of whether the call landed (words
    for :class:`NoAnswer`), or None when it is the venue's own answer to read.

    A redirect is never followed (the Location is not quoted: it may carry a token), a
    gateway's 502 or 504 came from whatever sits in front of the venue, and any other 5xx
    is the venue failing mid-way: in each case the call may have been carried out
    (module docstring). Its words are not lost: a re-read decides, and says what it
    shows."""
    if 300 <= status < 400:
        return (
            f"HTTP {status}, a redirect, not followed: a control call goes to the profile's "
            f"base URL only"
        )
    if status in _GATEWAY:
        return f"HTTP {status} ({_GATEWAY[status]}): the call may have reached it"
    if 500 <= status < 600 and status not in _NOT_PROCESSED:
        return f"HTTP {status}, an error of the venue's own: it may have acted before it failed"
    return None


@dataclass(frozen=True, slots=True)
class NoAnswer:
    """A control call without a usable answer: the words saying so (``what``: "No answer
    from 55-tech to stop engine 'x' (timed out)"), and what HTTP saw of it."""

    what: str
    http_status: int | None = None
    latency_ms: float | None = None

    def outcome(
        self,
        kind: OutcomeKind,
        message: str,
        *,
        state_after: State | None = None,
        warning: str | None = None,
        leaves: State | None = None,
        vendor_code: str | None = None,
    ) -> Outcome:
        """An Outcome of this call (its HTTP status and latency carried over)."""
        return Outcome(
            kind,
            message,
            http_status=self.http_status,
            latency_ms=self.latency_ms,
            state_after=state_after,
            warning=warning,
            leaves=leaves,
            vendor_code=vendor_code,
        )


class ControlStep(Generic[Seen]):
    """One control call of one venue: send it, settle it by re-reading when there was no
    usable answer, and translate what came back into an Outcome (module docstring)."""

    def __init__(
        self,
        *,
        reread: Callable[[], Awaitable[Seen]],
        judge: Callable[[NoAnswer, Seen], Outcome],
        reread_failed: Callable[[NoAnswer, str], Outcome],
        refusals: Refusals | None,
        errors: tuple[type[Exception], ...] = (FeedError,),
        said: Callable[[Reply], str] | None = None,
        halting: bool = False,
    ) -> None:
        self._refusals = refusals  # a 429 goes again (kit/refused.py); None: sent once
        self._halting = halting  # a stop or a pause: sent again once when found running
        self._settled = False  # the last attempt was settled by a re-read
        self._reread = reread
        self._judge = judge
        self._reread_failed = reread_failed
        self._errors = errors
        self._said = said  # the venue's own words in an answer, scrubbed (a 5xx's)

    async def run(
        self,
        send: Callable[[], Awaitable[Reply]],
        *,
        translate: Callable[[Reply], Awaitable[Outcome]],
        unreached: Callable[[CallError], Outcome],
        unanswered: Callable[[CallError], str],
    ) -> Outcome:
        """Send, and again while the venue refuses it with 429 (``refusals``,
        ``console/venues/kit/refused.py``; the outcome then says how often). A halting
        call whose answer was no usable answer and whose re-read shows the target still
        RUNNING is sent once more (module docstring); nothing else is re-sent here (a
        halting call's second request after a stale connection lives inside ``send``,
        and the outcome names it)."""
        reading = _Reading(translate, unreached, unanswered)
        outcome = await self._attempt(send, reading)
        if not (
            self._halting
            and self._settled
            and outcome.kind is OutcomeKind.UNCERTAIN
            and outcome.state_after is State.RUNNING
        ):
            return outcome
        again = await self._attempt(send, reading)
        if self._settled and again.kind is OutcomeKind.UNCERTAIN:  # the same once more
            return replace(
                again,
                message=f"{again.message} (its second request: the first, too, had no "
                "usable answer, and a re-read showed it still running)",
            )
        first = _cut(outcome.message)  # the first request's words, kept for the journal
        if again.kind is OutcomeKind.ALREADY:  # found done: the first did it after all
            return _done_by_the_first(again, "sent again, it was found done: the first "
                                      "request most likely did it though a re-read showed "
                                      f"it running ({first})")  # fmt: skip
        return replace(
            again,
            message=f"{again.message} — sent again: the first request had no usable answer "
            f"and a re-read showed it still running ({first})",
        )

    async def _attempt(self, send: Callable[[], Awaitable[Reply]], reading: _Reading) -> Outcome:
        """One request (and its 429s), read into an Outcome."""
        translate, unreached, unanswered = reading
        self._settled = False
        tries, refused_s = 1, 0.0
        try:
            reply = await send()
            if reply.status == 429 and self._refusals is not None:
                reply, tries, refused_s = await self._refusals.again(send, reply)
        except CallError as err:
            if not err.maybe_sent:
                return unreached(err)
            return await self.settle(NoAnswer(unanswered(err), None, err.latency_ms))
        unclear = unclear_answer(reply.status)
        if unclear is not None:
            said = self._said(reply) if self._said is not None and reply.status >= 500 else ""
            if said:
                unclear += f"; {said_words(said)}"
            words = unanswered(CallError("protocol", unclear, maybe_sent=True))
            outcome = await self.settle(NoAnswer(words, reply.status, reply.latency_ms))
        else:
            outcome = await translate(reply)
        if reply.resent and outcome.kind is OutcomeKind.ALREADY:
            # The target was not so when the call left (it was planned from a read), so
            # the first request, which broke before any answer, most likely did it.
            outcome = _done_by_the_first(outcome, "the second request found it done: the "
                                         "first, whose connection broke before any answer, "
                                         f"most likely did it ({reply.resent})")  # fmt: skip
        elif reply.resent:
            outcome = replace(outcome, message=f"{outcome.message} ({reply.resent})")
        if tries > 1:
            words = tries_words(tries, refused_s, last_refused=reply.status == 429)
            outcome = replace(outcome, message=f"{outcome.message} ({words})")
        return outcome

    async def settle(self, no_answer: NoAnswer) -> Outcome:
        """No usable answer: re-read the target and say what it shows."""
        self._settled = True
        may_have_landed()
        try:
            seen = await self._reread()
        except self._errors as exc:
            return self._reread_failed(no_answer, str(exc) or "no answer")
        return self._judge(no_answer, seen)


async def guarded(
    control: Awaitable[Outcome],
    scrubber: VenueScrubber,
    *,
    internal_error: Callable[[Exception], Outcome],
    log: logging.Logger,
) -> Outcome:
    """``control``'s Outcome, scrubbed; a bug in it becomes ``internal_error(exc)``
    (UNCERTAIN: it may or may not have been sent), logged with a scrubbed traceback.
    Cancellation passes through."""
    try:
        outcome = await control
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a control call ends as an outcome, never an exception
        log.error("%s", scrubber.scrub("control call failed:\n" + traceback.format_exc()))
        outcome = internal_error(exc)
    return scrubber.outcome(outcome)
