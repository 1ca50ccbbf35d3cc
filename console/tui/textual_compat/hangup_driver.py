"""Textual's terminal driver, made to outlive its terminal (``core/hangup.py``).

When the terminal hangs up, its reads and writes fail at once (EIO), a moment before the
console's SIGHUP handler points them elsewhere. In Textual's ``LinuxDriver`` either
failure ends the screen's loop, and with it a kill still sending:

- the output thread dies on a failed write; the app's next 30 writes fill its queue and
  the 31st blocks the event loop for good — the kill's calls with it;
- the input thread's failed read panics the app, which exits and cancels its workers;
- the hang-up's SIGCONT (the kernel sends one with it) makes the driver start its
  application mode again, on a terminal that is gone: two more threads, termios calls
  that fail inside a signal handler (raised wherever the main thread was), and an input
  thread the app's exit waited for forever.

:class:`HangupSafeDriver` drops output its terminal can no longer take (the file the
output thread writes to is wrapped: a write's ``OSError`` is dropped, never raised),
stops reading input once a read fails (EIO: the terminal is gone; EAGAIN: stdin is the
non-blocking pipe ``detach_terminal`` left there) until the app exits, and resumes
nothing on a SIGCONT when there is no terminal to resume on.

Why private: ``LinuxDriver._file`` is the only way to give its output thread another
file; Textual has no public hook for a terminal that hangs up. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/drivers/linux_driver.py
"""

from __future__ import annotations

import errno
import logging
import termios
from typing import IO, Any, cast

from textual.app import App
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

log = logging.getLogger(__name__)


class _TerminalOut:
    """The terminal's output for Textual's output thread: a write or flush that fails
    (the terminal hung up) is dropped, so the thread lives and keeps draining its queue."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return self._file.write(text)
        except OSError as exc:
            self._failed(exc)
            return len(text)

    def flush(self) -> None:
        try:
            self._file.flush()
        except OSError as exc:
            self._failed(exc)

    def fileno(self) -> int:
        return self._file.fileno()

    def _failed(self, exc: OSError) -> None:
        if self.failed is None:
            log.warning("the terminal takes no more output (%s): dropping it", exc)
        self.failed = exc


class HangupSafeDriver(LinuxDriver):
    """``LinuxDriver`` whose output and input survive a terminal that hung up."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        if self._file is not None:  # the output thread writes and flushes; nothing else
            self._file = cast(Any, _TerminalOut(self._file))

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError as exc:
            if exc.errno not in (errno.EIO, errno.EAGAIN):
                raise
            log.warning("the terminal gives no more input (%s): no key will come", exc)
            self.exit_event.wait()  # until the app exits

    def resume_application_mode(self) -> None:
        if not _terminal_at(self.fileno):
            log.warning("SIGCONT without a terminal (a hang-up sends one): nothing to resume")
            return
        super().resume_application_mode()


def _terminal_at(fd: int) -> bool:
    """Is ``fd`` a terminal that still answers (a hung-up one fails with EIO)?"""
    try:
        termios.tcgetattr(fd)
    except termios.error:
        return False
    return True


def driver_class(default: type[Driver]) -> type[Driver]:
    """The driver the app runs with: ``default`` (Textual's choice), the terminal's made
    hang-up safe; any other (headless, web) as it is."""
    return HangupSafeDriver if default is LinuxDriver else default
