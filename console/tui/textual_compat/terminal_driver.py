"""Textual's terminal driver, made so the screen's loop never waits for its terminal.

The emergency stop runs on the screen's event loop. With Textual's ``LinuxDriver`` the
loop waited for the terminal in two ways, and a kill waited with it:

- **A terminal that stops taking output** — an SSH link stalled (a flaky VPN; TCP
  retries for minutes before it gives up), a terminal scrolled back and paused: the
  output thread blocks in its write, its queue (30 writes) fills, and the 31st write
  blocks the loop — every call, answer, deadline and journal row of the kill with it,
  until the link recovers (measured: a kill of 264 targets frozen at 210 answers for as
  long as the terminal was not read). :class:`_TerminalWriter` never makes the loop
  wait: past :data:`BACKLOG_BYTES` not yet written it drops whole writes (frames of the
  screen, never one cut in two) until the terminal has taken all it was given, then
  asks the app to paint the whole screen again — the operator sees the state as it is
  now, not minutes of stale frames. The writes that set the terminal's modes (the
  driver's start and stop) are never dropped.
- **A terminal that hangs up** (``core/hangup.py``): its reads and writes fail at once
  (EIO), a moment before the console's SIGHUP handler points them elsewhere. Textual's
  output thread died on the failed write (the loop then blocked as above), its input
  thread's failed read panicked the app (which exits and cancels its workers), and the
  hang-up's SIGCONT (the kernel sends one with it) made the driver start its screen
  again on a terminal that was gone (two more threads; termios calls failing inside a
  signal handler, raised wherever the main thread was; an exit that waited forever for
  an input thread reading it). Here a failed write is dropped (the thread lives on), a
  failed read ends reading until the app exits (EIO: the terminal is gone; EAGAIN: stdin
  is the pipe ``detach_terminal`` left there), and a SIGCONT with no terminal to resume
  on resumes nothing.

Why private: ``LinuxDriver._file`` and ``_writer_thread`` are the only way to give the
driver another output thread (Textual's is made inside ``start_application_mode``, with
a bounded queue); ``Driver._app`` and ``_loop`` are how a driver reaches its app from a
thread. Textual has no public hook for a terminal that stalls or hangs up.
Upstream: https://github.com/Textualize/textual/blob/main/src/textual/drivers/linux_driver.py
and ``_writer_thread.py`` beside it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import queue
import termios
import threading
from collections.abc import Callable
from typing import IO, Any, cast

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver

log = logging.getLogger(__name__)

BACKLOG_BYTES = 256 * 1024
"""Output given to the terminal and not yet taken past which the screen's frames are
dropped (then painted whole once it has caught up): ~10 full screens, ~2 s of a slow
link — an operator sees the present, not a queue of the past."""
STOP_S = 5.0
"""How long the driver's stop waits for its output thread (a stalled terminal would hold
the console's exit for as long as it stalls)."""


class _TerminalOut:
    """The terminal's output for the output thread: a write or flush that fails (the
    terminal hung up) is dropped, so the thread lives and keeps draining its queue."""

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


class _TerminalWriter(threading.Thread):
    """The output thread: ``write`` never waits (an unbounded queue, and frames dropped
    past :data:`BACKLOG_BYTES` until the terminal has caught up, then ``caught_up``)."""

    def __init__(self, file: _TerminalOut, caught_up: Callable[[], None]) -> None:
        super().__init__(daemon=True, name="textual-output")
        self._file = file
        self._caught_up = caught_up
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.pending = 0
        """Characters given and not yet written."""
        self.dropping = False
        self.keep_all = False
        """Set while the driver writes the terminal's modes: those are never dropped."""
        self.dropped = 0

    def write(self, text: str) -> None:
        with self._lock:
            behind = self.pending > 0 and self.pending + len(text) > BACKLOG_BYTES
            if not self.keep_all and (self.dropping or behind):  # (no log here: the
                self.dropping = True  # loop's thread, and a log may write to the terminal)
                self.dropped += 1
                return
            self.pending += len(text)
        self._queue.put(text)

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._file.fileno()

    def flush(self) -> None:
        """Nothing: the thread flushes whenever its queue runs empty."""

    def run(self) -> None:
        while (text := self._queue.get()) is not None:
            self._file.write(text)
            with self._lock:
                self.pending -= len(text)
                caught_up = self.dropping and self.pending == 0
                if caught_up:
                    self.dropping = False
            if self._queue.empty():
                self._file.flush()
            if caught_up:
                log.warning("the terminal took no output for a while: %d writes dropped; "
                            "painting it whole", self.dropped)  # fmt: skip
                self._caught_up()
        self._file.flush()

    def stop(self) -> None:
        self._queue.put(None)
        self.join(STOP_S)


class TerminalDriver(LinuxDriver):
    """``LinuxDriver`` whose output never makes the loop wait, and whose output and input
    survive a terminal that hung up."""

    def start_application_mode(self) -> None:
        super().start_application_mode()  # type: ignore[no-untyped-call]
        if self._file is None:
            return
        textual_writer = self._writer_thread
        if textual_writer is not None:  # what it was given (the modes) is written first
            textual_writer.stop()
        writer = _TerminalWriter(_TerminalOut(self._file), self._paint_whole)
        writer.start()
        self._writer_thread = cast(Any, writer)

    def stop_application_mode(self) -> None:
        writer = self._writer_thread
        if isinstance(writer, _TerminalWriter):
            writer.keep_all = True  # the terminal's modes restored: never dropped
        super().stop_application_mode()

    def _paint_whole(self) -> None:
        """From the output thread: the app paints the whole screen (frames were dropped),
        on the app's loop (the driver's ``_loop``)."""
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to paint
            self._loop.call_soon_threadsafe(self._app.refresh)

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
    safe as above; any other (headless, web) as it is."""
    return TerminalDriver if default is LinuxDriver else default
