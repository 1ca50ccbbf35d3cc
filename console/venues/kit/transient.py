"""Which failed reads are worth trying again in a moment, one rule for the five venues.

A kill's planning read keeps trying a venue that said it is briefly in trouble (a 503
while it restarts, a gateway's 502, a 429 asking a wait the console honours, a refused
or broken connection: ``CallError.transient``) for longer than one whose answer will not
change (a refused key, a missing path, an unreadable shape, an answer past the body
cap): ``FeedError(..., transient=...)``, read by the kill's planning read and its
verifying re-read (:mod:`console.core.read_retry`). Each venue gives its read errors
this verdict where it turns an answer into words; a login is marked only when it never
reached the venue (x3algo counts its logins against a small budget: hammering one could
lock the account out).
"""

from __future__ import annotations

from console.venues.kit.http import Reply
from console.venues.kit.pacing import retry_after_seconds, too_long


def transient_reply(reply: Reply, cap_s: float) -> bool:
    """Is ``reply``'s failure one the venue may not give a moment later? A 5xx, a 408
    and a 429 are, unless the venue asks a wait past ``cap_s`` (the console's
    Retry-After cap: a 503 for an hour's maintenance is said at once, not tried for
    seconds) or a 429 was never sent (its wait still in force); any other 4xx is not
    (it will say the same again)."""
    status = reply.status
    if status < 500 and status not in (408, 429):
        return False
    if status == 429 and not reply.sent:
        return False
    return not too_long(retry_after_seconds(reply.headers), cap_s)
