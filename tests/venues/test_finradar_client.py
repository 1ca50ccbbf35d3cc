"""FinRadar client against the simulator on loopback: reads, every stop case, the feed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.base import FeedStatus, Secret
from tests.support import RecordingSink, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

STOP = Action(ActionKind.STOP)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("finradar",)}


client = sim_clients.finradar_client


def by_status(targets: list[Target], raw: str) -> list[Target]:
    return [t for t in targets if t.raw_status == raw]


async def test_list_reads_the_whole_seeded_world(sim: SimServer, client: FinRadarClient) -> None:
    targets = await client.list_targets()
    assert len(targets) == sim.vendors["finradar"].target_count() == 12
    assert len(by_status(targets, "ACTIVE")) == 3
    assert len(by_status(targets, "CREATED")) == 2
    stopped = by_status(targets, "STOPPED")
    assert {t.attrs["resolution"] for t in stopped} == {
        "window_expired",
        "manual_stop",
        "filing_hit",
    }
    assert all(t.attrs["filing_uuid"] for t in stopped if t.attrs["resolution"] == "filing_hit")
    assert all(t.attrs["slots_available"] == 2 and t.attrs["slots_total"] == 5 for t in targets)
    assert {t.state for t in by_status(targets, "CREATED")} == {State.RUNNING}


async def test_list_follows_small_pages(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, "finradar", options={"page_size": 5}))
    before = sim_counters(sim, "finradar").get("list", 0)
    targets = await client.list_targets()
    assert len({t.id for t in targets}) == 12
    assert sim_counters(sim, "finradar")["list"] - before == 3
    await client.aclose()


@pytest.mark.parametrize("sim_options", [{"vendors": ("finradar",), "scale": 30}])
async def test_list_follows_pages_of_200_at_scale(sim: SimServer, client: FinRadarClient) -> None:
    targets = await client.list_targets()
    assert len({t.id for t in targets}) == sim.vendors["finradar"].target_count() > 200
    assert len(by_status(targets, "ACTIVE")) == 5


async def test_read_target_finds_one_and_none_for_unknown(client: FinRadarClient) -> None:
    listed = (await client.list_targets())[0]
    again = await client.read_target(listed.id)
    assert again is not None
    assert (again.id, again.raw_status) == (listed.id, listed.raw_status)
    assert await client.read_target("tgt_000000000000") is None
    fresh = FinRadarClient(client.settings)  # no cached ticker: reads the whole list
    assert await fresh.read_target(listed.id) is not None
    await fresh.aclose()


async def test_stop_active_is_applied_and_frees_a_slot(client: FinRadarClient) -> None:
    active = by_status(await client.list_targets(), "ACTIVE")[0]
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.http_status == 200
    assert outcome.state_after is State.STOPPED
    assert "2 of 5 slots used" in outcome.message  # 3 ACTIVE before the stop
    after = await client.read_target(active.id)
    assert after is not None
    assert (after.state, after.attrs["resolution"]) == (State.STOPPED, "manual_stop")
    assert after.attrs["slots_available"] == 3


async def test_stop_created_is_applied_and_uses_no_slot(client: FinRadarClient) -> None:
    created = by_status(await client.list_targets(), "CREATED")[0]
    outcome = await client.execute(created.id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    after = await client.read_target(created.id)
    assert after is not None
    assert after.state is State.STOPPED
    assert after.attrs["slots_available"] == 2


async def test_stop_twice_reports_already_stopped(client: FinRadarClient) -> None:
    active = by_status(await client.list_targets(), "ACTIVE")[0]
    first = await client.execute(active.id, STOP)
    second = await client.execute(active.id, STOP)
    assert (first.kind, second.kind) == (OutcomeKind.APPLIED, OutcomeKind.ALREADY)
    assert second.state_after is State.STOPPED


async def test_second_console_stopping_the_same_target_reports_already(
    sim: SimServer, client: FinRadarClient
) -> None:
    active = by_status(await client.list_targets(), "ACTIVE")[0]
    assert (await client.execute(active.id, STOP)).kind is OutcomeKind.APPLIED
    other = FinRadarClient(settings_for(sim, "finradar"))
    await other.list_targets()
    assert (await other.execute(active.id, STOP)).kind is OutcomeKind.ALREADY
    await other.aclose()


@pytest.mark.parametrize(
    ("command", "reason"), [("expire", "window_expired"), ("fire", "filing_hit")]
)
async def test_stop_after_the_target_ended_by_itself_is_already(
    sim: SimServer, client: FinRadarClient, command: str, reason: str
) -> None:
    active = by_status(await client.list_targets(), "ACTIVE")[0]
    sim_admin(sim, "finradar", command, target_id=active.id)
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.ALREADY
    assert reason in outcome.message
    after = await client.read_target(active.id)
    assert after is not None
    assert after.attrs["resolution"] == reason  # the stop did not rewrite the reason


async def test_stop_of_old_history_without_a_read_is_already(sim: SimServer) -> None:
    reader = FinRadarClient(settings_for(sim, "finradar"))
    old = next(t for t in await reader.list_targets() if t.attrs["resolution"] == "manual_stop")
    fresh = FinRadarClient(settings_for(sim, "finradar"))
    outcome = await fresh.execute(old.id, STOP)
    assert outcome.kind is OutcomeKind.ALREADY
    await reader.aclose()
    await fresh.aclose()


async def test_stop_unknown_target_is_rejected(client: FinRadarClient) -> None:
    outcome = await client.execute("tgt_000000000000", STOP)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 404
    assert "unknown target (or not yours)" in outcome.message


async def test_stop_of_another_users_target_is_rejected_and_leaves_it(
    sim: SimServer, client: FinRadarClient
) -> None:
    foreign = sim_admin(sim, "finradar", "foreign_target")["target_id"]
    outcome = await client.execute(foreign, STOP)
    assert outcome.kind is OutcomeKind.REJECTED
    assert "not yours" in outcome.message
    assert sim_admin(sim, "finradar", "target", target_id=foreign)["status"] == "ACTIVE"


async def test_bad_api_key_is_a_clear_rejection_without_the_key(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    active = by_status(await client.list_targets(), "ACTIVE")[0]
    wrong = "0123456789abcdef0123456789abcdef"
    bad = FinRadarClient(settings_for(sim, "finradar", credentials={"api_key": Secret(wrong)}))
    outcome = await bad.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 401
    assert "credentials.api_key" in outcome.message
    assert "Missing or invalid API key" in outcome.message
    real = settings_for(sim, "finradar").secret("api_key").reveal()
    assert wrong not in outcome.message
    assert real not in outcome.message
    feed = asyncio.create_task(bad.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    feed.cancel()
    detail = next(h[2] for h in sink.healths if h[1] is FeedStatus.DOWN)
    assert "refused the API key" in detail
    assert wrong not in detail
    await bad.aclose()


async def test_feed_polls_and_sees_a_filing_hit(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: len(s.targets) == 12 and FeedStatus.POLLING in s.statuses)
    active = next(t for t in sink.targets.values() if t.raw_status == "ACTIVE")
    sim_admin(sim, "finradar", "fire", target_id=active.id)

    def hit(s: RecordingSink) -> bool:
        t = s.targets[active.key]
        return t.state is State.STOPPED and t.attrs["resolution"] == "filing_hit"

    await sink.wait_for(hit)
    assert sink.targets[active.key].attrs["slots_available"] == 3
    feed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await feed


async def test_feed_sees_a_created_target(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: len(s.targets) == 12)
    made = sim_admin(sim, "finradar", "create", ticker="brk.a", duration_minutes=30)
    await sink.wait_for(lambda s: ("finradar", made["target_id"]) in s.targets)
    target = sink.targets[("finradar", made["target_id"])]
    assert (target.attrs["ticker"], target.raw_status) == ("BRK-A", "ACTIVE")
    feed.cancel()
