"""Pure translations of x3algo answers into Outcomes and words (no I/O, no re-reads).

The quirk handlers that need a re-read live on the client; these only read what they are
given: the 400 and 403 rejections of a start, the failures (429, 401, 5xx), a failed
read in words, what a re-read shows after a 422 (:func:`from_422`), and what it shows
after no usable answer (:func:`settled`, :func:`unsettled`, for
:class:`~console.venues.kit.control.ControlStep`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target
from console.core.scrub import Scrub, cut_scrubbed, printable
from console.venues.kit.control import NoAnswer
from console.venues.kit.http import Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long
from console.venues.x3algo.wire import ErrorEnvelope

_TEXT_CHARS = 500


def short_text(value: object, scrub: Scrub | None, limit: int = _TEXT_CHARS) -> str:
    """A venue's free-form value as short text, whatever it nested in it: a list nested
    hundreds deep or an integer of 5,000 digits must not raise, nor fill a message.

    ``scrub`` (the venue's scrubber) sees the text before it is cut (up to
    ``SCRUB_MARGIN`` past the cut): cut first, a credential the venue echoed across the
    cut would no longer be recognised whole. None only where no scrubber ever sees the
    text (a target's attrs)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except (RecursionError, ValueError):
            return f"({type(value).__name__} too large to show)"
    if scrub is not None:
        return cut_scrubbed(text, limit, scrub)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rejected_incomplete_config(
    what: str, code: str, message: str, details: dict[str, Any], latency: float, scrub: Scrub
) -> Outcome:
    """Start of a draft: 400 VALIDATION_ERROR with ``details.missingFields``."""
    missing = details.get("missingFields")
    listed = (
        ", ".join(short_text(f, scrub, 80) for f in missing[:20])
        if isinstance(missing, list)
        else ""
    )
    extra = f" Missing: {listed}." if listed else ""
    return Outcome(
        OutcomeKind.REJECTED,
        f"x3algo would not start {what}: {message!r}.{extra} Complete its configuration "
        f"in x3algo, then start it again.",
        http_status=400,
        latency_ms=latency,
        vendor_code=code or "VALIDATION_ERROR",
    )


def rejected_bad_request(what: str, verb: str, code: str, message: str, latency: float) -> Outcome:
    """A 400 to anything but a start (a stop, a pause): x3algo refused the call as asked.
    Not "complete its configuration" (a draft's start words): the algorithm may still be
    running, and the operator must stop it in x3algo itself."""
    status = f"HTTP 400 {code}".strip()  # (no code: no blank before the bracket)
    return Outcome(
        OutcomeKind.REJECTED,
        f"x3algo refused the {verb} of {what} ({status}): {message!r}. It was not "
        f"carried out as far as the console knows, so {what} may still be running: "
        f"{verb} it in x3algo itself.".replace("  ", " "),
        http_status=400,
        latency_ms=latency,
        vendor_code=code or None,
    )


def rejected_forbidden(
    what: str,
    verb: str,
    code: str,
    message: str,
    details: dict[str, Any],
    latency: float,
    scrub: Scrub,
) -> Outcome:
    """403 FORBIDDEN: the daily loss limit on start, or an algorithm not ours."""
    if "dailyLoss" in details or "limit" in details:
        hint = (
            f" Daily loss {short_text(details.get('dailyLoss'), scrub, 40)} has reached the limit "
            f"{short_text(details.get('limit'), scrub, 40)}; it can start again after the daily "
            f"reset or with a higher limit."
        )
    else:
        hint = " This account may not control it."
    return Outcome(
        OutcomeKind.REJECTED,
        f"x3algo would not {verb} {what}: {message!r}.{hint}",
        http_status=403,
        latency_ms=latency,
        vendor_code=code or "FORBIDDEN",
    )


def failed(what: str, verb: str, reply: Reply, code: str, message: str, cap_s: float) -> Outcome:
    """No change happened as far as we know: 429 after its retries (or at once when
    x3algo asks to wait longer than ``cap_s``), 401 after the one renewal, 5xx, or a
    status x3algo does not document for this call."""
    status = reply.status
    told = retry_after_seconds(reply.headers)
    if status == 429 and told is not None and too_long(told, cap_s):
        text = f"Could not {verb} {what}: {not_waiting('x3algo', told, cap_s)} ({message!r})."
    elif status == 429:
        after = reply.headers.get("retry-after", "?")
        text = (
            f"x3algo rate limited the {verb} of {what}: {message!r} (retry after {after} s). "
            f"It was not carried out; retry in a moment."
        )
    elif status == 401:
        text = (
            f"x3algo refused this console's token for the {verb} of {what}: {message!r} "
            f"({code}), even after a renewal. Nothing was done; check the account."
        )
    elif status >= 500:
        text = (
            f"x3algo failed to {verb} {what}: HTTP {status} {code} {message!r}. Nothing "
            f"changed as far as we know; retry, or check x3algo's status."
        )
    else:
        text = f"x3algo answered the {verb} of {what} with HTTP {status} {code} {message!r}."
    return Outcome(
        OutcomeKind.FAILED,
        text.replace("  ", " "),
        http_status=status,
        latency_ms=reply.latency_ms,
        vendor_code=code or None,
    )


def asked_state(action: Action) -> State:
    return State.STOPPED if action.kind is ActionKind.STOP else State.RUNNING


def vendor_error(reply: Reply, scrub: Scrub) -> tuple[str, str]:
    """x3algo's (code, message) from an error envelope, or what the body says instead
    (scrubbed, then cut: :meth:`~console.venues.kit.http.Reply.text`)."""
    try:
        env = ErrorEnvelope.model_validate(reply.json())
    except (ValueError, ValidationError):
        return ("", reply.text(120, scrub=scrub) or f"HTTP {reply.status}")
    return (env.error.code, env.error.message)


def read_failure(reply: Reply, what: str, cap_s: float, scrub: Scrub) -> str:
    """A read x3algo answered with an error, in words (scrubbed where they are cut; the
    caller scrubs the whole)."""
    code, message = vendor_error(reply, scrub)
    hint = {
        401: "the login no longer works; check the account in the profile",
        403: "this account may not see it",
        429: "x3algo's rate limit; later reads are paced slower",
    }.get(reply.status, "x3algo is in trouble")
    if reply.status >= 500:  # (no "the console keeps retrying": a kill's read gives up)
        hint = "x3algo's server failed"
    told = retry_after_seconds(reply.headers)
    if reply.status == 429 and too_long(told, cap_s):
        assert told is not None
        hint = not_waiting("x3algo", told, cap_s)
    text = f"x3algo could not give {what}: HTTP {reply.status} {code} {message!r} ({hint})"
    return printable(text.replace("  ", " "))


def unsafe_id(target_id: str, verb: str) -> str:
    return (
        f"Could not {verb} algorithm {target_id!r}: its id cannot be sent safely as part "
        f"of a URL (a proxy may resolve '.' and '..' to another path). Nothing was sent; "
        f"check this algorithm in x3algo itself."
    )


# ----- what a re-read shows ---------------------------------------------------------------
def from_422(
    what: str,
    verb: str,
    message: str,
    latency: float,
    wanted: State,
    hint: str,
    now: Target | None,
    problem: str,
) -> Outcome:
    """A 422 is *already* when a re-read shows the asked state, else a refusal."""
    if now is not None and now.state is wanted:
        return Outcome(
            OutcomeKind.ALREADY,
            f"{what} was already {now.raw_status} (x3algo: {message!r}).",
            http_status=422,
            latency_ms=latency,
            state_after=wanted,
            vendor_code="UNPROCESSABLE_ENTITY",
        )
    if now is not None and _contradicts_422(wanted, now.state):
        # "Not active" while a read shows it active (or "already active" while it shows
        # stopped): one of the two is behind — a cached list, a replica. Uncertain, so a
        # kill reads it again (core/settle.py) instead of calling a done stop refused.
        return Outcome(
            OutcomeKind.UNCERTAIN,
            f"x3algo answered the {verb} of {what} with {message!r}, but a re-read shows it "
            f"{now.raw_status}: one of the two is behind. Read it again before "
            f"retrying.",
            http_status=422,
            latency_ms=latency,
            state_after=now.state,
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


def _contradicts_422(wanted: State, seen: State) -> bool:
    """What a 422 claims (a stop's "not active", a start's "already active") and what
    a re-read shows cannot both be current — or the re-read cannot say (UNKNOWN: a
    status word and an ``active`` flag that disagree)."""
    if wanted is State.STOPPED:
        return seen in (State.RUNNING, State.PAUSED, State.UNKNOWN)
    return wanted is State.RUNNING and seen in (State.STOPPED, State.UNKNOWN)


def settled(action: Action, no_answer: NoAnswer, now: Target | None) -> Outcome:
    """No usable answer, then a re-read: *applied* when it shows the asked state (never
    re-sent), else *uncertain*."""
    if now is None:
        return unsettled(no_answer, "x3algo no longer knows it")
    reason = no_answer.what
    if now.state is asked_state(action):
        return no_answer.outcome(
            OutcomeKind.APPLIED,
            f"{reason}; a re-read shows it {now.raw_status}, as asked (not re-sent).",
            state_after=now.state,
            warning=reason,
        )
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{reason}; it may or may not have happened, and a re-read shows it "
        f"{now.raw_status}. Check the algorithm before retrying.",
        state_after=now.state,
    )


def unsettled(no_answer: NoAnswer, problem: str) -> Outcome:
    """No usable answer, and the re-read failed too: *uncertain*."""
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{no_answer.what}; it may or may not have happened, and the re-read failed too: "
        f"{problem}. Check the algorithm before retrying.",
    )


def error_details(reply: Reply) -> dict[str, Any]:
    try:
        return ErrorEnvelope.model_validate(reply.json()).error.details or {}
    except (ValueError, ValidationError):
        return {}


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
