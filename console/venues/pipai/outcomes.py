"""PipAI's error answers in plain words: what happened, to what, what to do next.

PipAI's own ``code`` and ``message`` are quoted as sent; the hints name the profile
field or the venue-side step that fixes the cause.
"""

from __future__ import annotations

from pydantic import ValidationError

from console.core.model import ActionKind, Outcome, OutcomeKind
from console.venues.kit.http import Reply
from console.venues.pipai.wire import ErrorBody

_HINTS = {
    "INVALID_SIGNATURE": "Check api_key and api_secret in the profile, and that this "
    "machine's clock is right (PipAI refuses timestamps more than 5 minutes off)",
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


def vendor_words(reply: Reply) -> str:
    """PipAI's own ``code: "message"``, or the start of whatever body came back."""
    body = _error_body(reply)
    if body is not None and (body.code or body.message):
        return f'{body.code or "?"}: "{body.message or ""}"'
    text = reply.text(120)
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


def http_error(reply: Reply, doing: str) -> str:
    """What PipAI said, to what, and what the operator can do next."""
    code = error_code(reply)
    hint = _HINTS.get(code or "", "") or _STATUS_HINTS.get(reply.status, "")
    if not hint and reply.status >= 500:
        hint = "PipAI had a server error; nothing is known to have changed; try again shortly"
    return f"PipAI answered HTTP {reply.status} {vendor_words(reply)} when {doing}." + (
        f" {hint}." if hint else ""
    )
