"""A signal taken for the running loop while something runs, then given back.

The CLI's Ctrl-C during a kill, a command's hang-up and the screen's hang-up each take a
signal for the event loop (its handler runs on the loop, never inside other code the
main thread was running — a journal write) and give it back after. Written three ways,
they differed in what they gave back: asyncio's ``remove_signal_handler`` leaves the
signal's default, not the handler it replaced (the demo desk's own hang-up handler, which
stops its NATS server, was lost once the screen had run).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from typing import Any


class LoopSignal:
    """``handler`` for ``sig`` on the running loop, from :meth:`take` to :meth:`give_back`.

    Only in the main thread (a loop run elsewhere — the tests run the CLI and the app
    there — keeps the signal as it is), and with ``unless_ignored`` not where the process
    ignores the signal (``nohup``: the loss of a terminal is no signal there). Given back,
    the handler it replaced is restored."""

    def __init__(
        self, sig: signal.Signals, handler: Callable[[], None], *, unless_ignored: bool = False
    ) -> None:
        self.sig = sig
        self.handler = handler
        self.unless_ignored = unless_ignored
        self.taken = False
        self._previous: Any = None

    def take(self) -> bool:
        """Take the signal (False: left as it is, see the class)."""
        if self.taken or threading.current_thread() is not threading.main_thread():
            return self.taken
        previous = signal.getsignal(self.sig)
        if self.unless_ignored and previous is signal.SIG_IGN:
            return False
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(self.sig, self.handler)
            self._previous, self.taken = previous, True
        return self.taken

    def give_back(self) -> None:
        """The signal's handler from before :meth:`take` again."""
        if not self.taken:
            return
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(self.sig)
        with contextlib.suppress(TypeError, ValueError):
            signal.signal(self.sig, self._previous)
        self.taken = False
