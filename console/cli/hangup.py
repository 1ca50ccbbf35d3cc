"""A CLI command whose calls run when its terminal hangs up: they run to their end.

``trading-console kill`` over SSH, the connection drops: SIGHUP ended the command at
once, the calls not yet sent never went out and those sent were never journaled
(``core/hangup.py``). While a command's calls run (from the confirmation to its
report), :class:`SurviveHangup` takes SIGHUP: the output goes to /dev/null, a journal
note says what happened, and the command finishes as it would have — every call
answered, verified, journaled, its alerts sent — and exits with its own code (the
verdict, for whoever still reads it). Before the confirmation nothing was sent: SIGHUP
ends the command as before.
"""

from __future__ import annotations

import signal

from console.core.hangup import detach_terminal, note_hangup
from console.core.journal import Journal
from console.core.loop_signal import LoopSignal

AFTER = ("it runs to its end (answered, verified, journaled); what it prints goes nowhere: "
         "`trading-console audit` shows it")  # fmt: skip


class SurviveHangup:
    """A ``with`` guard, inside the running loop: SIGHUP detaches the terminal and notes it
    in ``journal`` (None: a desk's kill, journaled by its hub), once. The loop's handler,
    so the note is never written inside another journal write (a plain signal handler
    runs wherever the main thread is). A process that ignores SIGHUP (``nohup``) is left
    as it is."""

    def __init__(self, journal: Journal | None, running: str) -> None:
        self.journal = journal
        self.running = running
        self.hung_up = False
        self._sighup = LoopSignal(signal.SIGHUP, self.hangup, unless_ignored=True)

    def __enter__(self) -> SurviveHangup:
        self._sighup.take()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._sighup.give_back()

    def hangup(self) -> None:
        """The signal's handler (tests call it directly)."""
        if self.hung_up:
            return
        self.hung_up = True
        detach_terminal()
        if self.journal is not None:
            note_hangup(self.journal, self.running, AFTER)
