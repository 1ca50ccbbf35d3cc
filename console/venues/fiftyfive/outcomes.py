"""55-tech answers in the shared outcome vocabulary, kept apart from the I/O.

Pure functions: how a control answer's ``result`` maps onto applied / already /
rejected / uncertain (:func:`outcome_from_result`), what a re-read after no usable
answer shows (:func:`settled`, :func:`unsettled`), what a 409 re-read shows
(:func:`from_409`), every other refusal (:func:`refused`), what a done start leaves
behind, and the phrases the client's messages are built from (never a credential).
"""

from __future__ import annotations

from functools import partial

from console.core.model import ActionKind, Outcome, OutcomeKind, State
from console.core.scrub import Scrub
from console.venues.fiftyfive.wire import (
    ALREADY_RESULTS,
    APPLIED_RESULTS,
    START_REQUIRED,
    VENDOR,
    ControlReply,
    TradingStatus,
    detail,
    state_of,
    status_words,
)
from console.venues.kit.control import NoAnswer
from console.venues.kit.http import CallError, Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long

ALREADY_WORDS = {
    ActionKind.PAUSE: "already paused",
    ActionKind.STOP: "already stopped",
    ActionKind.RESUME: "not paused (nothing to resume)",
    ActionKind.START: "not stopped (nothing to start)",
}
DONE_WORDS = {
    ActionKind.PAUSE: "paused",
    ActionKind.STOP: "stopped",
    ActionKind.RESUME: "resumed",
    ActionKind.START: "started",
}


def outcome_from_result(who: str, kind: ActionKind, parsed: ControlReply, reply: Reply) -> Outcome:
    """Project decision 1's ``result`` values, in the shared vocabulary."""
    result = (parsed.result or "").strip().lower()  # (whatever its case)
    verb = kind.value
    state = state_of(parsed.status)
    outcome = partial(
        Outcome,
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=state,
        vendor_code=result or None,
        leaves=start_leaves(kind, parsed),
    )
    blocked = still_blocked(kind, parsed)
    if result in APPLIED_RESULTS:
        return outcome(
            OutcomeKind.APPLIED,
            f"{cap(who)} {DONE_WORDS[kind]} (55-tech: {result}); "
            f"status now {status_words(parsed.status)}.",
            warning=blocked,
        )
    if result in ALREADY_RESULTS:
        return outcome(
            OutcomeKind.ALREADY,
            f"{cap(who)} was {ALREADY_WORDS[kind]} (55-tech: {result}); "
            f"status {status_words(parsed.status)}.",
            warning=blocked,
        )
    if result == START_REQUIRED:
        return outcome(
            OutcomeKind.REJECTED,
            f"55-tech would not {verb} {who}: engine is stopped: resume cannot lift a "
            "stop; use start (55-tech: start_required).",
            leaves=None,
        )
    if parsed.holds(kind):
        undocumented = f"55-tech answered an undocumented result '{result}'"
        return outcome(
            OutcomeKind.APPLIED,
            f"{cap(who)} is {asked_state(kind)} (status {status_words(parsed.status)}).",
            warning=f"{undocumented}; {blocked}" if blocked else undocumented,
        )
    return outcome(
        OutcomeKind.UNCERTAIN,
        f"55-tech answered {verb} of {who} with an undocumented result '{result}' and "
        f"the engine does not show it {asked_state(kind)} (status "
        f"{status_words(parsed.status)}); "
        "re-read it before retrying.",
        leaves=None,
    )


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def asked_state(kind: ActionKind) -> str:
    return {
        ActionKind.PAUSE: "paused",
        ActionKind.STOP: "stopped",
        ActionKind.RESUME: "no longer paused",
        ActionKind.START: "no longer stopped",
    }[kind]


def start_leaves(kind: ActionKind, status: TradingStatus) -> State | None:
    """What a done start rightly leaves: 55-tech keeps the manual pause and the manual
    stop apart, so a start lifts the stop of an engine also paused and it reads PAUSED.

    That is the start done (``Outcome.leaves``), with :func:`still_blocked`'s warning;
    a re-read showing STOPPED still fails it. Not under a global block: its status
    (SOFT PAUSED reads PAUSED too) would hide whether the stop was lifted. Resume needs
    nothing of the kind: 55-tech refuses to resume a stopped engine (``start_required``).
    """
    if (
        kind is ActionKind.START
        and status.holds(kind)
        and status.manual_paused
        and not status.system_trading_blocked
    ):
        return State.PAUSED
    return None


def still_blocked(kind: ActionKind, status: TradingStatus) -> str | None:
    """After a resume/start, trading may still be held by the other manual flag or by a
    global block; each is named, with what to do."""
    if kind not in (ActionKind.RESUME, ActionKind.START) or status.trading_active:
        return None
    held: list[str] = []
    if kind is ActionKind.RESUME and status.manual_stopped:
        held.append("the engine is still manually stopped: start to trade")
    if kind is ActionKind.START and status.manual_paused:
        held.append("the engine is still manually paused: resume to trade")
    if status.system_trading_blocked:
        reason = f" ('{status.system_reason}')" if status.system_reason else ""
        held.append(
            f"trading is still blocked for all clients: {status_words(status.status)}{reason}"
        )
    return "; ".join(held) or None


# ----- no usable answer: what the re-read shows (kit.control.ControlStep) ------------
def unreached(who: str, verb: str, err: CallError) -> Outcome:
    """The call surely never left: nothing was sent."""
    return Outcome(
        OutcomeKind.FAILED,
        f"Could not reach 55-tech to {verb} {who}: {err.message}. "
        "Nothing was sent; retry when the venue is reachable.",
        latency_ms=err.latency_ms,
    )


def settled(who: str, kind: ActionKind, no_answer: NoAnswer, status: TradingStatus) -> Outcome:
    """A re-read after no usable answer: applied when it shows the asked flags."""
    asked = asked_state(kind)
    what = no_answer.what
    state = state_of(status.status)
    words = status_words(status.status)
    if status.holds(kind):
        return no_answer.outcome(
            OutcomeKind.APPLIED,
            f"{what}, but a re-read shows {who} {asked} (status {words}).",
            state_after=state,
            warning="; ".join(w for w in (what, still_blocked(kind, status)) if w),
            leaves=start_leaves(kind, status),
        )
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{what}; a re-read does not show {who} {asked} (status {words}). The call may "
        "still land or may be lost: re-read before retrying.",
        state_after=state,
    )


def unsettled(who: str, kind: ActionKind, no_answer: NoAnswer, why: str) -> Outcome:
    """No usable answer, and the re-read failed too."""
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{no_answer.what}; the follow-up read failed too ({why}). {cap(who)} may or "
        f"may not be {asked_state(kind)}: check it before retrying.",
    )


# ----- refusals ------------------------------------------------------------------------
def from_409(
    who: str,
    kind: ActionKind,
    reply: Reply,
    scrub: Scrub,
    status: TradingStatus | None,
    why: str = "",
) -> Outcome:
    """A 409 "blocked by current state", and the re-read that tells *already there*
    from *no* (``status`` None: the re-read failed, ``why``)."""
    verb = kind.value
    said = detail(reply, scrub)
    outcome = partial(Outcome, http_status=409, latency_ms=reply.latency_ms, vendor_code="409")
    if status is None:
        return outcome(
            OutcomeKind.REJECTED,
            f"55-tech refused to {verb} {who}: 409 '{said}'; the follow-up read failed "
            f"({why}), so re-read the engine before retrying.",
        )
    state = state_of(status.status)
    if status.holds(kind):
        return outcome(
            OutcomeKind.ALREADY,
            f"{cap(who)} was {ALREADY_WORDS[kind]}: 55-tech answered "
            f"409 '{said}' and a re-read shows status {status_words(status.status)}.",
            state_after=state,
            warning=still_blocked(kind, status),
            leaves=start_leaves(kind, status),
        )
    return outcome(
        OutcomeKind.REJECTED,
        f"55-tech refused to {verb} {who}: 409 '{said}'; a re-read shows status "
        f"{status_words(status.status)}.",
        state_after=state,
    )


def refused(who: str, verb: str, reply: Reply, cap_s: float, scrub: Scrub) -> Outcome:
    """Any answer but 200 and 409: a refused key, a rate limit, a server error."""
    said = detail(reply, scrub)
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
        if wait is not None and too_long(wait, cap_s):
            return Outcome(
                OutcomeKind.FAILED,
                f"Could not {verb} {who}: {not_waiting(VENDOR, wait, cap_s)} (429 '{said}').",
                http_status=429,
                latency_ms=reply.latency_ms,
            )
        return Outcome(
            OutcomeKind.FAILED,
            f"Could not {verb} {who}: rate limited by 55-tech (429 '{said}'). "
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
