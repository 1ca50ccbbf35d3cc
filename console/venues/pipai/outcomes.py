"""PipAI's answers as Outcomes, in plain words: what happened, to what, what to do next.

PipAI's own ``code`` and ``message`` are quoted as sent; the hints name the profile
field or the venue-side step that fixes the cause. Pure functions (no I/O): the client
re-reads where a rule needs it and hands the result in — after a 409
(:func:`already_paused`, :func:`already_deployed`) and after no usable answer
(:func:`settled`, :func:`unsettled`, for :class:`~console.venues.kit.control.ControlStep`).
"""

from __future__ import annotations

from pydantic import ValidationError

from console.core.model import ActionKind, Outcome, OutcomeKind, State, Target
from console.core.scrub import Scrub
from console.venues.kit.control import NoAnswer
from console.venues.kit.http import CallError, Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long
from console.venues.pipai.mapping import state_for
from console.venues.pipai.wire import ErrorBody, Strategy

_HINTS = {
    "INVALID_SIGNATURE": "Check api_key and api_secret in the profile, and that this "
    "machine's clock is right (PipAI refuses stale timestamps; its REST window is not "
    "documented — its webhooks allow 5 minutes)",
    "KEY_EXPIRED": "The API key is no longer active; create or rotate a key in PipAI and "
    "update the profile",
    "INSUFFICIENT_PERMISSION": "The API key lacks the 'trade' permission; use a key with "
    "trade scope",
    "NOT_FOUND": "The strategy does not exist or is not owned by this API key",
    "INVALID_PARAMETER": "PipAI refused a parameter; nothing changed",
}
_STATUS_HINTS = {
    401: _HINTS["INVALID_SIGNATURE"],
    404: _HINTS["NOT_FOUND"],
    429: "Rate limited; another client may be sharing this API key",
}


def _error_body(reply: Reply) -> ErrorBody | None:
    data = reply.json_or_none()
    if not isinstance(data, dict):
        return None
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return None


def error_code(reply: Reply) -> str | None:
    body = _error_body(reply)
    return body.code if body is not None else None


def code_words(code: str | None, message: str | None) -> str:
    """PipAI's ``code: "message"``; the code alone when no message came (null or empty:
    never ``"None"`` nor ``""``), ``?: "message"`` without a code, ``""`` without both."""
    if not message:
        return code or ""
    return f'{code or "?"}: "{message}"'


def vendor_words(reply: Reply, scrub: Scrub) -> str:
    """PipAI's own ``code: "message"`` (:func:`code_words`), or the start of whatever
    body came back (scrubbed whole, then cut: :meth:`~console.venues.kit.http.Reply.text`)."""
    body = _error_body(reply)
    if body is not None and (body.code or body.message):
        return code_words(body.code, body.message)
    text = reply.text(120, scrub=scrub)
    if reply.unread:  # (a body too large to read: said so, not quoted as its words)
        return text
    return f'"{text}"' if text else "(empty body)"


def not_offered(target_id: str, kind: ActionKind) -> Outcome:
    if kind is ActionKind.STOP:
        message = (
            f"PipAI has no stop endpoint, so {target_id} was not touched; use pause with "
            "'close open positions' (the strongest control PipAI documents)"
        )
    else:
        message = (
            f"PipAI cannot {kind} {target_id} from the console: a paused strategy is resumed "
            "with resume, and a draft is deployed in PipAI itself"
        )
    return Outcome(OutcomeKind.REJECTED, message)


def http_error(reply: Reply, doing: str, scrub: Scrub) -> str:
    """What PipAI said, to what, and what the operator can do next."""
    code = error_code(reply)
    hint = _HINTS.get(code or "", "") or _STATUS_HINTS.get(reply.status, "")
    if not hint and reply.status >= 500:
        hint = "PipAI had a server error; nothing is known to have changed; try again shortly"
    return f"PipAI answered HTTP {reply.status} {vendor_words(reply, scrub)} when {doing}." + (
        f" {hint}." if hint else ""
    )


def read_error(reply: Reply, doing: str, cap_s: float, scrub: Scrub) -> str:
    """An error answer to a read, in words: a 429 asking to wait beyond ``cap_s`` says
    it is not waited for (a shorter one was waited for once, already)."""
    wait = retry_after_seconds(reply.headers)
    if reply.status == 429 and too_long(wait, cap_s):
        assert wait is not None
        return f"PipAI answered HTTP 429 {vendor_words(reply, scrub)} when {doing}: " + not_waiting(
            "PipAI", wait, cap_s
        )
    return http_error(reply, doing, scrub)


def unreached(target_id: str, verb: str, err: CallError) -> Outcome:
    """The control call surely never left: *failed*, nothing changed."""
    return Outcome(
        OutcomeKind.FAILED,
        f"Could not {verb} {target_id}: {err.message}; the request never reached "
        "PipAI, so nothing changed. Check the network or base_url and try again.",
        latency_ms=err.latency_ms,
    )


def refused(
    target_id: str,
    verb: str,
    reply: Reply,
    scrub: Scrub,
    current: Target | None = None,
    problem: str = "",
) -> Outcome:
    """An error answer to a control call (a 5xx *failed*, the rest *rejected*), with what
    a re-read showed when there was one."""
    kind = OutcomeKind.FAILED if reply.status >= 500 else OutcomeKind.REJECTED
    message = http_error(reply, f"asked to {verb} {target_id}", scrub)
    if current is not None:
        message += f" A re-read shows it {current.raw_status}."
    elif problem:
        message += f" Re-reading it failed: {problem}."
    return answered(kind, message, reply, current.state if current is not None else None)


def rate_limited(target_id: str, verb: str, reply: Reply, cap_s: float, scrub: Scrub) -> Outcome:
    """A 429 to a control call after its retries (or at once, when PipAI asks to
    wait longer than ``cap_s``): *failed*, nothing changed."""
    wait = retry_after_seconds(reply.headers)
    if wait is not None and too_long(wait, cap_s):
        return Outcome(
            OutcomeKind.FAILED,
            f"Could not {verb} {target_id}: PipAI answered 429 {vendor_words(reply, scrub)}. "
            + not_waiting("PipAI", wait, cap_s),
            http_status=429,
            latency_ms=reply.latency_ms,
            vendor_code=error_code(reply),
        )
    after = f" PipAI asks to wait {wait:g} s." if wait is not None else ""
    return Outcome(
        OutcomeKind.FAILED,
        f"Could not {verb} {target_id}: rate limited (PipAI answered 429 "
        f"{vendor_words(reply, scrub)}); nothing changed.{after} "
        "Another client may be using this API key; try again shortly.",
        http_status=429,
        latency_ms=reply.latency_ms,
        vendor_code=error_code(reply),
    )


def applied(target_id: str, verb: str, reply: Reply, strategy: Strategy, close: bool) -> Outcome:
    """The strategy PipAI answered with, after a pause or a resume: *applied*, with a
    warning when it does not show the asked state or still holds positions it closed.
    (Read from the answer as its Target would show it — name, state, raw status, open
    positions — without building one: a kill reads hundreds.)"""
    wanted = State.PAUSED if verb == "pause" else State.RUNNING
    stats = strategy.stats
    held = stats.open_positions if stats is not None else None
    state, name = state_for(strategy.status), strategy.name or strategy.id
    done = "Paused" if verb == "pause" else "Resumed"
    if verb == "pause" and close:
        tail = "its open positions were closed at market first"
    elif verb == "pause":
        tail = f"{held if isinstance(held, int) else 'its'} open position(s) stay open"
    else:
        tail = "it takes new entries again"
    warning = None
    if state is not wanted:
        warning = f"PipAI reports status {strategy.status!r} after the {verb}"
    elif close and isinstance(held, int) and held > 0:
        warning = f"PipAI still reports {held} open position(s) after closing them"
    return Outcome(
        OutcomeKind.APPLIED,
        f"{done} {name} ({target_id}); {tail}.",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=state,
        warning=warning,
    )


# ----- what a re-read shows ---------------------------------------------------------------
def already_paused(
    target_id: str, reply: Reply, close: bool, current: Target | None, problem: str, scrub: Scrub
) -> Outcome:
    """PipAI answers 409 INVALID_STATE rather than a no-op when already paused: *already*
    when the re-read shows it paused (with a warning when positions it was asked to close
    stay open: PipAI cannot flatten a paused strategy), else the refusal."""
    if current is not None and current.state is State.PAUSED:
        held = current.attrs.get("open_positions")
        warning = None
        if close and isinstance(held, int) and held > 0:
            warning = (
                f"{held} position(s) stay open: PipAI cannot flatten a paused strategy "
                "through its API; close them on the exchange or in PipAI's own UI"
            )
        return answered(
            OutcomeKind.ALREADY,
            f"{current.name} ({target_id}) was already paused "
            f"(PipAI answered 409 {vendor_words(reply, scrub)}; a re-read confirms paused).",
            reply,
            State.PAUSED,
            warning,
        )
    if current is not None and current.state is State.RUNNING and _about_status(reply):
        return behind(target_id, "pause", reply, scrub, current)
    return refused(target_id, "pause", reply, scrub, current, problem)


def _about_status(reply: Reply) -> bool:
    """The 409 is PipAI's documented one, about the strategy's status (INVALID_STATE, or
    no code at all): not another rule a read cannot show."""
    return error_code(reply) in (None, "", "INVALID_STATE")


def behind(target_id: str, verb: str, reply: Reply, scrub: Scrub, current: Target) -> Outcome:
    """A 409 INVALID_STATE for a call the re-read's state allows (a pause of a deployed
    strategy, a deploy of a paused one): one of the two is behind (a cached read, a
    replica). *Uncertain*, so a kill reads it again rather than call it refused."""
    return answered(
        OutcomeKind.UNCERTAIN,
        f"PipAI answered the {verb} of {current.name} ({target_id}) with 409 "
        f"{vendor_words(reply, scrub)}, but a re-read shows it {current.raw_status}, from "
        f"which a {verb} is allowed: one of the two is behind. Read it again before "
        f"retrying.",
        reply,
        current.state,
    )


def answered(
    kind: OutcomeKind, message: str, reply: Reply, state: State | None, warning: str | None = None
) -> Outcome:
    """An outcome of an error answer (a refusal, a 409 a re-read explained): its status,
    latency and PipAI's code, and the state a re-read showed, if any."""
    return Outcome(
        kind,
        message,
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=state,
        vendor_code=error_code(reply),
        warning=warning,
    )


def already_deployed(
    target_id: str, reply: Reply, current: Target | None, problem: str, scrub: Scrub
) -> Outcome:
    """A deploy of a deployed strategy is 409 INVALID_STATE: *already* running when the
    re-read shows it so, else the refusal."""
    if current is not None and current.state is State.RUNNING:
        return answered(
            OutcomeKind.ALREADY,
            f"{current.name} ({target_id}) was already deployed "
            f"(PipAI answered 409 {vendor_words(reply, scrub)}; a re-read confirms deployed).",
            reply,
            State.RUNNING,
        )
    if current is not None and current.state is State.PAUSED and _about_status(reply):
        return behind(target_id, "resume", reply, scrub, current)
    return refused(target_id, "resume", reply, scrub, current, problem)


def settled(
    target_id: str, verb: str, wanted: State, no_answer: NoAnswer, current: Target | None
) -> Outcome:
    """No usable answer, then a re-read: *applied* when it shows the asked state (never
    re-sent), else *uncertain*."""
    if current is None:
        return unsettled(target_id, verb, no_answer, "PipAI no longer knows this strategy")
    why = no_answer.what
    if current.state is wanted:
        return no_answer.outcome(
            OutcomeKind.APPLIED,
            f"{why}; the {verb} was not re-sent. A re-read shows {current.name} "
            f"({target_id}) {current.raw_status}, so it took effect.",
            state_after=current.state,
        )
    seen = f"a re-read shows {current.name} ({target_id}) still {current.raw_status}"
    return _uncertain(target_id, verb, no_answer, seen, current.state)


def unsettled(target_id: str, verb: str, no_answer: NoAnswer, problem: str) -> Outcome:
    """No usable answer, and the re-read failed too: *uncertain*, no state."""
    return _uncertain(target_id, verb, no_answer, f"the re-read failed too ({problem})", None)


def _uncertain(
    target_id: str, verb: str, no_answer: NoAnswer, seen: str, state_after: State | None
) -> Outcome:
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{no_answer.what}; the {verb} of {target_id} may still land; "
        f"{seen}. Check the strategy again before repeating the action.",
        state_after=state_after,
    )
