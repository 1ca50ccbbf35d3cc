"""The hub on a real nats-server and the simulator: state in the bucket, commands under
the authenticated user, one kill per desk, the journal stream, credentials."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from nats.js.errors import APIError

from console.core.kill import build_kill_plan
from console.core.model import Action, ActionKind, State
from console.core.plan import Plan, PlanItem
from console.desk import messages, subjects
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.support import (
    PROFILE,
    Violations,
    batch_report,
    connect,
    request,
    running_hub,
)
from tests.support import sim_counters


async def test_the_hub_publishes_every_target_and_venue_health_into_the_bucket(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path, ("x3algo", "pipai")) as desk:
        nc = await connect(nats_server, "alice")
        try:
            kv = await nc.jetstream().key_value(subjects.bucket(PROFILE))
            expected = {
                subjects.target_key(t.venue, t.id) for t in desk.session.store.all_targets()
            }
            assert expected

            expected |= {"h.x3algo", "h.pipai", "v.x3algo", "v.pipai"}
            seen: set[str] = set()
            watcher = await kv.watchall()
            async with asyncio.timeout(20):
                while not expected <= seen:
                    update = await watcher.updates(timeout=20)  # type: ignore[no-untyped-call]
                    if update is not None:
                        seen.add(update.key)
            await watcher.stop()  # type: ignore[no-untyped-call]
            some = desk.session.store.all_targets()[0]
            entry = await kv.get(subjects.target_key(some.venue, some.id))
            assert messages.TargetMsg.decode(entry.value or b"").target() == some
            venue = messages.VenueMsg.decode((await kv.get("v.pipai")).value or b"")
            assert venue.api == "pipai"
        finally:
            await nc.close()


async def test_a_dispatch_by_alice_stops_a_target_journaled_as_alice(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice")
        try:
            target = next(t for t in desk.session.store.all_targets() if t.state is State.RUNNING)
            plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
            body = messages.DispatchRequest(plan=messages.PlanMsg.of(plan), host="desk-1")
            reply = await request(nc, "alice", subjects.Verb.DISPATCH, body)
            assert reply.ok and reply.batch_id, reply.refused
            report = await batch_report(nc, reply.batch_id)
            assert [r.outcome.kind.value for r in report.results] == ["applied"]
            assert report.results[0].verified is True
            rows = desk.session.journal.entries(batch_id=reply.batch_id)
            assert {(r.kind, r.operator, r.host) for r in rows} == {
                ("intent", "alice", "desk-1"), ("outcome", "alice", "desk-1"),
                ("verify", "alice", "desk-1"),
            }  # fmt: skip
            # The same rows, chain included, are in the journal stream.
            js = nc.jetstream()
            await desk.hub.mirror_journal()  # acknowledged by the stream when it returns
            info = await js.stream_info(subjects.journal_stream(PROFILE))
            assert info.state.messages == len(rows)
            last = await js.get_last_msg(
                subjects.journal_stream(PROFILE), subjects.journal_subject(PROFILE)
            )
            row = messages.JournalRowMsg.decode(last.data or b"")
            assert row.entry() == rows[-1]
            assert row.hash == desk.session.journal.chain_head()
        finally:
            await nc.close()


async def test_alice_cannot_send_on_bobs_subject(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    violations = Violations()
    async with running_hub(nats_server, sim, tmp_path) as desk:
        nc = await connect(nats_server, "alice", error_cb=violations.on_error)
        try:
            target = desk.session.store.all_targets()[0]
            plan = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),), "Stop one")
            body = messages.DispatchRequest(plan=messages.PlanMsg.of(plan))
            with pytest.raises((TimeoutError, NatsError)):
                await request(nc, "bob", subjects.Verb.DISPATCH, body, timeout_s=2.0)
            await violations.next()
            assert any("permissions violation" in e for e in violations.seen), violations.seen
            assert desk.session.journal.entries() == []  # nothing reached the hub
        finally:
            await nc.close()


async def test_two_kills_at_once_are_one_batch_and_each_target_is_called_once(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        alice = await connect(nats_server, "alice")
        bob = await connect(nats_server, "bob")
        try:
            before = sim_counters(sim, "x3algo")
            kill = build_kill_plan(desk.session.store, desk.session.clients, reason="drill")
            body = messages.KillRequest(plan=messages.PlanMsg.of(kill.plan), host="h")
            first, second = await asyncio.gather(
                request(alice, "alice", subjects.Verb.KILL, body),
                request(bob, "bob", subjects.Verb.KILL, body),
            )
            assert first.ok and second.ok
            assert first.batch_id == second.batch_id is not None
            assert sorted([first.joined, second.joined]) == [False, True]
            report = await batch_report(bob, first.batch_id or "")
            assert len(report.results) == len(kill.plan) > 0
            assert all(r.verified for r in report.results), report.summary
            after = sim_counters(sim, "x3algo")
            stops = sum(1 for i in kill.plan.items if i.action.kind is ActionKind.STOP)
            assert after.get("stopped", 0) - before.get("stopped", 0) == stops
            assert after.get("429", 0) == before.get("429", 0)
            intents = desk.session.journal.entries(batch_id=first.batch_id, kind="intent")
            assert len(intents) == len(kill.plan)  # one call per target, never two
        finally:
            await alice.close()
            await bob.close()


async def test_the_journal_stream_refuses_a_delete(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path):
        nc = await connect(nats_server, HUB_USER)  # even the hub's own user
        try:
            js = nc.jetstream()
            await js.publish(subjects.journal_subject(PROFILE), b"{}")
            with pytest.raises(APIError):
                await js.delete_msg(subjects.journal_stream(PROFILE), 1)
            with pytest.raises(APIError):
                await js.purge_stream(subjects.journal_stream(PROFILE))
            info = await js.stream_info(subjects.journal_stream(PROFILE))
            assert info.state.messages >= 1
        finally:
            await nc.close()


async def test_a_wrong_credential_is_refused(nats_server: LocalNats) -> None:
    with pytest.raises(NatsError):
        await nats.connect(
            nats_server.url, user="alice", password="not-her-password",
            allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5,
        )  # fmt: skip


async def test_the_whole_state_is_stored_when_start_returns(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path, ("x3algo", "pipai")) as desk:
        expected = {subjects.target_key(t.venue, t.id) for t in desk.session.store.all_targets()}
        expected |= {"h.x3algo", "h.pipai", "v.x3algo", "v.pipai", subjects.LEASE_KEY}
        nc = await connect(nats_server, "alice")
        try:  # one read, no waiting: every put was acknowledged before start returned
            kv = await nc.jetstream().key_value(subjects.bucket(PROFILE))
            assert expected <= set(await kv.keys())
            lease = messages.HubBeat.decode((await kv.get(subjects.LEASE_KEY)).value or b"")
            assert lease.hub_id == desk.hub.hub_id
        finally:
            await nc.close()
