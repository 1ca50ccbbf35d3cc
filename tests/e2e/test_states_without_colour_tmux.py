"""End to end in a real terminal without colour: every state still reads in words.

The simulator (seed 3) runs in the background; the console runs in tmux, once with
``TERM=screen`` (8/16 colours, no 256) and once with ``NO_COLOR=1``. The simulator is
then made to show each state that needs attention — a 55-tech EMERGENCY (its admin
command), PipAI down until its data is stale (the ``/_sim/knobs`` down knob and its
stream dropped, with ``stale_after = 3`` in the profile) — and the test reads ARMED, EMERGENCY, STOPPED,
PAUSED, UNKNOWN and STALE in ``tmux capture-pane -p``: plain text, so no colour helps.
It also reads the pane's escape codes: no 256- or 24-bit colour under ``TERM=screen``,
and no colour at all under ``NO_COLOR``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.tmux import ROOT, TMUX, Tmux, isolated_env

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        TMUX is None, reason="tmux is not installed (CI installs it: apt-get install tmux)"
    ),
]

TERMINALS = {
    "TERM=screen": {"TERM": "screen", "COLORTERM": ""},
    "NO_COLOR=1": {"NO_COLOR": "1"},
}
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@contextmanager
def simulator(directory: Path, env: dict[str, str]) -> Iterator[Path]:
    """``trading-console sim --seed 3 --still`` (no motion: the states stay) in the background."""
    ready = directory / "ready"
    cmd = [sys.executable, "-m", "console", "sim", "--seed", "3", "--still", "--write-config",
           str(directory), "--ready-file", str(ready), "--exit-on-stdin-eof"]  # fmt: skip
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env={**os.environ, **env}, cwd=ROOT)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():  # polls a condition (the ready file), with a deadline
            assert child.poll() is None, "the simulator exited early"
            assert time.monotonic() < deadline, "the simulator did not start within 30 s"
            time.sleep(0.05)
        yield directory / "config.toml"
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the simulator exits when its stdin closes
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def stale_after(config: Path, seconds: int) -> None:
    """Make the profile call data stale after ``seconds`` (30 s by default)."""
    text = config.read_text()
    header = text.split("\n", 3)[2]  # the [profiles.<name>] line the simulator writes
    assert header.startswith("[profiles."), text
    config.write_text(text.replace(header, f"{header}\nstale_after = {seconds}", 1))


def sim_root(config: Path, api: str) -> str:
    """Where the simulator of ``api`` serves ``/_sim/...`` (its port's root)."""
    profile = next(iter(tomllib.loads(config.read_text())["profiles"].values()))
    url = urlsplit(next(v["base_url"] for v in profile["venues"] if v["api"] == api))
    return f"{url.scheme}://{url.netloc}"


def post(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200, answer.read()


def words(*wanted: str) -> Callable[[str], bool]:
    """All of ``wanted`` on screen, each as a whole word (not inside a longer one)."""
    return lambda screen: all(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", screen) for w in wanted)


def colour_codes(screen: str) -> list[str]:
    """Every SGR parameter in the pane that sets a foreground or background colour."""
    codes: list[str] = []
    for match in SGR.finditer(screen):
        params = match.group(1).split(";")
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("38", "48"):  # extended colour: 5;N or 2;R;G;B
                codes.append(";".join(params[i : i + (3 if params[i + 1] == "5" else 5)]))
                i += 3 if params[i + 1] == "5" else 5
                continue
            if p.isdigit() and (30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 107):
                codes.append(p)
            i += 1
    return codes


@pytest.mark.parametrize("terminal", list(TERMINALS))
def test_every_state_reads_in_words_without_colour(tmp_path: Path, terminal: str) -> None:
    env = {**isolated_env(tmp_path), **TERMINALS[terminal]}
    with simulator(tmp_path / "sim", env) as config:
        stale_after(config, 3)
        term = Tmux(f"{sys.executable} -m console --config {config}", width=120, height=30,
                    env=env, cwd=ROOT)  # fmt: skip
        try:
            term.wait_for(words("ARMED", "pipai"), what="the header: ARMED (not read-only)")
            # Seed 3, still: 7 of FinRadar's 12 snipers are STOPPED, and PipAI's first
            # strategies by name include PAUSED ones: on screen without sorting or filtering.
            term.keys("5")
            term.wait_for(words("STOPPED", "slots"), what="stopped snipers")
            term.keys("3")
            term.wait_for(words("PAUSED", "DEPLOYED"), what="paused strategies")
            term.keys("4")
            term.wait_for(words("UNKNOWN"), what="Joyride's unknown pause state")

            post(sim_root(config, "55tech") + "/_sim/admin/emergency",
                 {"active": True, "reason": "e2e drill"})  # fmt: skip
            term.wait_for(words("EMERGENCY"), what="the 55-tech emergency banner")

            pipai = sim_root(config, "pipai")
            post(pipai + "/_sim/knobs", {"down": True})  # REST 503, new streams refused
            post(pipai + "/_sim/drop-websockets", {})  # and the open stream goes
            term.keys("3")
            screen = term.wait_for(words("STALE", "UNKNOWN", "DOWN"), what="PipAI stale")
            assert "pipai" in screen

            codes = colour_codes(term.screen(escapes=True))
            if terminal == "NO_COLOR=1":
                assert codes == [], f"colour under NO_COLOR: {sorted(set(codes))}"
            else:
                extended = [c for c in codes if c.startswith(("38", "48"))]
                assert extended == [], f"256/24-bit colour under TERM=screen: {extended[:5]}"
                assert codes, "TERM=screen still has its 16 colours"
        finally:
            term.keys("q")
            term.close()
