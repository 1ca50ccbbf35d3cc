"""One 55-tech status answer, read or refused in words: pure functions, no I/O.

``GET /api/v1/trading/status`` answers for one key's engine. What comes back is either a
:class:`~console.venues.fiftyfive_wire.TradingStatus` or one of the feed errors:

* a non-200 answer → :class:`FeedError` (the venue would not say), quoting its words;
  a 429 whose ``Retry-After`` exceeds the cap says so with the vendor's wait;
* a 200 that is not the documented object (``{}``, an empty body, ``null``, a list,
  a field of the wrong type, an empty ``client``) → :class:`Unreadable` — never an
  engine read as something it did not say.

The words may quote the venue; the caller scrubs them (the venue may echo a key).
"""

from __future__ import annotations

from console.venues.fiftyfive_actions import detail, short_validation
from console.venues.fiftyfive_wire import TradingStatus
from console.venues.kit.feeds import FeedError, Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.pacing import not_waiting, retry_after_seconds, too_long

VENDOR = "55-tech"


def status_from_reply(reply: Reply, who: str, cap_s: float) -> TradingStatus:
    """The status a key's read answered, or the FeedError family saying why not."""
    if reply.status != 200:
        raise FeedError(read_error(reply, who, cap_s))
    try:
        status = reply.validated(TradingStatus)
    except ValueError as exc:  # malformed JSON, or pydantic's ValidationError
        raise Unreadable(
            f"55-tech status read for {who}: {short_validation(exc)}; not the documented "
            "status answer"
        ) from None
    if not status.client.strip():
        raise Unreadable(
            f"55-tech status read for {who}: an unexpected answer (client: empty slug); "
            "not the documented status answer"
        )
    return status


def read_error(reply: Reply, who: str, cap_s: float) -> str:
    """A non-200 answer to a status read, in words."""
    said = detail(reply)
    if reply.status == 401:
        return (
            f"55-tech refused the API key for {who} (401 '{said}'); check api_keys in the profile"
        )
    if reply.status == 429:
        wait = retry_after_seconds(reply.headers)
        if too_long(wait, cap_s):
            assert wait is not None
            return f"status read for {who}: {not_waiting(VENDOR, wait, cap_s)} (429 '{said}')"
        return f"55-tech rate-limited the status read for {who} (429 '{said}'); reads back off"
    return f"55-tech answered {reply.status} '{said}' to the status read for {who}"


def combine_errors(errors: list[str], total: int) -> str:
    """Several per-key failures as one line: how many, and the first in full."""
    head = f"{len(errors)} of {total} engines could not be read: {errors[0]}"
    return head if len(errors) == 1 else f"{head} (and {len(errors) - 1} more)"
