"""The console's output thread never makes the screen's loop wait for its terminal
(``textual_compat/terminal_driver.py``): a terminal that takes nothing costs dropped
frames, then one whole paint when it has caught up; a terminal that hung up costs
nothing. (In a real terminal: ``tests/e2e/test_kill_stalled_terminal.py``.)"""

from __future__ import annotations

import io
import threading

from console.tui.textual_compat.terminal_driver import (
    BACKLOG_BYTES,
    _TerminalOut,
    _TerminalWriter,
)

FRAME = "x" * 40_000


class Stalled(io.StringIO):
    """A terminal that takes nothing until ``resume`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.resume = threading.Event()
        self.taking = threading.Event()

    def write(self, text: str) -> int:
        self.taking.set()
        self.resume.wait(60)
        return super().write(text)


class HungUp(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")

    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def test_a_stalled_terminal_costs_dropped_frames_then_one_whole_paint() -> None:
    terminal = Stalled()
    paints: list[int] = []
    caught_up = threading.Event()
    writer = _TerminalWriter(_TerminalOut(terminal), lambda: (paints.append(1), caught_up.set()))
    writer.start()
    writer.write(FRAME)
    assert terminal.taking.wait(60)  # the thread is in its write, which does not return
    for _ in range(100):  # 4 MB for a terminal that takes nothing: every call returns
        writer.write(FRAME)
    assert writer.dropping and writer.pending <= BACKLOG_BYTES + len(FRAME)
    assert writer.dropped > 90
    writer.keep_all = True  # the terminal's modes: kept even now
    writer.write("\x1b[?1049l")
    writer.keep_all = False
    terminal.resume.set()
    assert caught_up.wait(60)
    writer.stop()
    assert paints == [1] and not writer.dropping
    assert terminal.getvalue().endswith("\x1b[?1049l")


def test_a_big_write_to_a_terminal_that_has_caught_up_is_never_dropped() -> None:
    terminal = io.StringIO()
    writer = _TerminalWriter(_TerminalOut(terminal), lambda: None)
    writer.start()
    writer.write("y" * (BACKLOG_BYTES * 2))  # a whole screen larger than the backlog
    writer.stop()
    assert len(terminal.getvalue()) == BACKLOG_BYTES * 2 and writer.dropped == 0


def test_a_terminal_that_hung_up_is_written_to_nowhere_and_the_thread_lives() -> None:
    out = _TerminalOut(HungUp())
    writer = _TerminalWriter(out, lambda: None)
    writer.start()
    for _ in range(100):  # Textual's thread died on the first; its 31st write blocked
        writer.write(FRAME)
    writer.stop()
    assert not writer.is_alive() and out.failed is not None and writer.pending == 0
