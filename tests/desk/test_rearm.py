"""Two-person re-arm on a real nats-server (admin alice, trader bob, viewer carol,
admin dave): after a kill, alice's re-arm waits for another operator; every console sees
it (who, what, why); she cannot approve it herself, a viewer cannot at all; bob's
approval runs it as hers, and the journal has both of them. The kills' halts are known
again from the journal by a restarted hub."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from nats.js.kv import KeyValue

from console.core.kill import KillScope, build_kill_plan
from console.core.model import Action, ActionKind, State
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem
from console.core.session import Session
from console.desk import messages, subjects
from console.desk.desk_console import DeskConsoleApp
from console.desk.desk_control import DeskControl, DeskUnavailable, RearmPending
from console.desk.desk_state import DeskState
from console.desk.local_server import LocalNats
from console.desk.rearm import REARM_TTL_S, Halts, RearmMsg, rearm_key, rearm_subject
from console.desk.rearm_screen import RearmScreen
from console.desk.roles import Role
from console.sim.server import SimServer
from tests.desk.support import PROFILE, batch_report, connect, local_nats, request, running_hub
from tests.desk.test_console_desk import SIZE, desk_console, until
from tests.desk.test_roles import Violations, kill_all, start_msg
from tests.tui.pilot_support import log_text, wait_for

ROLES = {"alice": Role.ADMIN, "bob": Role.TRADER, "carol": Role.VIEWER, "dave": Role.ADMIN}


@pytest.fixture
def desk_server(tmp_path: Path) -> Iterator[LocalNats]:
    yield from local_nats(tmp_path, ROLES)


async def kv_value(kv: KeyValue, key: str) -> bytes:
    """``key``'s value once the bucket has it (the hub's puts are not acknowledged)."""
    watcher = await kv.watch(key)
    try:
        async with asyncio.timeout(20):
            async for entry in watcher:
                if entry is not None and entry.value:
                    value: bytes = entry.value
                    return value
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]
    raise AssertionError(f"{key} never had a value")


async def kv_gone(kv: KeyValue, key: str) -> None:
    """Until ``key`` is deleted from the bucket."""
    watcher = await kv.watch(key)
    try:
        async with asyncio.timeout(20):
            async for entry in watcher:
                if entry is not None and entry.operation is not None:
                    return
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]


async def next_rearm(sub: Subscription, status: str) -> RearmMsg:
    """The next re-arm message of ``status`` on a subscription to ``desk.P.rearm``."""
    async with asyncio.timeout(20):
        while True:
            msg: RearmMsg = RearmMsg.decode((await sub.next_msg(timeout=20)).data)
            if msg.status == status:
                return msg


async def test_a_rearm_after_a_kill_waits_for_a_second_operator_and_journals_both(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        desk.hub.gate.approval = True  # the profile's rearm_approval
        violations = Violations()
        alice, bob = await connect(desk_server, "alice"), await connect(desk_server, "bob")
        carol = await connect(desk_server, "carol", error_cb=violations.on_error)
        conns: list[NATS] = [alice, bob, carol]
        try:
            seen = await carol.subscribe(rearm_subject(PROFILE))  # a viewer sees it too
            report = await kill_all(bob, "bob", desk.session)
            item = report.results[0].item
            start = start_msg(item)
            asked = messages.RearmRequest(plan=start, why="venue fixed", host="alice-desk")
            reply = await request(alice, "alice", subjects.Verb.REARM, asked)
            assert reply.ok and reply.batch_id is None, reply.refused
            rid = reply.data["pending"]
            posted = await next_rearm(seen, "pending")
            assert (posted.id, posted.user, posted.requested_by) == (
                rid,
                "alice",
                "alice@alice-desk",
            )
            assert posted.why == "venue fixed" and posted.items == start.items
            assert "waits for another operator's approval" in posted.line()
            kv = await carol.jetstream().key_value(subjects.bucket(PROFILE))
            assert RearmMsg.decode(await kv_value(kv, rearm_key(rid))).id == rid  # late comers
            # Nothing was sent yet, and the requester cannot approve her own.
            assert desk.session.journal.entries(kind="intent", operator="alice") == []
            own = await request(alice, "alice", subjects.Verb.APPROVE,
                                messages.ApproveRequest(request_id=rid, approve=True))  # fmt: skip
            assert own.refused is not None and "second operator" in own.refused
            # A viewer's approval never reaches the hub.
            await carol.publish(subjects.command_subject(PROFILE, "carol", subjects.Verb.APPROVE),
                                messages.ApproveRequest(request_id=rid, approve=True).encode(),
                                reply=carol.new_inbox())  # fmt: skip
            assert "permissions violation for publish" in await violations.next()
            # Bob (a trader) approves: it runs as alice's, and the journal has both.
            yes = await request(bob, "bob", subjects.Verb.APPROVE,
                                messages.ApproveRequest(request_id=rid, approve=True, why="checked",
                                                        host="bob-desk"))  # fmt: skip
            assert yes.ok and yes.batch_id, yes.refused
            done = await batch_report(bob, yes.batch_id)
            assert [r.outcome.kind.value for r in done.results] == ["applied"]
            approved = await next_rearm(seen, "approved")
            assert approved.decided_by == "bob@bob-desk" and approved.batch_id == yes.batch_id
            journal = desk.session.journal
            notes = {n.action: n for n in journal.entries(kind="note")}
            assert notes["rearm requested"].operator == "alice"
            assert notes["rearm requested"].reason == "venue fixed"
            assert notes["rearm approved"].operator == "bob"
            assert notes["rearm approved"].batch_id == yes.batch_id
            assert '"requested_by": "alice"' in notes["rearm approved"].options
            intents = journal.entries(batch_id=yes.batch_id, kind="intent")
            assert [(e.operator, e.host, e.action) for e in intents] == [
                ("alice", "alice-desk", "start")
            ]
            assert (item.venue, item.target_id) not in desk.hub.gate.halts.targets
            again = await request(bob, "bob", subjects.Verb.APPROVE,
                                  messages.ApproveRequest(request_id=rid, approve=True))  # fmt: skip
            assert again.refused is not None and "no re-arm request" in again.refused
        finally:
            for nc in conns:
                await nc.close()


async def test_a_refused_rearm_sends_nothing_and_an_unhalted_resume_needs_no_approval(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        desk.hub.gate.approval = True
        alice, dave = await connect(desk_server, "alice"), await connect(desk_server, "dave")
        try:
            report = await kill_all(alice, "alice", desk.session)
            first, second = report.results[0].item, report.results[1].item
            reply = await request(alice, "alice", subjects.Verb.REARM,
                                  messages.RearmRequest(plan=start_msg(first), why="try"))  # fmt: skip
            rid = reply.data["pending"]
            no = await request(dave, "dave", subjects.Verb.APPROVE,
                               messages.ApproveRequest(request_id=rid, approve=False,
                                                       why="not yet"))  # fmt: skip
            assert no.ok and no.batch_id is None
            intents = desk.session.journal.entries(kind="intent", operator="alice")
            assert {e.batch_id for e in intents} == {report.batch_id}  # the kill's only
            notes = [n for n in desk.session.journal.entries(kind="note") if "rearm" in n.action]
            assert [(n.action, n.operator) for n in notes] == [
                ("rearm requested", "alice"), ("rearm refused", "dave"),
            ]  # fmt: skip
            assert (first.venue, first.target_id) in desk.hub.gate.halts.targets
            # The kill's halts are in the journal: a hub started now knows them.
            rebuilt = Halts.from_journal(desk.session.journal)
            assert rebuilt.targets == desk.hub.gate.halts.targets
            assert {(second.venue, second.target_id), (first.venue, first.target_id)} <= set(
                rebuilt.targets
            )
            # The re-arm of the first target, approved by dave, clears it in the journal too.
            reply = await request(alice, "alice", subjects.Verb.REARM,
                                  messages.RearmRequest(plan=start_msg(first)))  # fmt: skip
            yes = await request(dave, "dave", subjects.Verb.APPROVE,
                                messages.ApproveRequest(request_id=reply.data["pending"], approve=True))  # fmt: skip
            await batch_report(dave, yes.batch_id or "")
            rebuilt = Halts.from_journal(desk.session.journal)
            assert (first.venue, first.target_id) not in rebuilt.targets
            assert (second.venue, second.target_id) in rebuilt.targets
            # A request nobody decides expires: journaled, gone from the bucket.
            late = await request(alice, "alice", subjects.Verb.REARM,
                                 messages.RearmRequest(plan=start_msg(second)))  # fmt: skip
            rid = late.data["pending"]
            kv = await dave.jetstream().key_value(subjects.bucket(PROFILE))
            await kv_value(kv, rearm_key(rid))
            gone = await desk.hub.gate.expire(now=time.time() + REARM_TTL_S + 1)
            assert [m.id for m in gone] == [rid] and not desk.hub.gate.pending
            await kv_gone(kv, rearm_key(rid))
            expired = [n for n in desk.session.journal.entries(kind="note")
                       if n.action == "rearm expired"]  # fmt: skip
            assert len(expired) == 1 and expired[0].operator == "alice"
        finally:
            await alice.close()
            await dave.close()


def mirrored(state: DeskState, seq: int) -> bool:
    return state.journal.last_seq >= seq


def posted(app: DeskConsoleApp, rid: str, line: str) -> bool:
    """``app`` holds request ``rid`` and its outcome log says ``line``."""
    return rid in app.board.pending and line in log_text(app)


def running(state: DeskState, item: PlanItem) -> bool:
    target = state.store.get(item.venue, item.target_id)
    return target is not None and target.state is State.RUNNING


async def test_a_trader_approves_a_rearm_from_his_console_a_viewer_has_no_keys(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(desk_server, sim, tmp_path) as desk,
        desk_console(desk_server, "bob") as (b_state, b_control),
        desk_console(desk_server, "carol") as (c_state, c_control),
    ):
        desk.hub.gate.approval = True
        assert (b_control.role, c_control.role) == (Role.TRADER, Role.VIEWER)
        alice = await connect(desk_server, "alice")
        try:
            report = await kill_all(alice, "alice", desk.session)
            item = report.results[0].item
            await desk.hub.mirror_journal()  # both consoles hold the kill's outcomes: no
            last = desk.session.journal.entries()[-1].seq  # interrupted calls offered
            for state in (b_state, c_state):
                await until(state, partial(mirrored, state, last), "the journal")
            bob = DeskConsoleApp(b_state, b_control)
            carol = DeskConsoleApp(c_state, c_control)
            async with bob.run_test(size=SIZE) as pb, carol.run_test(size=SIZE) as pc:
                assert "bob is a trader on this desk: may stop, pause" in log_text(bob)
                # Bob did not send the kill: w says what the journal holds of the desk's last.
                await pb.press("w")
                said = " ".join(str(n.message) for n in bob._notifications)
                assert (
                    "No emergency stop from this console yet. The last on this profile, "
                    "from the journal: "
                    in said
                    and " by alice: " in said
                ), said
                # The viewer: never armed, no control key, no kill.
                assert carol.arm.readonly and carol.check_action("arm", ()) is False
                await pc.press("a")
                assert not carol.arm.enabled(carol.clock())
                await pc.press("2", "X", "K")  # a stop key, the kill key: neither acts
                said = " ".join(str(n.message) for n in carol._notifications)
                assert "carol is a viewer on this desk" in said
                assert carol.screen is carol.screen_stack[0]  # no kill dialog, no confirmation
                reply = await request(alice, "alice", subjects.Verb.REARM,
                                      messages.RearmRequest(plan=start_msg(item), why="fixed",
                                                            host="alice-desk"))  # fmt: skip
                rid = reply.data["pending"]
                # Every console sees it: the board and the outcome log (who, what, why).
                line = f"alice@alice-desk: asks to re-arm ({rid}): start {item.venue}"
                for app, pilot in ((bob, pb), (carol, pc)):
                    await wait_for(pilot, partial(posted, app, rid, line), "the request, said")
                assert carol.check_action("rearm_review", ()) is False  # a viewer's: none
                await pb.press("A")
                await wait_for(pb, lambda: isinstance(bob.screen, RearmScreen), "the review")
                body = str(bob.screen.query_one("#rearm-body").render())
                assert "alice@alice-desk" in body and "fixed" in body and item.target_id in body
                await pb.click("#rearm-why")
                await pb.press(*"ok", "tab")
                await pb.click("#rearm-approve")
                await wait_for(pb, lambda: not bob.board.pending, "the request decided")
                try:
                    await until(
                        b_state, partial(running, b_state, item), "the target running again"
                    )
                except AssertionError as e:  # once in a full run: say what each side held
                    raise AssertionError(
                        f"{e}; {what_was(bob, b_state, desk.session, item)}"
                    ) from None
                notes = {n.action: n for n in desk.session.journal.entries(kind="note")}
                assert notes["rearm approved"].operator == "bob"
                assert notes["rearm approved"].reason == "ok"
        finally:
            await alice.close()


def what_was(app: DeskConsoleApp, state: DeskState, session: Session, item: PlanItem) -> str:
    """For a failure: the console's notices, both sides' picture of ``item`` and the hub
    journal's last entries."""
    said = [str(n.message) for n in app._notifications]
    pictures = [s.get(item.venue, item.target_id) for s in (state.store, session.store)]
    mine, hubs = [(t.state, t.raw_status, t.confirmed_at) if t else None for t in pictures]
    last = [(e.kind, e.action, e.operator, e.outcome) for e in session.journal.entries()[-6:]]
    return f"notices {said}; bob's {mine}; the hub's {hubs}; the journal ends {last}"


def stopped(state: DeskState, item: PlanItem) -> bool:
    target = state.store.get(item.venue, item.target_id)
    return target is not None and target.state is State.STOPPED


async def test_a_consoles_start_of_a_halted_target_goes_as_its_role_allows(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(desk_server, sim, tmp_path) as desk,
        desk_console(desk_server, "alice") as (a_state, a_control),
        desk_console(desk_server, "bob") as (b_state, b_control),
    ):
        kill = await a_control.dispatch(
            a_control.plan_kill(KillScope(), clear_leaves_behind=False).plan
        )
        items = [r.item for r in kill.results.values()]
        for item in items[:3]:
            await until(b_state, partial(stopped, b_state, item), "the kill in bob's picture")

        def start(item: PlanItem) -> Plan:
            target = b_state.store.get(item.venue, item.target_id)
            assert target is not None
            return Plan((PlanItem.for_target(target, Action(ActionKind.START)),), "Start one")

        # A trader's key press: the hub refuses it in words; nothing was sent.
        with pytest.raises(DeskUnavailable, match="halted by a kill"):
            await b_control.dispatch(start(items[0]))
        # An admin's goes as rearm and runs.
        done = await a_control.dispatch(start(items[0]))
        assert [r.outcome.kind.value for r in done.results.values()] == ["applied"]
        # With two-person re-arm on, it is posted; a port given no role (a CLI's) asks
        # the server what it may do, and goes the same way.
        desk.hub.gate.approval = True
        with pytest.raises(RearmPending, match="another operator approves"):
            await a_control.dispatch(start(items[1]))
        cli_port = DeskControl(a_state, "alice")
        with pytest.raises(RearmPending):
            await cli_port.dispatch(start(items[2]))
        assert cli_port.role is Role.ADMIN and len(desk.hub.gate.pending) == 2


async def test_the_automations_kill_halts_its_targets_too_a_schedules_stop_does_not(
    desk_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(desk_server, sim, tmp_path) as desk:
        bob = await connect(desk_server, "bob")
        try:
            session = desk.session
            # A schedule's stop (the automation plans it as a kill) is routine.
            target = next(t for t in session.store.all_targets() if t.state is State.RUNNING)
            evening = Plan((PlanItem.for_target(target, Action(ActionKind.STOP)),),
                           "schedule:close: stop x3algo", "kill")  # fmt: skip
            done = await session.dispatcher.run(evening, operator=Operator("schedule:close", "h"))
            assert [r.outcome.kind.value for r in done.results.values()] == ["applied"]
            assert not desk.hub.gate.halts.targets
            # The dead-man timer's kill is a kill.
            kill = build_kill_plan(session.store, session.clients, reason="dead-man")
            deadman = Operator("deadman:desk", "hub-host")
            report = await session.dispatcher.run(kill.plan, operator=deadman)  # as automation
            item = next(iter(report.results.values())).item
            assert (item.venue, item.target_id) in desk.hub.gate.halts.targets
            assert (target.venue, target.id) not in desk.hub.gate.halts.targets
            notes = [n for n in session.journal.entries(kind="note") if n.action == "kill"]
            assert [(n.operator, n.batch_id) for n in notes] == [("deadman:desk", report.batch_id)]
            reply = await request(bob, "bob", subjects.Verb.DISPATCH,
                                  messages.DispatchRequest(plan=start_msg(item)))  # fmt: skip
            assert reply.refused is not None and "halted by a kill" in reply.refused
            again = messages.PlanMsg.of(Plan((PlanItem.for_target(
                session.store.get(target.venue, target.id) or target, Action(ActionKind.START)),),
                "Start one"))  # fmt: skip
            reply = await request(
                bob, "bob", subjects.Verb.DISPATCH, messages.DispatchRequest(plan=again)
            )
            assert reply.ok, reply.refused  # what the schedule stopped starts as usual
            await batch_report(bob, reply.batch_id or "")
        finally:
            await bob.close()
