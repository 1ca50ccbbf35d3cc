"""How a kill reads a venue again after a failure: one rule for its planning read and
its verifying re-read.

A venue that says it is briefly in trouble (``FeedError.transient``: a 503 while it
restarts, a gateway with no backend, a refused connection) is read again — after 0.5 s,
1 s, then every 2 s — until ``read_retry_s`` (the profile's ``kill_read_retry``) after
the first read began, within the stage's own deadline. A venue whose answer will not
change (a refused key, a missing path, an unreadable shape) is not kept at: the planning
read tries it three times (one bad answer does not make a venue unreachable), the
re-read once. A venue just sent a kill's stops is as likely to answer its re-read 503
as its planning read: a single 503 left every target of it NOT VERIFIED.
"""

from __future__ import annotations

from console.core.ports import FeedError, Incomplete

BACKOFF_S = 0.5
BACKOFF_CAP_S = 2.0
READ_RETRY_S = 10.0
"""The default of ``kill_read_retry``: a restart's usual length, and short of what an
operator waits before acting on the venue's own console."""


def pause_after(tries: int) -> float:
    """The wait after the ``tries``-th failed read (1-based): 0.5, 1, 2, 2, … s."""
    return min(BACKOFF_S * 2.0 ** (tries - 1), BACKOFF_CAP_S)


def worth_trying_again(exc: BaseException) -> bool:
    """Did the venue say it is briefly in trouble? (A list read in part is an answer.)"""
    return isinstance(exc, FeedError) and not isinstance(exc, Incomplete) and exc.transient


def pause_before_next(
    exc: BaseException,
    tries: int,
    *,
    took_s: float,
    timeout_s: float,
    since_first_s: float,
    window_s: float,
    at_least: int = 1,
) -> float | None:
    """How long to wait before reading again after the ``tries``-th failed read
    (``exc``, which took ``took_s``), or None: no more reads. Never after a read that
    took its whole ``timeout_s`` (a venue that does not answer held whatever waited on
    it for every try: a hanging list, 16.5 s at planning's defaults); always while fewer
    than ``at_least`` reads were made; else only while the venue says it is briefly in
    trouble and the next read starts within ``window_s`` of the first."""
    if took_s >= timeout_s:
        return None
    pause = pause_after(tries)
    if tries < at_least:
        return pause
    if worth_trying_again(exc) and since_first_s + pause <= window_s:
        return pause
    return None


def tried(tries: int, seconds: float) -> str:
    """The words a failure gains when it was read more than once."""
    return f"tried {tries} times over {seconds:.1f} s"
