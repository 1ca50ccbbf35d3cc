"""FinRadar client under the simulator's fault knobs, and paced under the rate limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.base import FeedStatus
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

API = "finradar"
STOP = Action(ActionKind.STOP)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    # Rate windows scaled to 1/100 (120 per 0.6 s), so Retry-After waits stay short.
    return {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


client = sim_clients.finradar_client


async def first_active(client: FinRadarClient) -> Target:
    return next(t for t in await client.list_targets() if t.raw_status == "ACTIVE")


async def test_pacing_keeps_a_burst_under_the_limit(sim: SimServer, client: FinRadarClient) -> None:
    targets = await client.list_targets()
    reads = [client.list_targets() for _ in range(150)]
    stops = [client.execute(t.id, STOP) for t in targets]
    results = await asyncio.gather(*reads, *stops)
    counters = sim_counters(sim, API)
    assert counters["requests"] > 160  # more than one window's 120 allows
    assert counters.get("429", 0) == 0
    assert all(len(r) == 12 for r in results[:150])
    assert all(isinstance(r, list) or r.ok for r in results)


async def test_without_pacing_the_simulator_refuses_the_excess(sim: SimServer) -> None:
    """The limit is real: the same burst unpaced meets 429s (so the test above can fail)."""
    set_knobs(sim, API, rate_scale=1.0)  # a full minute: however slow the machine, 130 > 120
    unpaced = FinRadarClient(settings_for(sim, API, pacing=False))
    await asyncio.gather(*(unpaced.list_targets() for _ in range(130)), return_exceptions=True)
    assert sim_counters(sim, API)["429"] > 0
    await unpaced.aclose()


async def test_latency_beyond_the_timeout_is_reread_and_found_applied(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, API, control_timeout_s=0.3, request_timeout_s=5.0))
    active = await first_active(client)
    set_knobs(sim, API, latency_ms=1000)
    outcome = await client.execute(active.id, STOP)
    set_knobs(sim, API, latency_ms=0)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "no answer" in outcome.message
    assert "re-read shows it STOPPED" in outcome.message
    assert sim_counters(sim, API)["stop"] == 1  # never re-sent
    await client.aclose()


async def test_latency_beyond_every_timeout_is_uncertain(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, API, control_timeout_s=0.2, request_timeout_s=0.2))
    active = await first_active(client)
    set_knobs(sim, API, latency_ms=600)
    outcome = await client.execute(active.id, STOP)
    set_knobs(sim, API, latency_ms=0)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "re-reading it failed too" in outcome.message
    assert "stop again" in outcome.message
    await client.aclose()


async def test_server_errors_leave_the_stop_uncertain_and_take_the_feed_down(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    """A 500 may come after the venue acted; the re-read (a 500 too) cannot say."""
    active = await first_active(client)
    set_knobs(sim, API, error_rate=1.0)
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert outcome.http_status == 500
    assert "Internal error" in outcome.message  # the venue's words
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    feed.cancel()
    assert "500 INTERNAL_ERROR" in sink.healths[-1][2]
    assert sim_admin(sim, API, "target", target_id=active.id)["status"] == "ACTIVE"


async def test_one_429_is_waited_out_and_retried(sim: SimServer, client: FinRadarClient) -> None:
    active = await first_active(client)
    set_knobs(sim, API, burst_429=1)
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, API)["429"] == 1


async def test_429s_go_again_until_the_stop_is_taken(
    sim: SimServer, client: FinRadarClient
) -> None:
    active = await first_active(client)
    set_knobs(sim, API, burst_429=2, retry_after="0")
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert sim_admin(sim, API, "target", target_id=active.id)["status"] == "STOPPED"


async def test_429s_for_ever_fail_as_rate_limited(sim: SimServer, client: FinRadarClient) -> None:
    active = await first_active(client)
    set_knobs(sim, API, control_429=-1, retry_after="0")
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.message.startswith("rate limited")
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert outcome.http_status == 429
    assert sim_admin(sim, API, "target", target_id=active.id)["status"] == "ACTIVE"


async def test_malformed_replies_make_the_stop_uncertain(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    active = await first_active(client)
    set_knobs(sim, API, malformed_rate=1.0)
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    feed.cancel()
    assert "malformed JSON" in sink.healths[-1][2]


async def test_unknown_status_is_unknown_with_the_raw_word_kept(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, unknown_status_rate=1.0)
    targets = await client.list_targets()
    assert {t.state for t in targets} == {State.UNKNOWN}
    assert {t.raw_status for t in targets} == {"SUSPENDED"}
    assert all(client.kill_action(t) == STOP for t in targets)


async def test_outage_fails_the_stop_and_the_feed_recovers(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    active = await first_active(client)
    set_knobs(sim, API, down=True)
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 503
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    assert "Service unavailable" in sink.healths[-1][2]
    set_knobs(sim, API, down=False)
    await sink.wait_for(lambda s: s.statuses[-1] is FeedStatus.POLLING and len(s.targets) == 12)
    feed.cancel()
