"""Two consoles' kills through one hub: one batch, each target called once, both
consoles fed the results; a plain action while a plan runs is *busy*, as locally."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from console.core.dispatcher import DispatchBusy
from console.core.kill import KillScope
from console.core.model import Action, ActionKind, State
from console.core.plan import ItemResult, Plan, PlanItem
from console.desk import messages
from console.desk.desk_state import DeskState
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import running_hub
from tests.desk.test_console_desk import desk_console, until
from tests.support import set_knobs, sim_counters


def holds(state: DeskState, keys: set[tuple[str, str]]) -> bool:
    return {t.key for t in state.store.all_targets()} == keys


async def test_two_consoles_kill_at_once_one_batch_every_target_called_once(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (a_state, alice),
        desk_console(nats_server, "bob") as (b_state, bob),
    ):
        hub_targets = {t.key for t in desk.session.store.all_targets()}
        for state in (a_state, b_state):  # the whole picture in each console
            await until(state, partial(holds, state, hub_targets), "the picture")
        kill = alice.plan_kill(KillScope(), clear_leaves_behind=False)
        assert len(kill.plan) > 0 and alice.kill_lock() is None  # the hub holds the lock
        before = sim_counters(sim, "x3algo")
        heard: dict[str, list[ItemResult]] = {"alice": [], "bob": []}
        first, second = await asyncio.gather(
            alice.dispatch(kill.plan, heard["alice"].append),
            bob.dispatch(bob.plan_kill(KillScope(), clear_leaves_behind=False).plan,
                         heard["bob"].append),
        )  # fmt: skip
        assert first.batch_id == second.batch_id
        assert len(first.results) == len(kill.plan) and first.all_verified
        for results in heard.values():  # each console fed outcome then verification
            assert {(r.item.target_id, r.verified) for r in results if r.verified} == {
                (i.target_id, True) for i in kill.plan.items
            }
        stops = sum(1 for i in kill.plan.items if i.action.kind is ActionKind.STOP)
        after = sim_counters(sim, "x3algo")
        assert after.get("stopped", 0) - before.get("stopped", 0) == stops
        intents = desk.session.journal.entries(batch_id=first.batch_id, kind="intent")
        assert len(intents) == len(kill.plan)


async def test_a_plain_action_while_another_operators_plan_runs_is_busy(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (state, alice),
        desk_console(nats_server, "bob") as (_b_state, bob),
    ):
        hub_targets = {t.key for t in desk.session.store.all_targets()}
        await until(state, lambda: {t.key for t in state.store.all_targets()} == hub_targets,
                    "the picture")  # fmt: skip
        running = [t for t in state.store.all_targets() if t.state is State.RUNNING]
        stop = Plan(tuple(PlanItem.for_target(t, Action(ActionKind.STOP)) for t in running),
                    "Stop all")  # fmt: skip
        started = asyncio.Event()

        def on_activity(line: messages.ActivityMsg) -> None:
            if "Stop all — started" in line.text:
                started.set()

        state.on_activity(on_activity)
        set_knobs(sim, "x3algo", latency_ms=1500)  # alice's stops are in flight for 1.5 s
        kill = asyncio.ensure_future(alice.dispatch(stop))
        try:
            await asyncio.wait_for(started.wait(), 30)  # the hub runs alice's plan
            one = Plan((PlanItem.for_target(running[0], Action(ActionKind.STOP)),), "Stop one")
            with pytest.raises(DispatchBusy, match="busy"):
                await bob.dispatch(one)
        finally:
            report = await asyncio.wait_for(kill, 60)
            set_knobs(sim, "x3algo", latency_ms=0)
        assert report.all_verified
        assert await alice.verify_interrupted([]) == []
