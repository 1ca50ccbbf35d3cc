"""Which failed reads are worth trying again in a moment, one rule for the five venues.

A kill's planning read keeps trying a venue that said it is briefly in trouble (a 503
while it restarts, a gateway's 502, a 429 asking a wait the console honours, a refused
or broken connection: ``CallError.transient``) for longer than one whose answer will not
change (a refused key, a missing path, an unreadable shape, an answer past the body
cap): ``FeedError(..., transient=...)``, read by
:meth:`console.core.session.Session.read_venue`. Each venue gives its read errors this
verdict where it turns an answer into words; a login is never marked (x3algo counts its
logins against a small budget: hammering one could lock the account out).
"""

from __future__ import annotations

from console.venues.kit.http import Reply
from console.venues.kit.pacing import retry_after_seconds, too_long


def transient_reply(reply: Reply, cap_s: float) -> bool:
    """Is ``reply``'s failure one the venue may not give a moment later? A 5xx and a
    408 are; a 429 is when it was sent and asks no wait past ``cap_s`` (the console's
    Retry-After cap); any other 4xx is not (it will say the same again)."""
    status = reply.status
    if status >= 500 or status == 408:
        return True
    if status == 429:
        return reply.sent and not too_long(retry_after_seconds(reply.headers), cap_s)
    return False
