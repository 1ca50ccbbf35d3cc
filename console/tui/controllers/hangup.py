"""The screen's terminal hangs up (SIGHUP): what was sending finishes, then the console ends.

An operator over SSH confirms the emergency stop; the connection drops. The kill must
not die with it (``core/hangup.py``): its calls are sent, answered, verified and
journaled, the kill's report alert goes out, and only then does the console exit
(:data:`~console.core.hangup.EXIT_HANGUP`). Nothing was running: it exits at once, as a
quit would. A plan confirmed and still waiting for the dispatcher counts as running
(it was confirmed). What ends with the console, as on a quit: the sticky watch
after a kill, and automation (a headless runner may take over); the journal's note says
so. Textual's own reads and writes of the lost terminal are made safe by the driver
(``textual_compat/terminal_driver.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App

from console.core.hangup import EXIT_HANGUP, detach_terminal, note_hangup
from console.core.loop_signal import LoopSignal
from console.core.ports import ControlPort, StateSource

if TYPE_CHECKING:
    from console.tui.controllers.kill import KillController

log = logging.getLogger(__name__)

WAIT_S = 0.05
"""How often the console looks whether the plan it runs has ended (the dispatcher has no
"done" event to await)."""
ALERTS_S = 10.0
"""How long the kill's alerts still being sent get before the console exits."""
ALERTS = "alerts"
"""The worker group the alerts are sent in (``AutomationController.send``)."""


class HangupController:
    """SIGHUP: finish what is sending (journaled, alerted), then exit with 129."""

    def __init__(self, app: App[None], state: StateSource, control: ControlPort,
                 kill: KillController) -> None:  # fmt: skip
        self.app = app
        self.state = state
        self.control = control
        self.kill = kill
        self.hung_up = False
        self.detach: Callable[[], None] = partial(detach_terminal, stdin=True)
        """Points the process's terminal elsewhere (tests record it instead)."""
        self._sighup = LoopSignal(signal.SIGHUP, self.hangup, unless_ignored=True)

    def install(self) -> None:
        """Take SIGHUP for the loop (the main thread only: an app run by a test elsewhere
        keeps the default; a process that ignores it, under ``nohup``, too)."""
        self._sighup.take()

    def remove(self) -> None:
        self._sighup.give_back()

    def running(self) -> str | None:
        """What is sending now, in words (None: nothing)."""
        report = self.control.running
        if report is not None:
            return f"«{report.plan.title}» ({report.done}/{len(report.plan)} answered)"
        run = self.kill.run
        if run is not None and self.kill.active:
            return f"the emergency stop «{run.kill.plan.title}»"
        return None

    def hangup(self) -> None:
        """The signal's handler (tests call it directly)."""
        if self.hung_up:
            return
        self.hung_up = True
        self.detach()
        running = self.running()
        if running is None:
            log.warning("the terminal hung up: nothing was sending; the console ends")
            self._note_watch_ends()
            self.app.exit(return_code=EXIT_HANGUP)
            return
        after = (
            "it runs to its end (answered, verified, journaled), then the console "
            "exits as on a quit: a sticky watch and the console's automation end with it"
        )
        log.warning("the terminal hung up while %s ran: %s", running, after)
        note_hangup(self.state.journal, running, after)
        self.app.run_worker(self._exit_when_done(), name="hangup", group="hangup",
                            exclusive=True, exit_on_error=False)  # fmt: skip

    def _note_watch_ends(self) -> None:
        """The sticky watch after a kill ends with the console: the journal says so (a
        quit asks first; a hang-up cannot)."""
        keeper = self.kill.watch
        if keeper is None or not keeper.active or not keeper.watch.keys:
            return
        left = keeper.remaining_s()
        note_hangup(self.state.journal, f"the sticky watch of {len(keeper.watch.keys)} halted "
                    f"target(s) after the emergency stop ({left:.0f} s left)",
                    "it ends with the console; nothing catches a revival now")  # fmt: skip

    async def _exit_when_done(self) -> None:
        try:
            while self.running() is not None:  # noqa: ASYNC110 (no "done" event to await)
                await asyncio.sleep(WAIT_S)
            alerts = [w for w in self.app.workers if w.group == ALERTS and not w.is_finished]
            if alerts:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ALERTS_S):
                        await asyncio.gather(*(w.wait() for w in alerts), return_exceptions=True)
            log.warning("the terminal hung up: what ran has ended; the console ends")
        finally:
            self.app.exit(return_code=EXIT_HANGUP)
