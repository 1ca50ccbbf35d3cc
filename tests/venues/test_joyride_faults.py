"""Joyride client under the simulator's fault knobs, pacing and the polling feed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.sim.joyride.world import UNKNOWN_WORDS
from console.sim.server import SimServer
from console.venues.joyride.client import JoyrideClient
from console.venues.kit.base import FeedStatus, RateLimit
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues.sim_clients import feeding, joyride

API = "joyride"
PAUSE = Action(ActionKind.PAUSE)
RESUME = Action(ActionKind.RESUME)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


def all_rounds(sim: SimServer) -> list[int]:
    return list(sim_admin(sim, API, "expirations")["expirations"])


def first_round(sim: SimServer) -> int:
    return int(sim_admin(sim, API, "expirations")["expirations"][0])


async def test_latency_beyond_the_timeout_is_uncertain_and_not_resent(sim: SimServer) -> None:
    exp = first_round(sim)
    set_knobs(sim, API, latency_ms=600)
    settings = settings_for(sim, API, control_timeout_s=0.2, request_timeout_s=3.0)
    async with joyride(settings) as client:
        outcome = await client.execute(str(exp), PAUSE)
        assert outcome.kind is OutcomeKind.UNCERTAIN
        assert outcome.state_after is None
        assert "still shows 48 instruments" in outcome.message
        assert "idempotent" in outcome.message
        set_knobs(sim, API, latency_ms=0)
        target = await client.read_target(str(exp))
    assert target is not None
    assert target.state is State.UNKNOWN  # nothing learned from a call without an answer
    # One POST, the re-read after it, and the read above: the POST was not sent again.
    assert sim_counters(sim, API)["requests"] == 3


async def test_server_errors_are_uncertain_with_the_venue_words(sim: SimServer) -> None:
    """A 500 may come after Joyride wrote its database (it writes it, then its engine):
    uncertain, never "nothing changed"; the re-read cannot say paused or not."""
    set_knobs(sim, API, error_rate=1.0)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(first_round(sim)), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "may have acted before it failed" in outcome.message
    assert outcome.http_status == 500
    assert "internal_error" in outcome.message
    assert "Internal error (simulated)" in outcome.message


async def test_one_429_burst_is_retried_once_and_applies(sim: SimServer) -> None:
    set_knobs(sim, API, burst_429=1, rate_scale=0.05)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(first_round(sim)), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, API)["429"] == 1


async def test_429s_go_again_until_the_pause_is_taken(sim: SimServer) -> None:
    exp = first_round(sim)
    set_knobs(sim, API, burst_429=2, rate_scale=0.05)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(exp), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert sim_counters(sim, API)["429"] == 2
    assert sim_admin(sim, API, "peek", expiration=exp)["db_paused"] > 0


async def test_429s_for_ever_fail_as_rate_limited_after_six_tries(sim: SimServer) -> None:
    exp = first_round(sim)
    set_knobs(sim, API, control_429=-1, retry_after="0")
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(exp), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert sim_counters(sim, API)["429"] == 6
    assert sim_admin(sim, API, "peek", expiration=exp)["db_paused"] == 0


async def test_malformed_reply_is_uncertain_and_says_malformed_json(sim: SimServer) -> None:
    set_knobs(sim, API, malformed_rate=1.0)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(first_round(sim)), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert "re-reading the instrument list failed too" in outcome.message


async def test_malformed_list_is_a_feed_error(sim: SimServer, sink: RecordingSink) -> None:
    set_knobs(sim, API, malformed_rate=1.0)
    async with joyride(settings_for(sim, API)) as client, feeding(client, sink):
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    detail = next(d for _, status, d in sink.healths if status is FeedStatus.DOWN)
    assert "malformed JSON" in detail


async def test_unknown_status_words_are_kept_raw_and_state_unknown(sim: SimServer) -> None:
    set_knobs(sim, API, unknown_status_rate=1.0)
    async with joyride(settings_for(sim, API)) as client:
        exp = first_round(sim)
        outcome = await client.execute(str(exp), PAUSE)
        targets = await client.list_targets()
    assert outcome.kind is OutcomeKind.APPLIED
    assert len(targets) == 4
    for t in targets:
        assert t.state is State.UNKNOWN
        assert t.raw_status in UNKNOWN_WORDS


async def test_venue_down_fails_calls_and_the_feed(sim: SimServer, sink: RecordingSink) -> None:
    set_knobs(sim, API, down=True)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(first_round(sim)), PAUSE)
        async with feeding(client, sink):
            await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 503
    detail = next(d for _, status, d in sink.healths if status is FeedStatus.DOWN)
    assert "service_unavailable" in detail
    assert "simulated outage" in detail


async def test_feed_polls_rounds_and_shows_what_this_process_set(
    sim: SimServer, sink: RecordingSink
) -> None:
    exp = first_round(sim)
    async with joyride(settings_for(sim, API)) as client, feeding(client, sink):
        await sink.wait_for(lambda s: len(s.targets) == 4 and FeedStatus.POLLING in s.statuses)
        assert sink.targets[(API, str(exp))].state is State.UNKNOWN
        await client.execute(str(exp), PAUSE)
        await sink.wait_for(lambda s: s.targets[(API, str(exp))].state is State.PAUSED)
    assert sink.targets[(API, str(exp))].attrs["pause_source"] == "set here"


async def test_feed_recovers_after_an_outage(sim: SimServer, sink: RecordingSink) -> None:
    set_knobs(sim, API, down=True)
    settings = settings_for(sim, API, poll_interval_s=0.05)
    async with joyride(settings) as client, feeding(client, sink):
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        set_knobs(sim, API, down=False)
        await sink.wait_for(lambda s: s.statuses[-1] is FeedStatus.POLLING and len(s.targets) == 4)


async def burst(client: JoyrideClient, expirations: list[int], n: int) -> list[Outcome]:
    actions = [PAUSE, RESUME]
    return await asyncio.gather(
        *(
            client.execute(str(expirations[i % len(expirations)]), actions[(i // 4) % 2])
            for i in range(n)
        )
    )


@pytest.mark.parametrize("sim_options", [{"vendors": (API,), "knobs": {API: {"rate_scale": 0.1}}}])
async def test_pacing_keeps_a_burst_under_the_limit(sim: SimServer) -> None:
    sim_admin(sim, API, "rate_limit", limit=20, window_s=1.0)
    async with joyride(settings_for(sim, API)) as client:
        outcomes = await burst(client, all_rounds(sim), 60)
    assert sim_counters(sim, API).get("429", 0) == 0
    assert all(o.ok for o in outcomes), [o.message for o in outcomes if not o.ok]


@pytest.mark.parametrize("sim_options", [{"vendors": (API,), "knobs": {API: {"rate_scale": 0.1}}}])
async def test_pacing_override_by_bucket_name(sim: SimServer) -> None:
    sim_admin(sim, API, "rate_limit", limit=5, window_s=1.0)
    settings = settings_for(sim, API, rate_limits={"admin": RateLimit(5, 1.0)})
    async with joyride(settings) as client:
        outcomes = await burst(client, all_rounds(sim), 20)
    assert sim_counters(sim, API).get("429", 0) == 0
    assert all(o.ok for o in outcomes)


@pytest.mark.parametrize("sim_options", [{"vendors": (API,), "knobs": {API: {"rate_scale": 0.1}}}])
async def test_without_pacing_the_same_burst_is_rate_limited(sim: SimServer) -> None:
    """The control for the pacing test: the simulator's limit does bite."""
    sim_admin(sim, API, "rate_limit", limit=20, window_s=1.0)
    async with joyride(settings_for(sim, API, pacing=False)) as client:
        await burst(client, all_rounds(sim), 60)
    assert sim_counters(sim, API).get("429", 0) > 0
