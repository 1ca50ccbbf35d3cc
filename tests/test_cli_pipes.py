"""``status --json | head``, ``audit | head``: a reader that leaves early ends the command
quietly, with its own exit code, never a BrokenPipeError traceback. Real processes, real
pipes: the reader closes its end of the pipe early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.config import write_profile_files
from console.core.journal import Journal
from console.core.journal_rows import Intent, new_op_id
from console.core.model import Action, ActionKind
from console.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = 5_000  # ~1 MB of audit lines: far more than a pipe holds, so the writer blocks


def start(*argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "console", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)  # fmt: skip


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def assert_quiet(err: str) -> None:
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored"):
        assert noise not in err, err


@pytest.fixture
def journal_profile(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[profiles.p]\nlabel = "P"\njournal = "journal.sqlite3"\n')
    journal = Journal(tmp_path / "journal.sqlite3", profile="p")
    stop = Action(ActionKind.STOP, {}, "pipe test")
    journal.intend_many(
        Intent(new_op_id(), None, "x3algo", f"algo-{i:05d}", f"grid-{i:05d}", stop)
        for i in range(ENTRIES)
    )
    journal.close()
    return path


@pytest.fixture
def profile_path(sim: SimServer, tmp_path: Path) -> Path:
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip


def test_audit_piped_to_head_exits_quietly_when_head_leaves(journal_profile: Path) -> None:
    proc = start("--config", str(journal_profile), "audit")
    assert proc.stdout is not None
    first = proc.stdout.readline()  # head -1
    proc.stdout.close()
    code, err = finish(proc)
    assert b"grid-" in first
    assert_quiet(err)
    assert code == 0


def test_audit_json_piped_to_a_reader_that_never_reads_exits_quietly(
    journal_profile: Path,
) -> None:
    proc = start("--config", str(journal_profile), "audit", "--json")
    assert proc.stdout is not None
    proc.stdout.close()
    code, err = finish(proc)
    assert_quiet(err)
    assert code == 0


def test_status_json_piped_to_head_exits_quietly_with_its_own_code(profile_path: Path) -> None:
    proc = start("--config", str(profile_path), "status", "--json")
    assert proc.stdout is not None
    proc.stdout.close()  # gone before the first target is printed
    code, err = finish(proc)
    assert_quiet(err)
    assert code == 0


def test_a_kill_whose_reader_left_still_halts_everything_and_says_so_by_its_code(
    profile_path: Path,
) -> None:
    proc = start("--config", str(profile_path), "kill", "--yes", "--json")
    assert proc.stdout is not None
    proc.stdout.close()
    code, err = finish(proc)
    assert_quiet(err)
    assert code == 14, err  # all halted; Joyride's by its answer only (it cannot be re-read)
    again = subprocess.run(
        [sys.executable, "-m", "console", "--config", str(profile_path), "status", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    states = {json.loads(line)["state"] for line in again.stdout.splitlines()}
    assert "running" not in states, states
