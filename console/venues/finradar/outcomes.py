"""FinRadar's answers to a stop, in the shared outcome vocabulary: pure functions.

Stop is idempotent: an already-STOPPED target answers ``200`` with the body of its
original stop (:func:`already_stopped_from_idempotent_200` tells *already* from
*applied*); ``404`` means unknown **or owned by another user** (rejected,
:func:`unknown_target_from_404`); a stop with no usable answer is settled by a re-read
(:func:`settled`, :func:`unsettled`, through :class:`~console.venues.kit.control.ControlStep`,
which sends it once more when the re-read shows the target still running); a 429 asking for a wait beyond
``retry_after_cap_s`` is failed with the vendor's wait in words. The same rules word a
refused list read (:func:`read_error`). The words may quote the venue: the client
scrubs every outcome and error.
"""

from __future__ import annotations

from console.core.model import Outcome, OutcomeKind, State, Target
from console.venues.finradar.mapping import Seen
from console.venues.finradar.wire import MANUAL_STOP, StopReply, epoch
from console.venues.kit.control import NoAnswer
from console.venues.kit.http import CallError, Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long, wait_words

VENDOR = "FinRadar"
# A stop answered with a stopped_at this long before we sent it was not ours (clock skew).
CLOCK_SKEW_S = 30.0


def asked_too_long(reply: Reply, cap_s: float) -> float | None:
    """The wait a 429 asks for, when it is beyond what we honour (else None)."""
    if reply.status != 429:
        return None
    wait = retry_after_seconds(reply.headers)
    if wait is not None and too_long(wait, cap_s):
        return wait
    return None


def unreached(label: str, err: CallError) -> Outcome:
    return Outcome(
        OutcomeKind.FAILED,
        f"could not reach FinRadar to stop {label}: {err.message}; nothing was "
        "sent — check the connection and try again",
        latency_ms=err.latency_ms,
    )


def stopped(
    label: str, stop: StopReply, seen: Seen | None, sent_at: float, slots: str, reply: Reply
) -> Outcome:
    """A 200 to a stop that shows it STOPPED: applied, or already (the idempotent 200).

    ``slots`` (the answer's slot count, in words) is told of an applied stop only: a repeat
    stop answers "the same body" as the first (the seed), so its count may be that old
    stop's, not today's (it said "3 of 5 slots used" while a fresh list said 2)."""
    how = f"{stop.resolution_reason or 'no reason given'} at {stop.stopped_at or '?'}"
    if already_stopped_from_idempotent_200(stop, seen, sent_at):
        return Outcome(
            OutcomeKind.ALREADY,
            f"{label} was already stopped ({how}); nothing changed",
            http_status=reply.status,
            latency_ms=reply.latency_ms,
            state_after=State.STOPPED,
        )
    return Outcome(
        OutcomeKind.APPLIED,
        f"stopped {label} ({how}); its plan slot is free{slots}",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=State.STOPPED,
    )


def settled(
    target_id: str, seen: Seen | None, no_answer: NoAnswer, target: Target | None
) -> Outcome:
    """A re-read after no usable answer to a stop."""
    what = no_answer.what
    if target is None:
        return no_answer.outcome(
            OutcomeKind.UNCERTAIN,
            f"{what}; a re-read no longer lists {target_id} under this API key — refresh the list",
        )
    if target.state is State.STOPPED:
        reason = target.attrs.get("resolution")
        at = target.attrs.get("stopped_at")
        earlier = reason != MANUAL_STOP or (seen is not None and seen.status == "STOPPED")
        return no_answer.outcome(
            OutcomeKind.ALREADY if earlier else OutcomeKind.APPLIED,
            f"{what}, but a re-read shows it STOPPED ({reason or 'no reason given'}"
            + (f" at {at}" if at else "")
            + ")"
            + ("; it had stopped before this call" if earlier else ""),
            state_after=State.STOPPED,
        )
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{what}; a re-read still shows it {target.raw_status}. The stop may still land "
        "— refresh in a moment, or stop again (stop is idempotent)",
        state_after=target.state,
    )


def unsettled(no_answer: NoAnswer, why: str) -> Outcome:
    """No usable answer to a stop, and the re-read failed too."""
    return no_answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{no_answer.what}; re-reading it failed too ({why}). The stop may or may not have "
        "landed — refresh, or stop again (stop is idempotent)",
    )


def refused(
    venue: str, target_id: str, label: str, reply: Reply, words: str, code: str | None, cap_s: float
) -> Outcome:
    """Any answer to a stop but a 2xx, in words (``words``/``code``: the vendor's)."""
    said = f"{reply.status} {code or ''}".strip() + f': "{words}"'
    kind, message = OutcomeKind.FAILED, ""
    if reply.status == 404:
        kind, message = unknown_target_from_404(target_id, said)
    elif reply.status in (401, 403):
        kind = OutcomeKind.REJECTED
        message = (
            f"FinRadar refused the API key of venue {venue!r} ({said}); {label} was "
            "not stopped — check credentials.api_key in the profile"
        )
    elif reply.status == 429 and (asked := asked_too_long(reply, cap_s)) is not None:
        what = "refused" if reply.sent else "not sent"
        message = f"{not_waiting(VENDOR, asked, cap_s)} (the stop of {label} was {what}: {said})"
    elif reply.status == 429 and not reply.sent:
        left = retry_after_seconds(reply.headers) or 0.0
        message = (
            f"FinRadar asked a moment ago to wait longer than "
            f"{cap_s:g} s (rate limited; {wait_words(left)} "
            f"left): the stop of {label} was not sent — retry later (in the console, r in the kill report)"
        )
    elif reply.status == 429:
        wait = retry_after_seconds(reply.headers)
        after = f" in {wait:g} s" if wait is not None else " shortly"
        message = (
            f"rate limited: FinRadar refused the stop of {label} ({said}); "
            f"nothing was stopped — try again{after}"
        )
    elif reply.status >= 500:
        message = (
            f"FinRadar server error while stopping {label} ({said}); the stop was "
            "probably not applied — refresh and try again"
        )
    elif 400 <= reply.status < 500:
        kind = OutcomeKind.REJECTED
        message = f"FinRadar refused to stop {label} ({said})"
    else:
        message = f"unexpected answer from FinRadar to the stop of {label} ({said})"
    return Outcome(
        kind, message, http_status=reply.status, latency_ms=reply.latency_ms, vendor_code=code
    )


def read_error(
    venue: str, what: str, reply: Reply, words: str, code: str | None, cap_s: float
) -> str:
    """A refused list read, in words."""
    said = f"{reply.status} {code or ''}".strip() + f': "{words}"'
    if reply.status in (401, 403):
        return (
            f"FinRadar refused the API key ({said}); check credentials.api_key of venue {venue!r}"
        )
    if reply.status == 429 and (asked := asked_too_long(reply, cap_s)) is not None:
        return f"{what}: {not_waiting(VENDOR, asked, cap_s)} ({said})"
    if reply.status == 429 and not reply.sent:
        return (
            f"{what}: not sent — FinRadar asked a moment ago to wait longer than "
            f"{cap_s:g} s (rate limited)"
        )
    if reply.status == 429:  # refused twice (one paced retry); no promise of another
        return f"{what}: rate limited ({said}), again after one retry; a later read may succeed"
    return f"{what}: {said}"


def already_stopped_from_idempotent_200(stop: StopReply, seen: Seen | None, sent_at: float) -> bool:
    """Stop answers 200 for an already-STOPPED target too, with its original stop's body.

    It was already stopped when the body's reason is not ``manual_stop`` (it ended by
    itself), when our last read showed it STOPPED, or, for a target we never read, when
    its ``stopped_at`` is well before we sent the call (allowing for clock skew).
    """
    if stop.resolution_reason and stop.resolution_reason != MANUAL_STOP:
        return True
    if seen is not None:
        return seen.status.upper() == "STOPPED"
    stopped_at = epoch(stop.stopped_at)
    return stopped_at is not None and stopped_at < sent_at - CLOCK_SKEW_S


def unknown_target_from_404(target_id: str, said: str) -> tuple[OutcomeKind, str]:
    """FinRadar answers 404 for an unknown id and for another user's, alike."""
    return (
        OutcomeKind.REJECTED,
        f"unknown target (or not yours): FinRadar has no sniper target {target_id} under "
        f"this API key ({said}) — refresh the list and check the id",
    )
