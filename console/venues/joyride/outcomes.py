"""Joyride's answers to pause-by-expiration, in the shared outcome vocabulary: pure functions.

Joyride answers with counts, not states: ``db_updated > 0`` is *applied*
(:func:`applied`, with DB/engine drift as a warning, :func:`drift_warning`);
``db_updated == 0`` with ``engine_updated > 0`` is *applied* too — the database already
had the flag, the engine is flipped now (:func:`engine_caught_up`) — and with
``engine_missing`` alone *already* with the drift as a warning; all zeros are *already*
(:func:`already_from_zero_counts`) unless the expiration matches no instrument at all
(:func:`nothing_matched`, *rejected*). An answer
that cannot be trusted (none, malformed, a wrong echo) is *uncertain*: the list is
re-read, which can only say whether the round still exists (:func:`settled`,
:func:`unsettled`, through :class:`~console.venues.kit.control.ControlStep`). Every
other status is refused in the venue's words (:func:`refused`). The words may quote
the venue: the client scrubs every outcome.
"""

from __future__ import annotations

from console.core.model import Outcome, OutcomeKind, State
from console.core.scrub import Scrub, printable
from console.venues.joyride.mapping import expiration_name
from console.venues.joyride.wire import PauseResult
from console.venues.kit.control import NoAnswer
from console.venues.kit.http import CallError, Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long, wait_words

VENDOR = "Joyride"
MISSING_SHOWN = 5
BASE_URL_HINT = "check that the profile's base_url ends with /api (or /api/v1)"
"""What a 404 from Joyride says to check: the paths are ``/v1/...`` below ``/api``."""


def verb_of(paused: bool) -> str:
    return "pause" if paused else "resume"


def applied(
    expiration: int, paused: bool, result: PauseResult, reply: Reply, scrub: Scrub
) -> Outcome:
    done = "blocked new orders on" if paused else "lifted the block on"
    return Outcome(
        OutcomeKind.APPLIED,
        f"Joyride {done} {result.db_updated} instruments of {expiration_name(expiration)} "
        f"(engine flipped {result.engine_updated}).",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=State.PAUSED if paused else State.RUNNING,
        warning=drift_warning(result, scrub),
    )


def already_from_zero_counts(
    expiration: int, paused: bool, reply: Reply, warning: str | None = None
) -> Outcome:
    """``db_updated == 0``, ``engine_updated == 0``: every instrument of the round already
    had that flag in the database (``warning``: the drift the answer showed, if any)."""
    word = "already paused" if paused else "already live"
    return Outcome(
        OutcomeKind.ALREADY,
        f"{expiration_name(expiration)} was {word}: Joyride changed no instrument (db_updated 0).",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=State.PAUSED if paused else State.RUNNING,
        warning=warning,
    )


def engine_caught_up(
    expiration: int, paused: bool, result: PauseResult, reply: Reply, scrub: Scrub
) -> Outcome:
    """``db_updated == 0`` but ``engine_updated > 0``: the database already had the flag,
    the engine had not (an earlier call failed in its engine phase, or drift) and is
    flipped now — this call changed the engine, so *applied*, never *already*."""
    word = "paused" if paused else "live"
    return Outcome(
        OutcomeKind.APPLIED,
        f"Joyride's database already had {expiration_name(expiration)} {word} (db_updated 0), "
        f"but its engine flipped {result.engine_updated} instruments now (DB/engine drift, "
        "corrected).",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
        state_after=State.PAUSED if paused else State.RUNNING,
        warning=drift_warning(result, scrub),
    )


def expired(expiration: int, paused: bool) -> Outcome:
    """A round past its expiration (STOPPED, raw ``expired``): its market is closed and
    settling, so it takes no new orders. That is what a pause is for (STOPPED satisfies
    a pause): *already*; a resume cannot reopen it: *rejected*. Nothing is sent."""
    label = expiration_name(expiration)
    if paused:
        return Outcome(
            OutcomeKind.ALREADY,
            f"Expiration {label} has passed: its market is closed and settling and takes no "
            "new orders, so it needs no pause. Nothing was sent.",
            state_after=State.STOPPED,
        )
    return Outcome(
        OutcomeKind.REJECTED,
        f"Expiration {label} has passed: its market is closed and settling, so there is "
        "nothing to resume. Nothing was sent.",
        state_after=State.STOPPED,
    )


def nothing_matched(expiration: int, paused: bool, reply: Reply) -> Outcome:
    """Zero counts for an expiration the list does not hold: nothing to act on."""
    return Outcome(
        OutcomeKind.REJECTED,
        f"Joyride lists no instrument expiring {expiration_name(expiration)}, so there "
        f"was nothing to {verb_of(paused)} (the round may have settled). Refresh the list.",
        http_status=reply.status,
        latency_ms=reply.latency_ms,
    )


def drift_warning(result: PauseResult, scrub: Scrub) -> str | None:
    """DB/engine drift from the counts: a warning to show, not a failure. Each missing
    instrument id is scrubbed, then cut (cut first, a secret Joyride echoed across the
    cut would no longer be recognised whole by the outcome's scrubbing)."""
    parts = []
    missing = result.engine_missing
    if missing:
        shown = ", ".join(scrub(printable(m))[:80] for m in missing[:MISSING_SHOWN])
        more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
        where = "changed in the DB but" if result.db_updated else "of the round"
        parts.append(
            f"{len(missing)} instruments {where} missing from the matching "
            f"engine: {shown}{more} (gateway restarting?); orders on them may not be "
            "blocked until the engine reloads them, so repeat the call once it is back"
        )
    already = result.db_updated - result.engine_updated - len(missing)
    surplus = result.engine_updated - result.db_updated  # engine rows the DB had right already
    if already > 0:
        parts.append(
            f"the engine was already at the target for {already} of "
            f"{result.db_updated} changed instruments (DB/engine drift, now corrected)"
        )
    elif surplus > 0:
        parts.append(
            f"the engine flipped {surplus} more instruments than the database changed "
            "(DB/engine drift, now corrected)"
        )
    return "; ".join(parts) if parts else None


def bad_echo(expiration: int, paused: bool, result: PauseResult) -> str:
    """Why a 200 whose ``expiration``/``paused`` do not echo the request is no answer."""
    return (
        f"its answer echoed expiration {result.expiration} paused={result.paused}, not "
        f"what was asked (expiration {expiration} paused={paused})"
    )


# ----- no trustworthy answer: what the re-read of the list shows ----------------------
def no_answer(
    expiration: int, paused: bool, why: str, http_status: int | None, latency_ms: float | None
) -> NoAnswer:
    label = expiration_name(expiration)
    what = f"No reliable answer from Joyride to {verb_of(paused)} {label}: {why}"
    return NoAnswer(what, http_status, latency_ms)


def settled(paused: bool, answer: NoAnswer, instruments: int) -> Outcome:
    """The list re-read (``instruments``: how many it shows for the round)."""
    if instruments:
        reread = (
            f"the list still shows {instruments} instruments for it, but Joyride's API "
            "cannot show whether they are paused"
        )
    else:
        reread = "the list no longer shows this round (it may have settled)"
    return _uncertain(paused, answer, reread)


def unsettled(paused: bool, answer: NoAnswer, why: str) -> Outcome:
    return _uncertain(paused, answer, f"re-reading the instrument list failed too ({why})")


def _uncertain(paused: bool, answer: NoAnswer, reread: str) -> Outcome:
    """Re-sending is safe, but its answer cannot confirm the engine: after a failure in
    Joyride's engine phase a repeat answers ``db_updated`` 0 (the database has it) while
    engine instruments may still not have the flag."""
    verb, word = verb_of(paused), "paused" if paused else "live"
    return answer.outcome(
        OutcomeKind.UNCERTAIN,
        f"{answer.what}. It may or may not have been applied; {reread}. Sending {verb} "
        "again is safe (the call is idempotent) and its counts say what it changes then; "
        f"0 changed rows means the database already had it {word}, not that every engine "
        "instrument is (Joyride cannot show the engine's state).",
    )


def unreached(expiration: int, paused: bool, err: CallError) -> Outcome:
    return Outcome(
        OutcomeKind.FAILED,
        f"Could not reach Joyride to {verb_of(paused)} {expiration_name(expiration)}: "
        f"{err.message}. Nothing was sent; check the venue is reachable and try again.",
    )


# ----- refusals --------------------------------------------------------------------------
def refused(
    expiration: int,
    paused: bool,
    reply: Reply,
    words: str,
    code: str | None,
    *,
    has_token: bool,
    cap_s: float,
) -> Outcome:
    """Any answer but a 2xx (``words``/``code``: the venue's, :mod:`.wire`)."""
    verb, label = verb_of(paused), expiration_name(expiration)
    status = reply.status

    def outcome(kind: OutcomeKind, message: str) -> Outcome:
        return Outcome(
            kind, message, http_status=status, latency_ms=reply.latency_ms, vendor_code=code
        )

    if status in (401, 403):
        if has_token:
            what = "Joyride refused the admin token"
            advice = "Check admin_token for this venue in the profile."
        else:
            what = "Joyride requires an admin token"
            advice = "No admin_token is configured for this venue: add it to the profile."
        return outcome(
            OutcomeKind.REJECTED, f"{what}, so {label} was not {verb}d: {words}. {advice}"
        )
    if status in (400, 422):
        return outcome(
            OutcomeKind.REJECTED,
            f"Joyride rejected the {verb} of {label}: {words}. Nothing changed; this "
            "is a bug in the request, please report it.",
        )
    if status == 429:
        asked = retry_after_seconds(reply.headers)
        if too_long(asked, cap_s) or not reply.sent:
            return outcome(
                OutcomeKind.FAILED, f"{label} not {verb}d: {not_waiting_words(reply, cap_s)}"
            )
        return outcome(
            OutcomeKind.FAILED,
            f"Joyride rate limited the {verb} of {label} ({words}); a 429 is refused "
            "before it acts, so nothing changed. Wait a moment and try again.",
        )
    if status == 404:
        hint = BASE_URL_HINT
    else:
        hint = "nothing is known to have changed; try again when Joyride is healthy"
    return outcome(OutcomeKind.FAILED, f"Joyride failed to {verb} {label}: {words}; {hint}.")


def not_waiting_words(reply: Reply, cap_s: float) -> str:
    """A 429 not waited for: the venue asked for longer than the cap (or a moment ago
    did, and the pacer answered for it without sending)."""
    asked = retry_after_seconds(reply.headers)
    if too_long(asked, cap_s):
        assert asked is not None
        return not_waiting(VENDOR, asked, cap_s)
    left = f" (another {wait_words(asked)})" if asked else ""
    return (
        f"{VENDOR} asked a moment ago to wait longer than {cap_s:g} s{left} "
        "(rate limited): nothing was sent — retry later (in the console, r in the kill report)"
    )
