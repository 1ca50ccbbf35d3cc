"""``trading-console automate`` as a real process against the simulator: a schedule a
few seconds ahead stops exactly its scope (read back from the simulator), a loopback
webhook gets the report without the secret in its URL, a second runner is refused, and
SIGTERM ends it with exit 0. Every wait is on an event (a log line, a webhook body, the
process's exit), bounded by a timeout. Also ``heartbeat``, ``alert-test`` and
``automation`` in process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.journal import Journal
from console.core.operator import Operator
from console.sim.server import SimServer
from tests.automation.support import Webhook, make_session, webhook
from tests.support import default_signals, kill_if_running, set_knobs, stopped_by

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "tok-s3cr3t-7f1e"  # in the webhook's URL: the secret no alert may carry
SCOPE = {"venue": "x3algo", "name": "*mean reversion*"}
LEAD_S = 10  # the schedule's lead over the process start (imports, the first read: ~2 s on a loaded CI machine)


def write_profile(
    sim: SimServer,
    folder: Path,
    hook: Webhook,
    venues: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Path:
    path = write_profile_files(folder, profile="sim", label="SIM", color="warning",
                               venues=venues or sim.venue_entries(), extra=extra)  # fmt: skip
    secrets = folder / "secrets.toml"
    with secrets.open("a") as f:
        f.write(f'[alerts]\nhook = "{hook.url(TOKEN)}"\n')
    text = path.read_text() + '\n[profiles.sim.alerts]\nurls = ["secret:alerts.hook"]\n'
    path.write_text(text)
    return path


def cron_at(at: datetime) -> str:
    """A cron with seconds (the sixth field) for exactly ``at`` (UTC)."""
    return f"{at.minute} {at.hour} {at.day} {at.month} * {at.second}"


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return {**clean, "NO_PROXY": "127.0.0.1,localhost", "PYTHONPATH": str(ROOT)}


class Output:
    """A process's stderr, line by line, as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._stream = stream
        self._more = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while line := await self._stream.readline():
            self.lines.append(line.decode().rstrip("\n"))
            self._more.set()
        self._more.set()

    async def wait_for(self, match: Callable[[str], bool], timeout: float) -> str:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if match(line):
                        return line
                seen = len(self.lines)
                if self.task.done():
                    raise AssertionError("the process ended first:\n" + "\n".join(self.lines))
                self._more.clear()
                await self._more.wait()


async def tc(*argv: str, stderr: int = asyncio.subprocess.PIPE) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", *argv, stdout=asyncio.subprocess.PIPE, stderr=stderr,
        env=env(), preexec_fn=default_signals,
    )  # fmt: skip


async def wait_for_body(hook: Webhook, title: str, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            found = [b for b in hook.bodies if title in str(b.get("title"))]
            if found:
                return found[0]
            await hook.wait_for(len(hook.bodies) + 1, timeout)


@pytest.mark.slow
async def test_automate_runs_a_schedule_against_the_simulator_then_stops_on_sigterm(
    sim: SimServer, tmp_path: Path
) -> None:
    check = make_session(sim, tmp_path / "check", ("x3algo", "finradar"))
    try:
        assert await check.refresh() == {}
        before = {t.key: t.state for t in check.store.all_targets()}
        in_scope = {t.key for t in check.store.targets("x3algo")
                    if "mean reversion" in t.name.lower()}  # fmt: skip
        assert any(not before[key].halted for key in in_scope)
        async with webhook() as hook:
            at = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) + LEAD_S, UTC)
            schedule = {"name": "close", "cron": cron_at(at), "scope": SCOPE,
                        "reason": "market close"}  # fmt: skip
            config = write_profile(sim, tmp_path / "profile", hook, schedules=[schedule])
            proc = await tc("--config", str(config), "automate")
            assert proc.stderr is not None
            out = Output(proc.stderr)
            try:
                line = await out.wait_for(lambda s: "schedule close: next run" in s, 60)
                assert at.strftime("%Y-%m-%dT%H:%M:%S") in line, (
                    f"the process started after the schedule's time ({LEAD_S} s lead): {line}"
                )
                second = await tc("--config", str(config), "automate")
                _, err = await asyncio.wait_for(second.communicate(), 60)
                assert second.returncode == 11, err
                assert b"is already run by" in err

                body = await wait_for_body(hook, "schedule:close", 60 + LEAD_S)
                assert body["title"] == "[sim] schedule:close: ALL HALTED", body
                assert "ALL HALTED: halted" in body["message"]
                await out.wait_for(lambda s: "schedule:close:" in s, 30)  # the run's log line

                shown = await tc("--config", str(config), "automation", "--json")
                text, _ = await asyncio.wait_for(shown.communicate(), 60)
                status = json.loads(text)
                assert status["active"], status  # the running automate holds the lock
                [run] = status["runs"]
                assert run["who"] == "schedule:close" and run["all_verified"], run

                code = await stopped_by(proc, signal.SIGTERM, out.task)
            finally:
                await kill_if_running(proc)
            assert code == 0, "\n".join(out.lines)
            assert "stopped on SIGTERM" in out.lines[-1], out.lines[-1]
            assert "exit 0" in out.lines[-1]
            everything = json.dumps(hook.bodies) + "\n".join(out.lines)
            assert TOKEN not in everything

        await check.refresh()  # read back from the simulator
        for key, state in before.items():
            now = check.store.get(*key)
            assert now is not None
            if key in in_scope:
                assert now.state.halted, (key, now.state)
            else:
                assert now.state == state, key  # nothing outside the scope moved
        journal = Journal(tmp_path / "profile" / "journal.sqlite3", profile="sim")
        rows = journal.entries(operator="schedule:close")
        planned = {(r.venue, r.target_id) for r in rows}
        assert planned and planned <= in_scope
        assert {r.reason for r in rows} == {"market close"}
        assert journal.verify_chain().ok
    finally:
        await check.aclose()


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))  # main runs its own event loop
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_heartbeat_checks_in_for_the_dead_man_timer(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook)
        code, out, err = await run_main(capsys, "--config", str(config), "heartbeat")
    assert code == 0, err
    assert out.startswith("checked in as ") and out.rstrip().endswith("(profile sim)")
    checkin = json.loads((tmp_path / "journal.sqlite3.sim.checkin").read_text())
    assert checkin["via"] == "heartbeat" and checkin["who"] in out


async def test_alert_test_exits_0_only_when_sent_and_names_the_endpoint_not_its_secret(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with webhook() as hook:
        config = write_profile(sim, tmp_path / "up", hook)
        code, out, err = await run_main(capsys, "--config", str(config), "alert-test")
        assert code == 0, err
        assert out.startswith(f"sent: json://127.0.0.1:{hook.port}/")
        [body] = hook.bodies
        assert body["title"] == "[sim] alert test"

        hook.port = closed_port()  # the same URL to a port nobody listens on
        config = write_profile(sim, tmp_path / "down", hook)
        code, out, err = await run_main(capsys, "--config", str(config), "alert-test")
    assert code == 4
    assert f"trading-console: not sent to json://127.0.0.1:{hook.port}/" in err
    assert TOKEN not in out + err + json.dumps(hook.bodies)


async def test_the_cli_kill_alerts_when_it_starts_and_with_its_report(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook)
        argv = ("--config", str(config), "kill", "--venue", "x3algo", "--yes", "--reason", "test")
        code, _, err = await run_main(capsys, *argv)
        assert code == 0, err
        await hook.wait_for(2)
    who = str(Operator.current())
    titles = {b["title"] for b in hook.bodies}
    assert titles == {f"[sim] {who}: emergency stop started", f"[sim] {who}: ALL HALTED"}
    report = next(b for b in hook.bodies if b["title"].endswith("ALL HALTED"))
    assert "stop" in report["message"].lower() and "ALL HALTED: halted" in report["message"]
    assert TOKEN not in json.dumps(hook.bodies)


async def test_the_kill_started_alert_says_which_lists_were_not_in_yet(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FinRadar's list hangs: the calls leave without it, and the alert must not give
    the count of the others as the kill's."""
    set_knobs(sim, "finradar", hold_lists=True)
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook, kill_planning_deadline=2.0)
        code, _, err = await run_main(capsys, "--config", str(config), "kill", "--yes")
        assert code == 4, err  # FinRadar UNREACHABLE at the planning deadline
        await hook.wait_for(2)
    started = next(b for b in hook.bodies if b["title"].endswith("emergency stop started"))
    assert "finradar still listing, not yet counted" in started["message"], started


async def test_automation_shows_schedules_guards_the_timer_and_who_acts(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guard = {"name": "floor", "rule": "pnl_below", "threshold": -5000, "scope": {"venue": "pipai"}}
    schedule = {"name": "close", "at": "15:30", "days": ["mon", "fri"], "tz": "Asia/Kolkata",
                "scope": SCOPE}  # fmt: skip
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook, schedules=[schedule], guards=[guard],
                               deadman={"enabled": True, "alert_after": 30})  # fmt: skip
        code, out, err = await run_main(capsys, "--config", str(config), "automation")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("automation of profile 'sim' at ")
        assert lines[0].endswith("acting: no runner (start one: trading-console automate)")
        assert lines[1].startswith(
            "schedule close: stop named *mean reversion* on x3algo — 15:30 mon,fri "
            "(Asia/Kolkata) — next "
        )
        assert lines[2].startswith("guard floor: pnl_below -5000 on pnl (hysteresis 0) in ")
        assert lines[3].startswith("dead-man timer: on, ")
        code, out, err = await run_main(capsys, "--config", str(config), "automation", "--json")
    status = json.loads(out)
    assert status["active"] is None and [s["name"] for s in status["schedules"]] == ["close"]
    [close] = status["schedules"]
    assert close["next_run"].endswith(":00:00.000Z") or close["next_run"].endswith(":30:00.000Z")


async def test_automate_starts_while_a_venues_list_hangs(sim: SimServer, tmp_path: Path) -> None:
    """PipAI's list hangs (its read would wait 60 s): automate reads the others, says
    PipAI is left to its feed, and acts — it waited for PipAI's read (the planning
    deadline, 30 s) before its schedules, guards and dead-man timer ran."""
    set_knobs(sim, "pipai", hold_lists=True)
    venues = [{**v, "request_timeout": 60.0} if v["api"] == "pipai" else v
              for v in sim.venue_entries()]  # fmt: skip
    try:
        async with webhook() as hook:
            config = write_profile(sim, tmp_path, hook, venues)
            said = "pipai still listing after 2 s at start"
            code, out = await automate_until(config, said, 25, signal.SIGTERM)
    finally:
        set_knobs(sim, "pipai", hold_lists=False)
    assert code == 0, "\n".join(out.lines)


async def automate_until(
    config: Path, said: str, timeout: float, sig: signal.Signals
) -> tuple[int, Output]:
    """``automate`` until its stderr says ``said``, then ``sig``: its exit and its lines."""
    proc = await tc("--config", str(config), "automate")
    assert proc.stderr is not None
    out = Output(proc.stderr)
    try:
        await out.wait_for(lambda s: said in s, timeout)
        return await stopped_by(proc, sig, out.task), out
    finally:
        await kill_if_running(proc)


async def test_automate_ends_cleanly_on_sigint_too(sim: SimServer, tmp_path: Path) -> None:
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook)
        said = "automation of profile sim acts: 0 schedule(s)"
        code, out = await automate_until(config, said, 60, signal.SIGINT)
    assert code == 0, "\n".join(out.lines)
    assert out.lines[-1] == (
        "trading-console: automation of profile 'sim' stopped on SIGINT: runner lock released, "
        "venues closed; exit 0"
    )
    assert "Traceback" not in "\n".join(out.lines)


async def test_automate_ends_cleanly_when_its_terminal_hangs_up(
    sim: SimServer, tmp_path: Path
) -> None:
    """SIGHUP (the terminal of an `automate` run by hand closed) ends it as SIGTERM does —
    the tick under way finishes, the runner lock is released — with its last words to
    /dev/null; it was killed outright (a scheduled stop under way cut short)."""
    async with webhook() as hook:
        config = write_profile(sim, tmp_path, hook)
        said = "automation of profile sim acts: 0 schedule(s)"
        code, out = await automate_until(config, said, 60, signal.SIGHUP)
        shown = await tc("--config", str(config), "automation", "--json")
        text, _ = await asyncio.wait_for(shown.communicate(), 60)
    assert code == 0, "\n".join(out.lines)
    assert json.loads(text)["active"] is None  # the lock was released
    assert "Traceback" not in "\n".join(out.lines)
