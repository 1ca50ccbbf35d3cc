"""The terminal of a CLI kill or stop hangs up (SIGHUP) while its calls run: they run to
their end — answered, verified, journaled — and the command exits with its own verdict.
It used to die at once: the calls never answered were left open in the journal (a kill's
not yet sent never went out). A real process and the real signal, x3algo holding the
calls until the hang-up was taken. Fails on the code before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from console.config import write_profile_files
from console.core.hangup import HANGUP_NOTE
from console.core.journal import Journal
from console.sim.server import SimServer
from tests.support import default_signals, journal_notes, set_knobs
from tests.test_cli_kill_interrupt import held_at_x3algo

ROOT = Path(__file__).resolve().parents[1]


def hung_up_mid_call(sim: SimServer, tmp_path: Path, *command: str) -> tuple[int, Journal]:
    """Run ``command`` against x3algo holding its calls, hang its terminal up once a call
    is held, let x3algo answer once the hang-up is noted; its exit code and journal."""
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    config = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                 venues=venues)  # fmt: skip
    journal = tmp_path / "journal.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "console", "--config", str(config), *command]
    if command[0] == "stop":  # the first active algorithm, as `status` lists it
        listed = subprocess.run([*argv[:5], "status", "--json"], capture_output=True,
                                text=True, env=env, check=True)  # fmt: skip
        algo = next(line.split('"id": "')[1].split('"')[0] for line in listed.stdout.splitlines()
                    if '"raw_status": "active"' in line)  # fmt: skip
        argv.insert(-1, algo)
    set_knobs(sim, "x3algo", hold_controls=True)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=default_signals)  # fmt: skip
    try:
        held_at_x3algo(sim)
        proc.send_signal(signal.SIGHUP)
        for _ in range(1200):  # the note, or the process gone (50 ms apart, 60 s at most)
            if proc.poll() is not None or journal_notes(journal, HANGUP_NOTE):
                break
            threading.Event().wait(0.05)
        assert proc.poll() is None, "the command died with its terminal, its call held"
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
        code = proc.wait(timeout=60)
    return code, Journal(journal, profile="sim")


def test_a_kill_runs_to_its_end_when_its_terminal_hangs_up(sim: SimServer, tmp_path: Path) -> None:
    code, journal = hung_up_mid_call(sim, tmp_path, "kill", "--yes")
    assert code == 0  # all halted, verified: the kill's own verdict
    assert journal.interrupted() == []
    intents = journal.entries(kind="intent")
    outcomes = {e.op_id for e in journal.entries(kind="outcome")}
    assert len(intents) > 1 and all(e.op_id in outcomes for e in intents)
    [note] = [e for e in journal.entries(kind="note") if e.action == HANGUP_NOTE]
    assert note.reason is not None and note.reason.startswith(
        "the terminal hung up (SIGHUP) while the emergency stop «"
    )
    assert "it runs to its end (answered, verified, journaled)" in note.reason


def test_a_stop_runs_to_its_end_when_its_terminal_hangs_up(sim: SimServer, tmp_path: Path) -> None:
    code, journal = hung_up_mid_call(sim, tmp_path, "stop", "x3algo", "--yes")
    assert code == 0
    assert journal.interrupted() == []
    [intent] = journal.entries(kind="intent")
    assert [e.op_id for e in journal.entries(kind="outcome")] == [intent.op_id]
