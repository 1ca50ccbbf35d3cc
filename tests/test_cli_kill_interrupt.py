"""Ctrl-C during a CLI kill: the first says the kill goes on; a second abandons it with an
account of how far it got, exit 130 — never "trading-console: interrupted", exit 1, no
word of what was sent (session 23; fails on the code before).

A real process, real signals: x3algo holds the kill's stops (the venue read them and does
not answer), the test presses Ctrl-C once, waits for the kill to say it goes on, presses
again, and reads the account; the calls it abandoned are the journal's interrupted ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.cli import kill
from console.cli.kill_interrupt import CtrlC
from console.config import write_profile_files
from console.core.journal import Journal
from console.core.kill import KillPlan
from console.core.model import Action, ActionKind, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.sim.server import SimServer
from tests.support import default_signals, set_knobs, sim_counters

ROOT = Path(__file__).resolve().parents[1]


def lines_of(stream: object) -> queue.Queue[str]:
    """Every line ``stream`` gives, in a queue filled by a thread (a pipe read that blocks
    never holds the test)."""
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            found.put(line.decode())

    threading.Thread(target=pump, daemon=True).start()
    return found


def until(found: queue.Queue[str], seen: list[str], wanted: Callable[[str], bool]) -> None:
    """Read lines into ``seen`` until one is ``wanted`` (60 s at most, then fail)."""
    while True:
        line = found.get(timeout=60)
        seen.append(line)
        if wanted(line):
            return


def held_at_x3algo(sim: SimServer) -> None:
    """Until a stop reached x3algo, which holds it (asked every 50 ms, 60 s at most)."""
    for _ in range(1200):
        if sim_counters(sim, "x3algo").get("held"):
            return
        threading.Event().wait(0.05)
    raise AssertionError("no stop reached x3algo")


def test_a_second_ctrl_c_abandons_the_kill_and_says_how_far_it_got(
    sim: SimServer, tmp_path: Path
) -> None:
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "x3algo", hold_controls=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "console", "--config", str(path), "kill",
                             "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=default_signals)  # fmt: skip
    try:
        err = lines_of(proc.stderr)
        said: list[str] = []
        held_at_x3algo(sim)
        proc.send_signal(signal.SIGINT)
        until(err, said, lambda line: "Ctrl-C: the emergency stop goes on" in line)
        assert proc.poll() is None  # the first Ctrl-C ends nothing
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout=60)
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
        if proc.poll() is None:
            proc.kill()
    assert code == 130, (code, out, "".join(said))
    [account] = [line for line in out.splitlines() if line.startswith("ABANDONED: ")]
    interrupted = Journal(tmp_path / "journal.sqlite3", profile="sim").interrupted()
    planned = len(interrupted)
    assert planned > 0
    assert ("the emergency stop was abandoned by Ctrl-C after " in account
            and f" — 0 of {planned} answered, 0 verified halted; {planned} without an answer: "
            "nothing more was sent, and what was sent is journaled as interrupted calls"
            in account), account  # fmt: skip
    assert "NEXT: run the kill again" in out and "audit --interrupted --verify" in out
    assert "Traceback" not in "".join(said) and "interrupted\n" not in "".join(said)
    # The next kill names the calls left open, and the command that settles them for
    # this profile (it said `trading-console audit …`: another profile's, with --config).
    again = subprocess.run([sys.executable, "-m", "console", "--config", str(path), "kill",
                            "--yes"], capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert (f"OPEN CALLS: {planned} call(s) from earlier runs were cut short and still need "
            f"verification: trading-console --config {path} audit --interrupted --verify"
            in again.stdout), again.stdout  # fmt: skip


def test_ctrl_c_during_a_single_stop_says_where_the_call_is(sim: SimServer, tmp_path: Path) -> None:
    """A one-target stop whose call the venue holds: Ctrl-C ends it (exit 130, not 1, the
    code of an internal error) and says the call may be in the journal, open, and how to
    settle it."""
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    listed = subprocess.run([sys.executable, "-m", "console", "--config", str(path), "status",
                             "--json"], capture_output=True, text=True, env=env, check=True)  # fmt: skip
    algo = next(line.split('"id": "')[1].split('"')[0] for line in listed.stdout.splitlines()
                if '"raw_status": "active"' in line)  # fmt: skip
    set_knobs(sim, "x3algo", hold_controls=True)
    proc = subprocess.Popen([sys.executable, "-m", "console", "--config", str(path), "stop",
                             "x3algo", algo, "--yes"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=default_signals)  # fmt: skip
    try:
        held_at_x3algo(sim)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert (f"trading-console: interrupted by Ctrl-C; a call already sent is in the journal as "
            f"an interrupted call: `trading-console --config {path} audit --interrupted "
            "--verify` re-reads it") in err.decode(), err  # fmt: skip
    [open_call] = Journal(tmp_path / "journal.sqlite3", profile="sim").interrupted()
    assert open_call.target_id == algo


async def test_through_a_desk_a_second_ctrl_c_stops_following_the_hubs_kill(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A desk's kill runs at the hub: a second Ctrl-C ends this command's following, and
    the account says the kill goes on — never "nothing more was sent" of a kill the hub
    still runs, nor a NEXT that would start another."""
    made: list[CtrlC] = []
    reached = asyncio.Event()  # carry_out has reached its calls

    class Kept(CtrlC):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)
            reached.set()

    monkeypatch.setattr(kill, "CtrlC", Kept)
    never = asyncio.Event()

    async def dispatch(plan: Plan, progress: Callable[[ItemResult], None]) -> Report:
        await never.wait()  # the hub's kill, still running
        raise AssertionError("not reached")

    async def head(report: Report) -> str | None:
        return None

    item = PlanItem("x3algo", "a1", "algo 1", TargetKind.ALGORITHM, Action(ActionKind.STOP))
    kp = KillPlan(Plan((item,), "EMERGENCY STOP: everything", "kill"))
    run = kill.KillRun("DESK", "alice@desk-1", kp, False, 0.1, dispatch, head, at_hub=True)
    following = asyncio.create_task(
        kill.carry_out(run, argparse.Namespace(yes=True, json=False), None)
    )
    await reached.wait()
    made[0].pressed()
    made[0].pressed()
    assert await following == 130
    out, err = capsys.readouterr()
    assert "Ctrl-C again stops this command following it: the hub's kill goes on" in err
    [account] = [line for line in out.splitlines() if line.startswith("ABANDONED: ")]
    assert "this command stopped following the emergency stop after " in account
    assert "0 of 1 answered, 0 verified halted, 1 not yet answered: the hub's kill goes on" in (
        account
    )
    assert "NEXT:" not in out and "nothing more was sent" not in out
