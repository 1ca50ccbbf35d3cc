"""End to end in a real terminal: the demo, a stop with keys only, then the CLI agrees.

tmux 100×30 runs ``trading-console demo``; the operator presses 2 (algorithms), X (stop)
and y (confirm) — no mouse; then ``trading-console --demo status --json`` from another
shell shows the algorithm stopped, and quitting the demo leaves no simulator behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import ROOT, TMUX, Tmux, isolated_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        TMUX is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
    ),
]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "console", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60, check=False, cwd=ROOT)  # fmt: skip


def sim_processes(state_dir: Path) -> list[str]:
    out = subprocess.run(
        ["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if "console sim" in line and str(state_dir) in line]


def test_stop_an_algorithm_with_keys_only_then_status_shows_it_stopped(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    term = Tmux(
        f"{sys.executable} -m console demo --seed 3", width=100, height=30, env=env, cwd=ROOT
    )
    try:
        term.wait_for(lambda s: "DEMO" in s and "x3algo" in s, what="the demo's header")
        term.keys("2")
        screen = term.wait_for(
            lambda s: re.search(r"ACTIVE", s) is not None, what="algorithms panel"
        )
        assert "Status" in screen
        # The cursor starts on the first row; move to the first ACTIVE algorithm.
        rows = [
            line
            for line in screen.splitlines()
            if re.search(r"\b(ACTIVE|STOPPED|PAUSED|DRAFT|ERROR)\b", line)
        ]
        first_active = next(i for i, line in enumerate(rows) if "ACTIVE" in line)
        term.keys(*["j"] * first_active)
        term.keys("X")
        modal = term.wait_for(
            lambda s: "Cancel" in s and "Stop algorithm" in s, what="the stop modal"
        )
        name = re.search(r"Stop algorithm (.+?) on x3algo", modal)
        assert name is not None
        term.keys("y")
        term.wait_for(lambda s: "verified" in s, timeout=30, what="the verified outcome")

        status = cli(env, "--demo", "status", "--json")
        assert status.returncode == 0, status.stderr
        rows_json = [json.loads(line) for line in status.stdout.splitlines()]
        algo = next(
            r for r in rows_json if r["kind"] == "algorithm" and r["name"] == name.group(1).strip()
        )
        assert algo["state"] == "stopped"
        assert algo["raw_status"] == "stopped"

        # The check can see the simulator (ps cut every line at pytest's COLUMNS: it
        # never could, and "none left" held whatever ran):
        assert sim_processes(tmp_path) != []
        term.keys("q")
        term.wait_for(lambda _s: term.pane_dead(), what="the demo to exit")
        assert sim_processes(tmp_path) == []
    finally:
        term.close()
