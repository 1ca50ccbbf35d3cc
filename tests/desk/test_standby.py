"""The standby hub: the active hub (a real ``trading-console hub`` process) is SIGKILLed
in the middle of a kill; the standby takes the lease over, continues the journal
stream's chain, verifies every call the dead hub left open by re-reading (never sends
one again: each target is called at most once, counted at the simulator) and ends the
kill's batch with a report; a console attached all along shows DESK DOWN, then follows
the new hub without a restart."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from console.config import write_profile_files
from console.core.model import Action, ActionKind, State
from console.core.plan import Plan, PlanItem
from console.desk import messages, subjects
from console.desk.hub import Hub
from console.desk.local_server import HUB_USER, LocalNats
from console.sim.server import SimServer
from tests.desk.support import PROFILE, batch_report, connect, make_session, request
from tests.desk.test_cli_hub import hub_process
from tests.desk.test_console_desk import desk_console, until
from tests.support import set_knobs, sim_counters
from tests.test_cli_automate import Output

KILLED = 4  # targets in the kill
LATENCY_MS = 800  # each call in flight this long: the hub dies with them on the way


async def journal_rows(nc: object, batch: str, kind: str, n: int) -> list[messages.JournalRowMsg]:
    """The journal stream's first ``n`` rows of ``kind`` in ``batch`` (waiting for them)."""
    js = nc.jetstream()  # type: ignore[attr-defined]
    sub = await js.subscribe(subjects.journal_subject(PROFILE), ordered_consumer=True)
    rows: list[messages.JournalRowMsg] = []
    try:
        async with asyncio.timeout(60):
            while len(rows) < n:
                row = messages.JournalRowMsg.decode((await sub.next_msg(timeout=60)).data)
                if row.batch_id == batch and row.kind == kind:
                    rows.append(row)
    finally:
        await sub.unsubscribe()
    return rows


async def sent(sim: SimServer, before: dict[str, int], n: int) -> None:
    """Until the simulator has read ``n`` more requests (it answers them after its latency)."""
    async with asyncio.timeout(60):
        while sim_counters(sim, "pipai").get("requests", 0) - before.get("requests", 0) < n:  # noqa: ASYNC110 (the simulator's counters are read over HTTP: nothing to await)
            await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_the_standby_takes_over_mid_kill_and_verifies_without_calling_twice(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    pipai = [e for e in sim.venue_entries() if e["api"] == "pipai"]
    config = write_profile_files(tmp_path / "profile", profile=PROFILE, label="SIM",
                                 color="warning", venues=pipai)  # fmt: skip
    proc = await hub_process(config, nats_server.url, nats_server.passwords[HUB_USER])
    assert proc.stderr is not None
    out = Output(proc.stderr)
    standby_session = make_session(sim, tmp_path / "standby", ("pipai",))
    standby_nc = await connect(nats_server, HUB_USER)
    standby = Hub(standby_session, standby_nc)
    alice = await connect(nats_server, "alice")
    try:
        await out.wait_for(lambda s: "serving on" in s, 60)
        waiting = asyncio.ensure_future(standby.start(standby=True))
        async with desk_console(nats_server, "bob", down_after_s=1.0) as (state, control):
            await until(state, lambda: len(state.store.all_targets()) > KILLED, "the picture")
            first_hub = state.hub.hub_id if state.hub else ""
            running = [t for t in state.store.all_targets() if t.state is State.RUNNING]
            plan = Plan(tuple(PlanItem.for_target(t, Action(ActionKind.PAUSE))
                              for t in running[:KILLED]), "Kill", scope="kill")  # fmt: skip
            set_knobs(sim, "pipai", latency_ms=LATENCY_MS)
            before = sim_counters(sim, "pipai")
            reply = await request(alice, "alice", subjects.Verb.KILL,
                                  messages.KillRequest(plan=messages.PlanMsg.of(plan), host="desk-1"))  # fmt: skip
            assert reply.batch_id, reply.refused
            joined = asyncio.Event()
            state.on_activity(lambda line: joined.set() if "joined" in line.text else None)
            bobs = asyncio.ensure_future(control.dispatch(plan))  # bob's kill joins alice's
            await asyncio.wait_for(joined.wait(), 30)
            # Its intents reach the journal stream before its first call; it dies with
            # its calls on the way (read by the simulator, not yet carried out).
            await journal_rows(alice, reply.batch_id, "intent", KILLED)
            await sent(sim, before, KILLED)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            await until(state, lambda: state.down is not None, "DESK DOWN in the console")
            await asyncio.wait_for(waiting, 60)  # the lease expired: the standby took over
            set_knobs(sim, "pipai", latency_ms=0)
            assert standby.took_over is not None and standby.took_over.hub_id == first_hub
            # Every call the dead hub may have sent is verified by a re-read, journaled.
            verifies = await journal_rows(alice, reply.batch_id, "verify", KILLED)
            assert {r.target_id for r in verifies} == {t.id for t in running[:KILLED]}
            journal = standby_session.journal
            assert [e for e in journal.interrupted() if e.batch_id == reply.batch_id] == []
            assert journal.verify_chain().ok  # the dead hub's rows, then the standby's
            # At most one call per target: the ones verified paused, and no other.
            paused = {v.entry.target_id for v in standby.verified if v.as_asked}
            calls = sim_counters(sim, "pipai").get("arrived:pause", 0) - before.get(
                "arrived:pause", 0
            )
            assert paused and calls == len(paused) <= KILLED
            # The kill's batch ends: the standby's report, from the journal.
            report = await batch_report(alice, reply.batch_id)
            assert {r.item.target_id for r in report.results} == {t.id for t in running[:KILLED]}
            assert {r.item.target_id for r in report.results if r.verified} == paused
            # Bob's console, following the kill all along, gets that report.
            bob_report = await asyncio.wait_for(bobs, 60)
            assert bob_report.batch_id == reply.batch_id
            assert {r.item.target_id for r in bob_report.results.values() if r.verified} == paused
            # The console follows the new hub without a restart.
            await until(state, lambda: state.down is None and state.hub is not None
                        and state.hub.hub_id == standby.hub_id, "the console back")  # fmt: skip
            await until(state, lambda: state.journal.last_seq >= verifies[-1].seq, "the rows")
            assert state.journal.interrupted() == []
            assert state.journal.verify_chain().ok
            for target_id in paused:
                assert state.store.get("pipai", target_id).state is State.PAUSED  # type: ignore[union-attr]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await standby.aclose()
        await standby_session.aclose()
        await standby_nc.close()
        await alice.close()
