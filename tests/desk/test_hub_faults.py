"""The hub's liveness and faults: its heartbeat, a NATS restart (it reconnects, serves
commands and publishes the whole state again), interrupted calls verified on request,
and an operator who may read the desk but never write its bucket."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from console.automation.deadman import CheckIns
from console.core.journal import Journal
from console.core.kill_lock import KillLock
from console.core.model import Action, ActionKind, State
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem
from console.core.session import SessionOptions
from console.desk import lease, messages, subjects
from console.desk.hub import Hub, HubRunning
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.desk.support import (
    PROFILE,
    Violations,
    batch_report,
    connect,
    make_session,
    request,
    running_hub,
)
from tests.support import set_knobs, settings_for, sim_counters


async def test_the_hub_beats_on_its_subject(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path):
        nc = await connect(nats_server, "bob")
        try:
            sub = await nc.subscribe(subjects.hub_subject(PROFILE))
            beat = messages.HubBeat.decode((await sub.next_msg(timeout=10)).data)
            again = messages.HubBeat.decode((await sub.next_msg(timeout=10)).data)
            assert beat.profile == PROFILE and beat.venues == ["x3algo"]
            assert again.hub_id == beat.hub_id and again.seq == beat.seq + 1
        finally:
            await nc.close()


async def test_the_beat_says_which_calls_were_refused_and_wait_to_go_again(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    """x3algo refuses the stop 429 asking 3 s: the hub's heartbeat names it while the
    plan runs (a desk console's kill counters read it), and the stop then lands."""
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice")
        try:
            sub = await nc.subscribe(subjects.hub_subject(PROFILE))
            target = next(t for t in desk.session.store.all_targets()
                          if t.state is State.RUNNING)  # fmt: skip
            set_knobs(sim, "x3algo", control_429=-1, retry_after="3")
            plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
            reply = await request(nc, "alice", subjects.Verb.DISPATCH,
                                  messages.DispatchRequest(plan=messages.PlanMsg.of(plan)))  # fmt: skip
            assert reply.batch_id, reply.refused
            async with asyncio.timeout(30):
                while True:
                    beat = messages.HubBeat.decode((await sub.next_msg(timeout=10)).data)
                    if beat.refused:
                        break
            assert beat.refused == {"x3algo": 1} and beat.running == reply.batch_id
            set_knobs(sim, "x3algo", control_429=0)
            report = await batch_report(nc, reply.batch_id)
            assert report.results[0].verified
            assert "the first refused with 429" in report.results[0].outcome.message
        finally:
            await nc.close()


async def test_after_a_nats_restart_the_hub_resyncs_and_serves_commands(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nats_server.stop()
        shutil.rmtree(tmp_path / "nats" / "jetstream")  # a server that lost its files, even
        nats_server.start()  # on the same port, with the same users
        await asyncio.wait_for(desk.reconnected.wait(), 30)
        await desk.hub.tick()  # has prepared and published in full when it returns
        nc = await connect(nats_server, "alice")
        try:
            expected = {
                subjects.target_key(t.venue, t.id) for t in desk.session.store.all_targets()
            }
            kv = await nc.jetstream().key_value(subjects.bucket(PROFILE))  # made again by the hub
            seen: set[str] = set()
            watcher = await kv.watch("t.>")
            async with asyncio.timeout(30):  # the whole state again
                while not expected <= seen:
                    entry = await watcher.updates(timeout=30)  # type: ignore[no-untyped-call]
                    if entry is not None:
                        seen.add(entry.key)
            await watcher.stop()  # type: ignore[no-untyped-call]
            target = next(t for t in desk.session.store.all_targets()
                          if t.state is State.RUNNING)  # fmt: skip
            plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
            reply = await request(nc, "alice", subjects.Verb.DISPATCH,
                                  messages.DispatchRequest(plan=messages.PlanMsg.of(plan)))  # fmt: skip
            assert reply.batch_id, reply.refused
            report = await batch_report(nc, reply.batch_id)
            assert report.results[0].verified
            await desk.hub.mirror_journal()  # the journal stream holds every row again
            info = await nc.jetstream().stream_info(subjects.journal_stream(PROFILE))
            assert info.state.messages == len(desk.session.journal.entries())
        finally:
            await nc.close()


async def test_interrupted_calls_are_verified_on_request(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        target = desk.session.store.all_targets()[0]
        journal = desk.session.journal
        journal.intend(target.venue, target.id, target.name, Action(ActionKind.STOP))
        assert len(journal.interrupted()) == 1  # a call cut short (the hub died mid-kill)
        nc = await connect(nats_server, "alice")
        try:
            reply = await request(nc, "alice", subjects.Verb.VERIFY_INTERRUPTED,
                                  messages.VerifyInterruptedRequest(), timeout_s=30)  # fmt: skip
            assert reply.ok, reply.refused
            [verified] = reply.data["verified"]
            assert verified["journaled"] and verified["entry"]["target_id"] == target.id
            assert journal.interrupted() == []
        finally:
            await nc.close()


async def test_an_operator_cannot_write_the_bucket(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    violations = Violations()
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice", error_cb=violations.on_error)
        try:
            target = desk.session.store.all_targets()[0]
            forged = messages.TargetMsg.of(target.with_state(State.STOPPED)).encode()
            await nc.publish(f"$KV.{subjects.bucket(PROFILE)}.{subjects.target_key(target.venue, target.id)}",
                             forged)  # fmt: skip
            await violations.next()
            assert any("permissions violation" in e for e in violations.seen), violations.seen
        finally:
            await nc.close()


async def test_a_second_hub_of_the_profile_does_not_start(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        second = make_session(sim, tmp_path / "second", ("x3algo",))
        nc = await connect(nats_server, HUB_USER)
        hub = Hub(second, nc)
        try:
            with pytest.raises(HubRunning, match="another hub serves profile 'sim'"):
                await hub.start()
        finally:
            await hub.aclose()
            await second.aclose()
            await nc.close()
        assert desk.hub.hub_id  # the first one serves on


async def test_a_hub_closes_though_its_lease_renewal_kept_the_cancel(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python 3.11's ``asyncio.wait_for`` (every nats-py request) returns an answer that
    came in the same turn as the cancel and drops the cancel (CPython gh-86296). A hub
    closing just as its renewal was answered renewed on, and its close waited for it
    forever (the second-hub test above hung about one loaded run in three: the second
    hub gives up on seeing a renewal, so the first hub closes while that renewal's answer
    is on its way)."""
    monkeypatch.setattr(lease, "_OP_TIMEOUT_S", 3600.0)  # only the close cancels it
    async with running_hub(nats_server, sim, tmp_path) as desk:
        renewing, kept = asyncio.Event(), asyncio.Event()

        async def answered_with_the_cancel() -> None:
            if kept.is_set():
                return  # renewed (after the one renewal that kept the cancel)
            renewing.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:  # the answer came too: wait_for returns it
                kept.set()

        desk.hub.lease._renew_once = answered_with_the_cancel  # type: ignore[method-assign]
        await asyncio.wait_for(renewing.wait(), 30)
        [holding] = [t for t in asyncio.all_tasks() if t.get_name() == "hub:lease"]
        closing = asyncio.ensure_future(desk.hub.aclose())
        await asyncio.wait([closing], timeout=30)  # (not cancelled: that would free it)
        closed = closing.done()
        closing.cancel()  # (the code before: a cancel of the close ends the renewals)
        await asyncio.wait([closing])
        assert closed, "the hub's close waited on for its lease's renewals"
        assert holding.done()


async def test_a_dispatch_while_a_plan_runs_is_refused_and_a_kill_while_a_cli_kill_runs_too(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice")
        try:
            targets = [t for t in desk.session.store.all_targets() if t.state is State.RUNNING]
            one = Plan((PlanItem.for_target(targets[0], Action(ActionKind.STOP)),), "Stop one")
            body = messages.DispatchRequest(plan=messages.PlanMsg.of(one))
            first, second = await asyncio.gather(
                request(nc, "alice", subjects.Verb.DISPATCH, body),
                request(nc, "alice", subjects.Verb.DISPATCH, body),
            )
            assert first.batch_id and second.refused and "busy" in second.refused
            await batch_report(nc, first.batch_id)
            # A kill of the same profile from a local CLI holds the profile's kill lock.
            lock = desk.session.control.kill_lock()
            assert lock is not None
            with KillLock(lock.path, profile=PROFILE):
                kill = messages.KillRequest(plan=messages.PlanMsg.of(Plan(
                    (PlanItem.for_target(targets[1], Action(ActionKind.STOP)),), "Kill")))  # fmt: skip
                reply = await request(nc, "alice", subjects.Verb.KILL, kill)
            assert reply.refused and "another emergency stop" in reply.refused
        finally:
            await nc.close()


async def test_a_reverify_reads_the_venue_again_and_answers_with_what_it_found(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice")
        try:
            target = next(t for t in desk.session.store.all_targets()
                          if t.state is State.RUNNING)  # fmt: skip
            plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
            reply = await request(nc, "alice", subjects.Verb.DISPATCH,
                                  messages.DispatchRequest(plan=messages.PlanMsg.of(plan)))  # fmt: skip
            report = await batch_report(nc, reply.batch_id or "")
            doubtful = [messages.ResultMsg.of(r) for r in report.results]
            body = messages.ReverifyRequest(venue=target.venue, doubtful=doubtful,
                                            batch_ids=[report.batch_id], at=0.0)  # fmt: skip
            again = await request(nc, "alice", subjects.Verb.REVERIFY, body, timeout_s=30)
            assert again.ok, again.refused
            [result] = again.data["recheck"]["results"]
            assert messages.ResultMsg.model_validate(result).verified is True
        finally:
            await nc.close()


async def test_every_action_reaches_the_activity_an_operators_and_the_automations(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "bob")  # bob watches
        alice = await connect(nats_server, "alice")
        try:
            activity = await nc.subscribe(subjects.activity_subject(PROFILE))
            running = [t for t in desk.session.store.all_targets() if t.state is State.RUNNING]
            plan = Plan((PlanItem.for_target(running[0], Action(ActionKind.STOP)),), "Stop one")
            reply = await request(alice, "alice", subjects.Verb.DISPATCH,
                                  messages.DispatchRequest(plan=messages.PlanMsg.of(plan), host="desk-1"))  # fmt: skip
            await batch_report(alice, reply.batch_id or "")
            # The automation dispatches in the hub's process, as `schedule:<name>`.
            auto = Plan((PlanItem.for_target(running[1], Action(ActionKind.STOP)),), "close")
            who = Operator(user="schedule:close", host="hubhost")
            await desk.session.dispatcher.run(auto, operator=who)
            await desk.hub.mirror_journal()
            wanted = {
                f"alice@desk-1: stop x3algo {running[0].name} — applied",
                f"schedule:close@hubhost: stop x3algo {running[1].name} — applied",
            }
            lines: list[str] = []
            async with asyncio.timeout(30):
                while not wanted <= set(lines):
                    msg = await activity.next_msg(timeout=30)
                    lines += [m.line() for m in messages.ActivityBatch.decode(msg.data).lines]
        finally:
            await alice.close()
            await nc.close()


async def test_a_checkin_is_recorded_for_the_dead_man_timer_as_the_user_and_skip_needs_automation(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    checkins = CheckIns(tmp_path / "checkins.json")
    async with running_hub(nats_server, sim, tmp_path, checkins=checkins):
        nc = await connect(nats_server, "bob")
        try:
            reply = await request(
                nc, "bob", subjects.Verb.CHECKIN, messages.CheckinRequest(host="desk-3")
            )
            assert reply.ok, reply.refused
            last = CheckIns(tmp_path / "checkins.json").last()
            assert last is not None and last.who == "bob@desk-3" and last.via == "desk"
            skip = await request(
                nc, "bob", subjects.Verb.SKIP, messages.SkipRequest(schedule="close")
            )
            assert skip.refused == "this desk runs no automation"
        finally:
            await nc.close()


async def test_a_hub_serves_while_a_venues_list_hangs(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    """PipAI's list hangs (its read would wait 60 s): the hub serves anyway, x3algo's
    targets stored, PipAI's left to its feed. (It waited for PipAI's read: the planning
    deadline, 30 s, before any console could act — a standby's takeover too.)"""
    set_knobs(sim, "pipai", hold_lists=True)
    journal = Journal(tmp_path / "journal.sqlite3", profile=PROFILE)
    settings = [settings_for(sim, "x3algo"), settings_for(sim, "pipai", request_timeout_s=60.0)]
    session = session_for(SessionOptions(profile=PROFILE, label="SIM"), settings, journal)
    nc = await connect(nats_server, HUB_USER)
    hub = Hub(session, nc)
    try:
        async with asyncio.timeout(20):  # a bound, far from the 30 s the old start took
            await hub.start()
        assert hub.serving
        assert sim_counters(sim, "pipai").get("held_lists", 0) >= 1  # still hanging
        assert session.store.targets("x3algo") and not session.store.targets("pipai")
    finally:
        set_knobs(sim, "pipai", hold_lists=False)
        await hub.aclose()
        await session.aclose()
        await nc.close()


def test_a_desk_console_reads_the_refused_calls_from_the_last_beat() -> None:
    from types import SimpleNamespace

    from console.desk.desk_control import DeskControl

    beat = messages.HubBeat(hub_id="h" * 32, profile=PROFILE, ts=0.0, seq=1, state_seq=1,
                            running="b1", refused={"x3algo": 3})  # fmt: skip
    control = DeskControl(SimpleNamespace(hub=beat), "alice")  # type: ignore[arg-type]
    assert control.refused_now() == {"x3algo": 3}
    control.state.hub = beat.model_copy(update={"running": None})
    assert control.refused_now() == {}  # no plan running: nothing waits
