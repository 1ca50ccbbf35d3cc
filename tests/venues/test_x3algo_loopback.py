"""The x3algo client against the simulator over real loopback HTTP (seed 7, still world)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus, Secret
from console.venues.x3algo.client import X3AlgoClient, X3AlgoReadError
from tests.support import RecordingSink, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

STOP = Action(ActionKind.STOP)
START = Action(ActionKind.START)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",), "knobs": {"x3algo": {"rate_scale": 0.05}}}


client = sim_clients.x3algo_client


def ids(sim: SimServer, status: str | None) -> list[str]:
    found: list[str] = sim_admin(sim, "x3algo", "ids", status=status)
    return found


async def test_list_reads_every_algorithm(client: X3AlgoClient, sim: SimServer) -> None:
    targets = await client.list_targets()
    assert len(targets) == 40
    assert {t.id for t in targets} == set(ids(sim, None))
    states = [t.state for t in targets]
    assert states.count(State.RUNNING) > 20
    assert State.PAUSED in states and State.ERROR in states
    sample = next(t for t in targets if t.state is State.RUNNING)
    assert {"symbols", "timeframe", "strategy_type", "trades", "win_rate", "profit"} <= set(
        sample.attrs
    )


async def test_read_target_gives_last_execution_and_none_for_unknown(
    client: X3AlgoClient, sim: SimServer
) -> None:
    active = ids(sim, "active")[0]
    target = await client.read_target(active)
    assert target is not None and target.state is State.RUNNING
    assert isinstance(target.attrs.get("last_execution"), str)
    assert await client.read_target("0" * 24) is None


async def test_reading_another_users_algorithm_says_so(
    client: X3AlgoClient, sim: SimServer
) -> None:
    foreign = sim_admin(sim, "x3algo", "special")["foreign"]
    with pytest.raises(X3AlgoReadError, match="403 FORBIDDEN"):
        await client.read_target(foreign)


async def test_stop_then_stop_again_is_applied_then_already(
    client: X3AlgoClient, sim: SimServer
) -> None:
    algo = ids(sim, "active")[0]
    first = await client.execute(algo, STOP)
    assert (first.kind, first.state_after) == (OutcomeKind.APPLIED, State.STOPPED)
    second = await client.execute(algo, STOP)
    assert (second.kind, second.state_after) == (OutcomeKind.ALREADY, State.STOPPED)
    assert "Algorithm not active" in second.message


async def test_stop_of_paused_is_applied_and_of_draft_is_already(
    client: X3AlgoClient, sim: SimServer
) -> None:
    paused = ids(sim, "paused")[0]
    assert (await client.execute(paused, STOP)).kind is OutcomeKind.APPLIED
    draft = sim_admin(sim, "x3algo", "special")["draft"]
    assert (await client.execute(draft, STOP)).kind is OutcomeKind.ALREADY


async def test_stop_of_an_algorithm_in_error_is_rejected(
    client: X3AlgoClient, sim: SimServer
) -> None:
    errored = sim_admin(sim, "x3algo", "special")["error"]
    outcome = await client.execute(errored, STOP)
    assert (outcome.kind, outcome.state_after) == (OutcomeKind.REJECTED, State.ERROR)


async def test_start_then_start_again_is_applied_then_already(
    client: X3AlgoClient, sim: SimServer
) -> None:
    stopped = ids(sim, "stopped")
    daily = sim_admin(sim, "x3algo", "special")["daily_loss"]
    algo = next(a for a in stopped if a != daily)
    first = await client.execute(algo, START)
    assert (first.kind, first.state_after) == (OutcomeKind.APPLIED, State.RUNNING)
    second = await client.execute(algo, START)
    assert (second.kind, second.state_after) == (OutcomeKind.ALREADY, State.RUNNING)


async def test_start_of_paused_is_rejected_with_the_vendor_reason(
    client: X3AlgoClient, sim: SimServer
) -> None:
    outcome = await client.execute(ids(sim, "paused")[0], START)
    assert (outcome.kind, outcome.state_after) == (OutcomeKind.REJECTED, State.PAUSED)


async def test_start_of_draft_and_of_daily_loss_are_rejected_with_details(
    client: X3AlgoClient, sim: SimServer
) -> None:
    special = sim_admin(sim, "x3algo", "special")
    draft = await client.execute(special["draft"], START)
    assert (draft.kind, draft.http_status) == (OutcomeKind.REJECTED, 400)
    assert "entryConditions.conditions" in draft.message
    loss = await client.execute(special["daily_loss"], START)
    assert (loss.kind, loss.http_status, loss.vendor_code) == (
        OutcomeKind.REJECTED,
        403,
        "FORBIDDEN",
    )
    assert "Daily loss limit reached" in loss.message


async def test_control_of_unknown_algorithm_is_rejected_as_not_found(
    client: X3AlgoClient,
) -> None:
    outcome = await client.execute("f" * 24, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.REJECTED, 404)
    assert "Algorithm not found" in outcome.message


async def test_one_login_across_many_calls(client: X3AlgoClient, sim: SimServer) -> None:
    active = ids(sim, "active")
    await asyncio.gather(*(client.read_target(a) for a in active))
    await asyncio.gather(*(client.execute(a, STOP) for a in active[:10]))
    await client.list_targets()
    assert sim_counters(sim, "x3algo")["logins"] == 1
    assert client.session.logins == 1


async def test_token_refresh_works_end_to_end(client: X3AlgoClient, sim: SimServer) -> None:
    active = ids(sim, "active")
    assert (await client.execute(active[0], STOP)).kind is OutcomeKind.APPLIED
    sim_admin(sim, "x3algo", "expire_tokens")
    outcomes = await asyncio.gather(*(client.execute(a, STOP) for a in active[1:6]))
    assert {o.kind for o in outcomes} == {OutcomeKind.APPLIED}
    assert len(await client.list_targets()) == 40
    counters = sim_counters(sim, "x3algo")
    assert (counters["logins"], counters["refreshes"]) == (1, 1)
    assert counters["401_token_expired"] >= 1


async def test_revoked_refresh_cookie_falls_back_to_one_login(
    client: X3AlgoClient, sim: SimServer
) -> None:
    await client.list_targets()
    sim_admin(sim, "x3algo", "expire_tokens")
    sim_admin(sim, "x3algo", "revoke_refresh_tokens")
    assert len(await client.list_targets()) == 40
    counters = sim_counters(sim, "x3algo")
    assert (counters["logins"], counters["refresh_refused"]) == (2, 1)


async def test_bad_password_is_a_clear_failure_for_control_and_feed(
    sim: SimServer, sink: RecordingSink
) -> None:
    settings = settings_for(sim, "x3algo")
    password = settings.credentials["password"].reveal()
    bad = settings_for(
        sim, "x3algo", credentials={**settings.credentials, "password": Secret("wrong-" + password)}
    )
    client = X3AlgoClient(bad)
    try:
        outcome = await client.execute(ids(sim, "active")[0], STOP)
        assert outcome.kind is OutcomeKind.FAILED
        assert "Invalid credentials" in outcome.message
        assert password not in outcome.message
        feed = asyncio.create_task(client.run_feed(sink))
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        feed.cancel()
        detail = next(h[2] for h in sink.healths if h[1] is FeedStatus.DOWN)
        assert "Invalid credentials" in detail and password not in detail
        assert sim_counters(sim, "x3algo")["login_refused"] == 1
    finally:
        await client.aclose()


async def test_feed_polls_and_sees_a_stop(
    client: X3AlgoClient, sim: SimServer, sink: RecordingSink
) -> None:
    feed = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: len(s.targets) == 40 and FeedStatus.POLLING in s.statuses)
        algo = ids(sim, "active")[0]
        assert (await client.execute(algo, STOP)).kind is OutcomeKind.APPLIED
        await sink.wait_for(lambda s: s.targets[("x3algo", algo)].state is State.STOPPED)
    finally:
        feed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await feed
