"""PipAI client against the real simulator on loopback: reads, every action, idempotency, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.base import Secret
from console.venues.kit.feeds import FeedError
from console.venues.pipai.client import PipAIClient
from tests.support import settings_for, sim_admin, sim_counters


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("pipai",)}  # the other four simulated vendors are not needed here


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[PipAIClient]:
    c = PipAIClient(settings_for(sim, "pipai", options={"page_size": 7}))
    yield c
    await c.aclose()


def ids_with(sim: SimServer, status: str) -> list[str]:
    return [s["id"] for s in sim_admin(sim, "pipai", "strategies", status=status)]


def pause(close: bool = False) -> Action:
    return Action(ActionKind.PAUSE, {"close_positions": close})


async def test_list_follows_pagination_to_every_strategy(
    sim: SimServer, client: PipAIClient
) -> None:
    targets = await client.list_targets()
    world = sim_admin(sim, "pipai", "strategies")
    assert [t.id for t in targets] == [s["id"] for s in world]
    assert sim_counters(sim, "pipai")["list"] == 5  # 30 strategies, 7 per page
    states = {t.raw_status: t.state for t in targets}
    assert states == {
        "deployed": State.RUNNING,
        "paused": State.PAUSED,
        "draft": State.STOPPED,
        "stopped": State.STOPPED,
        "error": State.ERROR,
    }
    first = targets[0]
    assert {"template", "symbols", "capital", "pnl", "open_positions"} <= set(first.attrs)


async def test_read_target_and_missing_target(sim: SimServer, client: PipAIClient) -> None:
    sid = ids_with(sim, "paused")[0]
    target = await client.read_target(sid)
    assert target is not None
    assert (target.id, target.state) == (sid, State.PAUSED)
    assert await client.read_target("strat_000000") is None


async def test_pause_keeps_positions_and_twice_is_already(
    sim: SimServer, client: PipAIClient
) -> None:
    sid = ids_with(sim, "deployed")[0]
    sim_admin(sim, "pipai", "set_positions", id=sid, count=2)
    first = await client.execute(sid, pause())
    assert first.kind is OutcomeKind.APPLIED
    assert first.state_after is State.PAUSED
    assert "2 open position(s) stay open" in first.message
    second = await client.execute(sid, pause())
    assert second.kind is OutcomeKind.ALREADY
    assert second.http_status == 409
    assert second.warning is None
    flatten = await client.execute(sid, pause(close=True))
    assert flatten.kind is OutcomeKind.ALREADY
    assert flatten.warning is not None
    assert "2 position(s) stay open" in flatten.warning


async def test_pause_with_close_positions_flattens(sim: SimServer, client: PipAIClient) -> None:
    sid = ids_with(sim, "deployed")[0]
    sim_admin(sim, "pipai", "set_positions", id=sid, count=3)
    outcome = await client.execute(sid, pause(close=True))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "closed at market" in outcome.message
    target = await client.read_target(sid)
    assert target is not None
    assert target.attrs["open_positions"] == 0


async def test_resume_redeploys_and_twice_is_already(sim: SimServer, client: PipAIClient) -> None:
    sid = ids_with(sim, "paused")[0]
    first = await client.execute(sid, Action(ActionKind.RESUME))
    assert first.kind is OutcomeKind.APPLIED
    assert first.state_after is State.RUNNING
    second = await client.execute(sid, Action(ActionKind.RESUME))
    assert second.kind is OutcomeKind.ALREADY
    assert second.state_after is State.RUNNING


@pytest.mark.parametrize("status", ["draft", "stopped", "error"])
async def test_pause_where_pipai_cannot_is_rejected_with_state(
    sim: SimServer, client: PipAIClient, status: str
) -> None:
    sid = ids_with(sim, status)[0]
    outcome = await client.execute(sid, pause(close=True))
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.vendor_code == "INVALID_STATE"
    assert f"re-read shows it {status}" in outcome.message


async def test_resume_of_a_stopped_strategy_is_rejected(
    sim: SimServer, client: PipAIClient
) -> None:
    sid = ids_with(sim, "stopped")[0]
    outcome = await client.execute(sid, Action(ActionKind.RESUME))
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.state_after is State.STOPPED


async def test_pause_of_an_unknown_strategy_is_rejected(client: PipAIClient) -> None:
    outcome = await client.execute("strat_000000", pause())
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.vendor_code == "NOT_FOUND"
    assert "strat_000000" in outcome.message


async def test_kill_action_then_execute_halts_every_running_strategy(
    sim: SimServer, client: PipAIClient
) -> None:
    targets = await client.list_targets()
    kills = [(t.id, client.kill_action(t, clear_leaves_behind=True)) for t in targets]
    planned = [(tid, action) for tid, action in kills if action is not None]
    assert {tid for tid, _ in planned} == set(ids_with(sim, "deployed"))
    outcomes = [await client.execute(tid, action) for tid, action in planned]
    assert {o.kind for o in outcomes} == {OutcomeKind.APPLIED}
    after = {t.id: t for t in await client.list_targets()}
    for tid, _ in planned:
        assert after[tid].state is State.PAUSED
        assert after[tid].attrs["open_positions"] == 0


def bad_credentials(sim: SimServer, **creds: str) -> dict[str, Any]:
    good = sim.vendors["pipai"].credentials()
    return {"credentials": {k: Secret(creds.get(k, v)) for k, v in good.items()}}


async def test_wrong_secret_is_a_clear_rejection_without_secrets(sim: SimServer) -> None:
    wrong = "sk_wrong_secret_value_123456"
    client = PipAIClient(settings_for(sim, "pipai", **bad_credentials(sim, api_secret=wrong)))
    sid = ids_with(sim, "deployed")[0]
    outcome = await client.execute(sid, pause())
    with pytest.raises(FeedError) as listing:
        await client.list_targets()
    await client.aclose()
    key = sim.vendors["pipai"].credentials()["api_key"]
    for text in (outcome.message, str(listing.value)):
        assert "INVALID_SIGNATURE" in text
        assert "api_secret" in text
        assert wrong not in text
        assert key not in text
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 401


async def test_expired_and_read_only_keys_are_explained(sim: SimServer) -> None:
    readonly = sim_admin(sim, "pipai", "add_key", permission="read-only")
    creds = {"api_key": readonly["api_key"], "api_secret": readonly["api_secret"]}
    client = PipAIClient(settings_for(sim, "pipai", **bad_credentials(sim, **creds)))
    sid = ids_with(sim, "deployed")[0]
    refused = await client.execute(sid, pause())
    assert refused.kind is OutcomeKind.REJECTED
    assert refused.vendor_code == "INSUFFICIENT_PERMISSION"
    assert "'trade' permission" in refused.message
    sim_admin(sim, "pipai", "expire_key", api_key=readonly["api_key"])
    expired = await client.execute(sid, pause())
    await client.aclose()
    assert expired.vendor_code == "KEY_EXPIRED"
    assert "rotate" in expired.message
