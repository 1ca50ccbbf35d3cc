"""The terminal goes away in the middle of an emergency stop: the kill runs to its end.

tmux runs the console against the simulator; the operator presses K, types the label
and Enter; x3algo holds the stops (read, not answered). Then tmux's server is killed —
the terminal an SSH drop takes away — and the console gets SIGHUP. It used to die of
it at once: the calls not yet answered were never journaled (interrupted, open), and
those not yet sent never went out. Now the journal says the terminal hung up, the kill
goes on; when x3algo answers, every call is answered, verified and journaled, and the
console exits by itself. Fails on the code before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from console.config import write_profile_files
from console.core.hangup import HANGUP_NOTE
from console.core.journal import Journal
from console.sim.server import SimServer
from tests.e2e.tmux import ROOT, TMUX, Tmux, isolated_env, processes_naming
from tests.support import journal_notes, set_knobs, sim_counters

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        TMUX is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
    ),
]


def hangup_notes(journal: Path) -> int:
    return journal_notes(journal, HANGUP_NOTE)


def until(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval of the condition, not a synchronisation sleep


def test_a_kill_survives_the_terminal_going_away(sim: SimServer, tmp_path: Path) -> None:
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    config = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                 venues=venues)  # fmt: skip
    journal = tmp_path / "journal.sqlite3"
    term = Tmux(f"{sys.executable} -m console --config {config}", width=120, height=32,
                env=isolated_env(tmp_path), cwd=ROOT)  # fmt: skip
    try:
        term.wait_for(lambda s: "x3algo" in s, timeout=60, what="the console")
        term.keys("2")
        term.wait_for(lambda s: "ACTIVE" in s, what="the algorithms")
        set_knobs(sim, "x3algo", hold_controls=True)
        term.keys("K")
        term.wait_for(lambda s: "label SIM" in s, what="the kill modal")
        term.keys("SIM", "Enter")
        until(lambda: sim_counters(sim, "x3algo").get("held"), "a stop held at x3algo")
        assert processes_naming(config)
    finally:
        term.close()  # the terminal goes away: SIGHUP
    try:
        # The console either took the hang-up (and says so in the journal) or died of it.
        until(lambda: hangup_notes(journal) or not processes_naming(config), "the hang-up")
        assert processes_naming(config), "the console died with its terminal, mid-kill"
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
    until(lambda: not processes_naming(config), "the console to exit after the kill")
    done = Journal(journal, profile="sim")
    assert done.interrupted() == []  # every call answered and journaled
    intents = [e for e in done.entries(kind="intent") if e.venue == "x3algo"]
    outcomes = {e.op_id for e in done.entries(kind="outcome")}
    assert intents and all(e.op_id in outcomes for e in intents)
    assert hangup_notes(journal) == 1


def test_with_nothing_sending_the_console_ends_with_its_terminal(
    sim: SimServer, tmp_path: Path
) -> None:
    """No plan under way: the hang-up ends the console at once (Textual's driver started
    its screen again on the hang-up's SIGCONT, and its exit then waited forever for an
    input thread reading a terminal that was gone)."""
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    config = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                 venues=venues)  # fmt: skip
    term = Tmux(f"{sys.executable} -m console --config {config}", width=120, height=32,
                env=isolated_env(tmp_path), cwd=ROOT)  # fmt: skip
    try:
        term.wait_for(lambda s: "x3algo" in s, timeout=60, what="the console")
        assert processes_naming(config)
    finally:
        term.close()
    until(lambda: not processes_naming(config), "the console to end with its terminal")
    assert hangup_notes(tmp_path / "journal.sqlite3") == 0
