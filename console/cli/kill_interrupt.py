"""Ctrl-C during a CLI kill: the first says the kill goes on, the second abandons it with
an account of how far it got.

An emergency stop cut short by a habitual Ctrl-C printed ``trading-console: interrupted``
and exit 1 ("unexpected internal error"): no word of what was sent, answered or verified,
no report, at the moment the operator most needs one. A kill is not a command to drop on
the first key: the calls already sent must be answered, verified and journaled. So the
first Ctrl-C says so and the kill goes on; a second abandons it — nothing more is sent,
and the report says how many of the planned targets were answered and verified, that
the rest (sent or not) are journaled as interrupted calls, and how to settle them
(``audit --interrupted --verify`` re-reads each; a new kill plans from fresh reads). Exit
130, as a shell reports a command ended by SIGINT. Only while the calls run: before
them (reading, the label to confirm) a Ctrl-C ends the command as before (nothing sent).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from console.core.loop_signal import LoopSignal
from console.core.scrub import printable

EXIT_ABANDONED = 130  # 128 + SIGINT: the kill was abandoned by a second Ctrl-C


class CtrlC:
    """SIGINT while a kill's calls run: once, a warning; twice, ``abandon()``."""

    def __init__(self, label: str, abandon: Callable[[], None], *, at_hub: bool = False) -> None:
        self.label = label
        self._abandon = abandon
        self._again = (  # what a second Ctrl-C does
            "stops this command following it: the hub's kill goes on"
            if at_hub
            else "abandons it: nothing more is sent, what was sent is journaled as "
            "interrupted calls"
        )
        self.presses = 0
        self._sigint = LoopSignal(signal.SIGINT, self.pressed)

    @property
    def abandoned(self) -> bool:
        return self.presses >= 2

    def install(self) -> None:
        """Take SIGINT for the loop (the main thread only: a kill run elsewhere, as the
        tests run the CLI, keeps the default)."""
        self._sigint.take()

    def remove(self) -> None:
        self._sigint.give_back()

    def pressed(self) -> None:
        """One Ctrl-C (the signal handler; tests call it directly)."""
        self.presses += 1
        if self.presses == 1:
            _say(f"[{self.label}] Ctrl-C: the emergency stop goes on — the calls sent must be "
                 f"answered, verified and journaled. Ctrl-C again {self._again}.")  # fmt: skip
        elif self.presses == 2:
            _say(f"[{self.label}] Ctrl-C again: it {self._again}.")
            self._abandon()


def _say(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)
