"""Pure translations of x3algo answers into Outcomes (no I/O, no re-reads).

The quirk handlers that need a re-read live on the client; these ones only read the
reply: the 400 and 403 rejections of a start, and the failures (429, 401, 5xx).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.venues.kit.http import Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long
from console.venues.x3algo.wire import ErrorEnvelope

_TEXT_CHARS = 500


def short_text(value: object, limit: int = _TEXT_CHARS) -> str:
    """A venue's free-form value as short text, whatever it nested in it: a list nested
    hundreds deep or an integer of 5,000 digits must not raise, nor fill a message."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = str(value)
        except (RecursionError, ValueError):
            return f"({type(value).__name__} too large to show)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rejected_incomplete_config(
    what: str, code: str, message: str, details: dict[str, Any], latency: float
) -> Outcome:
    """Start of a draft: 400 VALIDATION_ERROR with ``details.missingFields``."""
    missing = details.get("missingFields")
    listed = ", ".join(short_text(f, 80) for f in missing[:20]) if isinstance(missing, list) else ""
    extra = f" Missing: {listed}." if listed else ""
    return Outcome(
        OutcomeKind.REJECTED,
        f"x3algo would not start {what}: {message!r}.{extra} Complete its configuration "
        f"in x3algo, then start it again.",
        http_status=400,
        latency_ms=latency,
        vendor_code=code or "VALIDATION_ERROR",
    )


def rejected_forbidden(
    what: str, verb: str, code: str, message: str, details: dict[str, Any], latency: float
) -> Outcome:
    """403 FORBIDDEN: the daily loss limit on start, or an algorithm not ours."""
    if "dailyLoss" in details or "limit" in details:
        hint = (
            f" Daily loss {short_text(details.get('dailyLoss'), 40)} has reached the limit "
            f"{short_text(details.get('limit'), 40)}; it can start again after the daily "
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
    """No change happened as far as we know: 429 after the one retry (or at once when
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


def error_details(reply: Reply) -> dict[str, Any]:
    try:
        return ErrorEnvelope.model_validate(reply.json()).error.details or {}
    except (ValueError, ValidationError):
        return {}


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
