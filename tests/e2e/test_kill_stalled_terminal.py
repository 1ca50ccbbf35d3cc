"""The terminal stops taking output in the middle of an emergency stop (an SSH link
stalled: TCP retries for minutes before it gives up): the kill goes on, and the screen
shows the present once the terminal takes output again.

A real pseudo-terminal runs the console against the simulator; the operator presses K,
types the label and Enter; x3algo holds the stops. Then the test stops reading the
terminal and resizes it (each size a whole new screen to write), and x3algo answers.
With Textual's own output thread the screen's loop blocked on its 31st write to a
terminal that took nothing — every answer, deadline and journal row of the kill with it,
for as long as the link stalled (measured: a kill frozen with 54 of 264 targets
unanswered for 75 s, then for as long as nothing read). Now every call is answered,
verified and journaled while nothing reads the terminal; read again, it is painted whole
(ALL HALTED). Fails on the code before.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from console.config import write_profile_files
from console.core.journal import Journal
from console.sim.server import SimServer
from tests.e2e.tmux import ROOT, isolated_env
from tests.support import set_knobs
from tests.test_cli_kill_interrupt import held_at_x3algo

ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


class Terminal:
    """A pseudo-terminal the console runs in, read by a thread while ``reading`` is set."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.size(120, 32)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=ROOT, start_new_session=True)  # fmt: skip
        os.close(slave)
        self.text = ""
        self.reading = threading.Event()
        self.reading.set()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            self.reading.wait()
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready or not self.reading.is_set():
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            with self._lock:
                self.text += ESCAPES.sub("", data.decode(errors="replace"))

    def size(self, columns: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def resize(self, columns: int, rows: int) -> None:
        self.size(columns, rows)
        self.proc.send_signal(signal.SIGWINCH)  # (no controlling terminal to send it)

    def keys(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for(self, words: str, what: str, *, since: int = 0) -> int:
        """Until ``words`` is on screen (after ``since``): where it ends."""
        found = until(lambda: self._find(words, since) >= 0, what)
        return found

    def _find(self, words: str, since: int) -> int:
        with self._lock:
            at = self.text.find(words, since)
            return at + len(words) if at >= 0 else -1

    @property
    def written(self) -> int:
        with self._lock:
            return len(self.text)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.reading.set()  # its last screen must be taken for it to end
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)


def until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while not (found := condition()) or found == -1:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval of the condition, not a synchronisation sleep
    return int(found)


def settled(journal: Journal) -> bool:
    """Every intent answered and verified (outcome and verify rows)."""
    intents = {e.op_id for e in journal.entries(kind="intent")}
    answered = {e.op_id for e in journal.entries(kind="outcome")}
    return bool(intents) and intents <= answered and len(journal.entries(kind="verify")) > 0


def test_a_kill_goes_on_while_its_terminal_takes_no_output(sim: SimServer, tmp_path: Path) -> None:
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    config = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                 venues=venues)  # fmt: skip
    env = {**os.environ, **isolated_env(tmp_path), "TERM": "xterm-256color"}
    for sized in ("COLUMNS", "LINES"):  # pytest's: the terminal's size must win
        env.pop(sized, None)
    term = Terminal([sys.executable, "-m", "console", "--config", str(config)], env)
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    try:
        term.wait_for("x3algo", "the console")
        set_knobs(sim, "x3algo", hold_controls=True)
        term.keys("K")
        term.wait_for("label SIM", "the kill modal")
        term.keys("SIM\r")
        held_at_x3algo(sim)
        term.reading.clear()  # the link stalls: nothing takes the console's output
        for n in range(40):  # each size a whole screen to write (~40 KB), none taken
            term.resize(200 + n % 2 * 40, 60 + n % 2 * 10)
            time.sleep(0.05)  # one size at a time, as a hand drags the window: this paces
            # what the test does; it waits for nothing the console does
        set_knobs(sim, "x3algo", hold_controls=False)
        until(lambda: settled(journal), "the kill answered and verified, its terminal unread")
        assert journal.interrupted() == []
        mark = term.written
        term.reading.set()  # the link is back: the screen shows the present
        term.wait_for("ALL HALTED", "the kill's end painted", since=mark)
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
        term.close()
