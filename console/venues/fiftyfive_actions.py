"""55-tech actions and the words of their outcomes, kept apart from the I/O.

Pure functions: which actions an engine's manual flags allow and what each leaves
behind, how a control answer's ``result`` maps onto the shared outcome vocabulary, and
the phrases the client's messages are built from (never containing a credential).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pydantic import ValidationError

from console.core.model import ActionKind, ActionSpec, AttrValue, Outcome, OutcomeKind, State
from console.venues.fiftyfive_wire import (
    ALREADY_RESULTS,
    APPLIED_RESULTS,
    START_REQUIRED,
    ControlReply,
    TradingStatus,
    state_of,
    status_words,
)
from console.venues.kit.http import Reply

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


def action_specs(attrs: Mapping[str, AttrValue]) -> list[ActionSpec]:
    """The manual flags decide: pause or resume, stop or start, each with a reason."""
    paused = attrs.get("manual_paused") is True
    stopped = attrs.get("manual_stopped") is True
    still = global_block_note(attrs)
    specs: list[ActionSpec] = []
    if not paused:
        specs.append(
            ActionSpec(
                ActionKind.PAUSE,
                "Pause engine",
                "Orders and bets already on the exchanges stay there (55-tech does not "
                "say a pause cancels them); the engine stays paused until resumed.",
                accepts_reason=True,
            )
        )
    else:
        behind = "Trading restarts for this client."
        if stopped:
            behind = "Lifts the pause only: the engine stays stopped until started."
        specs.append(
            ActionSpec(ActionKind.RESUME, "Resume engine", behind + still, accepts_reason=True)
        )
    if not stopped:
        specs.append(
            ActionSpec(
                ActionKind.STOP,
                "Stop engine",
                "Orders and bets already on the exchanges stay there (55-tech does not "
                "say a stop cancels them); the engine stays stopped until started — "
                "resume cannot lift a stop.",
                accepts_reason=True,
            )
        )
    else:
        behind = "Trading restarts for this client."
        if paused:
            behind = "Lifts the stop only: the engine stays paused until resumed."
        specs.append(
            ActionSpec(ActionKind.START, "Start engine", behind + still, accepts_reason=True)
        )
    return specs


def outcome_from_result(who: str, kind: ActionKind, parsed: ControlReply, reply: Reply) -> Outcome:
    """Project decision 1's ``result`` values, in the shared vocabulary."""
    result = parsed.result or ""
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


def global_block_note(attrs: Mapping[str, AttrValue]) -> str:
    if attrs.get("system_blocked") is True:
        return f" A global {attrs.get('status_words', 'block')} still blocks all clients."
    return ""


def detail(reply: Reply) -> str:
    """The vendor's own words: FastAPI's ``detail`` (string or validation list) or the body."""
    data = reply.json_or_none()
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            msgs = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
            return "; ".join(msgs)
    return reply.text() or "(empty body)"


def short_validation(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return f"an unexpected answer ({where}: {first['msg']})"
    return str(exc)
