"""The console's screen started without a terminal says so and starts nothing (exit 2).

``ssh host trading-console`` without ``-t``, a cron job: the screen drew its escape codes
into a pipe for as long as it ran, read no key and said nothing of why. A real process,
its stdin and stderr pipes; fails on the code before (it ran until killed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from console.config import write_profile_files
from console.sim.server import SimServer

ROOT = Path(__file__).resolve().parents[1]
WORDS = "the console's screen needs a terminal, and its stdin and stderr are not one"


def run(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("TEXTUAL_DRIVER", None)
    return subprocess.run([sys.executable, "-m", "console", *argv], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60, check=False)  # fmt: skip


def test_the_console_without_a_terminal_says_so_and_exits_2(sim: SimServer, tmp_path: Path) -> None:
    config = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                 venues=sim.venue_entries())  # fmt: skip
    done = run(tmp_path, "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert WORDS in done.stderr and "ssh -t HOST trading-console" in done.stderr
    assert done.stdout == ""  # no escape codes drawn into the pipe


def test_the_demo_without_a_terminal_starts_no_simulator(tmp_path: Path) -> None:
    done = run(tmp_path, "demo")
    assert done.returncode == 2, done.stderr
    assert WORDS in done.stderr
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("ready"))
