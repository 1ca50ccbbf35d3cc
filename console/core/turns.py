"""Whether a call of a running plan is still waiting for its turn or has left for its venue.

A venue's calls are bounded by the dispatch deadline (docs/EMERGENCY.md, "The deadline
model"). Past it, a call still waiting for its turn — behind the venue's pacer or a
per-key limit — never reached the venue: it is *failed*, "not sent". A call that left
may have landed: it is *uncertain* and the re-read decides. Only the venue code knows
when its request leaves, so it wraps each such wait in :func:`waiting_turn`; the
dispatcher gives every call a :class:`Turn` (:func:`begin_call`) and reads it at the
deadline. A call whose venue code says nothing counts as sent (uncertain), so a venue
that does not say can never make the report claim "not sent" for a call that left.
Core and the venue kit both import this module; it imports neither.
"""

from __future__ import annotations

from contextvars import ContextVar


class Turn:
    """One call's place: ``waiting`` while its venue code holds it before sending;
    ``left`` once a wait ended and the request went (a later wait — a re-read settling
    the call behind the same pacer — never makes a sent call "not sent")."""

    __slots__ = ("landed_maybe", "left", "refusals", "waiting")

    def __init__(self) -> None:
        self.waiting = False
        self.left = False
        self.refusals = 0  # its requests the venue refused (429) before it went again
        self.landed_maybe = False  # a request of it had no usable answer (may_have_landed)


_current: ContextVar[Turn | None] = ContextVar("console_call_turn", default=None)


def begin_call() -> Turn:
    """A new :class:`Turn` for the call about to run in this task (the dispatcher's)."""
    turn = Turn()
    _current.set(turn)
    return turn


class waiting_turn:
    """Around a wait before a request leaves (a pacer, a semaphore): while inside — and
    after the wait ended by an exception, such as the deadline's cancellation, which
    unwinds it before the dispatcher looks — the call counts as never sent. Outside a
    dispatched call (a feed's list read) it does nothing.

    A class rather than a generator-based context manager: every request of a kill
    passes through one, and this costs a third as much."""

    __slots__ = ("_turn",)

    def __enter__(self) -> None:
        turn = _current.get()
        if turn is None or turn.left:
            self._turn = None
            return
        turn.waiting = True
        self._turn = turn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        turn = self._turn
        if turn is None or exc_type is not None:
            return  # an exception (the deadline's cancellation) leaves it waiting: never sent
        turn.waiting = False
        turn.left = True  # its request goes now: whatever waits after, it may have landed


def refused() -> None:
    """Every request the current call made so far was refused (a 429: not acted on) and
    it will go again: until its next request leaves it counts as never sent, and as
    waiting — a dispatch deadline passing meanwhile reports it *failed, not sent*, not
    *uncertain*. Outside a dispatched call it does nothing."""
    turn = _current.get()
    if turn is None:
        return
    turn.refusals += 1
    if not turn.landed_maybe:  # an earlier request may have landed: it stays "sent"
        turn.left = False
        turn.waiting = True


def may_have_landed() -> None:
    """A request of the current call had no usable answer: it may have landed, so the
    call never counts as "not sent" again, whatever its later requests meet (a second
    request refused with 429 after a first that timed out was reported *failed, not
    sent* at the deadline — the first may have stopped it)."""
    turn = _current.get()
    if turn is not None:
        turn.landed_maybe = True
