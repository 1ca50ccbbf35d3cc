"""A halting call whose kept-alive connection broke before any answer: sent once more.

Venues close idle connections (load balancers after 60–600 s; small APIs on gunicorn or
uvicorn after 2–5 s). A request written on a pooled connection just as the venue closes
it meets no answer at all: aiohttp says "Server disconnected", or the write or the read
of the status line is reset. Every pooled connection idled together, so after a quiet
spell the first calls of a kill can all meet that race — each then an *uncertain*
outcome (never re-sent, settled by a re-read), truthful but a kill failed for no reason.

So a **halting** call (stop, pause: a second one answers "already", its effect is the
same), and only when its caller says so (``send(..., resend_on_stale=True)``), is sent
once more when its connection broke **before any byte of an answer**
(:func:`broke_unanswered`): a disconnect with nothing of a status line read, or a reset or
broken pipe (on the write, or before the status line was complete — aiohttp keeps no
record of a few bytes of one, so a reset after "HTTP/1." counts as before). Not a
timeout (the venue may be acting on it), not a partial answer, never a call that starts
or resumes trading. A **read** (GET) goes again the same way, always: it changes nothing
at the venue, and a kill's re-read after the same quiet spell can meet the same race
(aiohttp's own retry of it may take another pooled connection as stale as the first:
``tests/venues/test_stale_resend.py``). The second request goes on a **fresh**
connection of its own (:func:`console.venues.kit.http_client.fresh_connector`, closed
after it), never another pooled one (they idled together), and waits for a pacer slot
like any call. Go's
net/http and urllib3 do the same for idempotent requests; aiohttp's own retry covers
idempotent HTTP methods only and may pick another stale pooled connection.

Whatever comes of it says so (the resend itself is in ``console/venues/kit/http.py``):
an answer carries ``Reply.resent`` (:func:`resent_note`; the control step adds it to
the outcome, so the journal records that two requests left,
``console/venues/kit/control.py``); no answer the second time either is a ``CallError``
that may have landed, its words saying it was sent twice (:func:`sent_twice`); a second
request the vendor's too-long wait kept unsent leaves the first's ``CallError``, its
words saying so (:func:`not_resent`).
"""

from __future__ import annotations

import errno

import aiohttp

from console.core.scrub import Scrub, cut_scrubbed

RESET = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})

FIRST_BROKE = "the first broke before any answer"


def broke_unanswered(exc: BaseException) -> bool:
    """Whether ``exc``, raised before the answer's status line and headers were read,
    says the connection broke with nothing of an answer: a clean disconnect with no part
    of a status line parsed, or a reset / broken pipe. Never a timeout."""
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return False
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return isinstance(exc.message, str)  # else the part of an answer it had read
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return True  # aiohttp's ClientConnectionResetError ("closing transport") too
    return isinstance(exc, aiohttp.ClientOSError) and exc.errno in RESET


def first_words(exc: BaseException, scrub: Scrub = str) -> str:
    """What happened to the first request, in a few words (no URL, no header), scrubbed
    before it is cut."""
    return cut_scrubbed(str(exc) or type(exc).__name__, 80, scrub)


def resent_note(first: str) -> str:
    """The words an outcome gains when the second request was answered."""
    return f"sent again on a fresh connection: {FIRST_BROKE} ({first})"


def sent_twice(first: str, second: str) -> str:
    """The words of a :class:`~console.venues.kit.http.CallError` when the second request
    got no answer either (``second``: what happened to it). It may have landed: the
    first may have."""
    return (
        f"{second}; sent twice: {FIRST_BROKE} ({first}), the second, on a fresh "
        "connection, got no answer either"
    )


def not_resent(first: str, why: str) -> str:
    """The words when the first broke before any answer and the second was not sent."""
    return f"connection broke: {first} (before any answer); not sent again: {why}"
