"""When each of a plan's calls may leave: after its intent is where the caller needs it.

The dispatcher journals every intent of a plan before any call leaves. Some callers need
more before a call goes: a desk's hub copies each intent to the desk's journal stream
first, so that a standby taking over knows of every call that may have been sent. Waiting
for *all* of a 600-target kill's intents to be stored there put ~20 ms between confirm
and the first call; a gate lets each call go once its own intent is stored, while the
rest are still on their way (docs/DESK.md, "The kill's path").

``Dispatcher.before_calls`` may return a :class:`CallGate`; a call whose intent is not
:meth:`~CallGate.ready` waits in :meth:`~CallGate.wait`, and one the gate will never let
through (:class:`CallBlocked`) ends *failed, not sent*, with the gate's reason.
"""

from __future__ import annotations

from typing import Protocol

from console.core.journal_rows import Intent


class CallBlocked(Exception):
    """This call may not leave (its intent never got where it had to): why, in words."""


class CallGate(Protocol):
    """Says when each call of the running plan may leave."""

    waits_for: str
    """What a call that waits here waits for, in words (the deadline's message)."""

    def ready(self, intent: Intent) -> bool:
        """May ``intent``'s call leave now? (Asked before every call: cheap.)"""
        ...

    async def wait(self, intent: Intent) -> None:
        """Until ``intent``'s call may leave; :class:`CallBlocked` when it never will."""
        ...
