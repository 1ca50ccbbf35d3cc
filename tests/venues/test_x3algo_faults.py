"""The x3algo client under the simulator's fault knobs and rate limits (real loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus
from console.venues.x3algo.client import X3AlgoClient
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

STOP = Action(ActionKind.STOP)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",), "knobs": {"x3algo": {"rate_scale": 0.05}}}


client = sim_clients.x3algo_logged_in


def first_active(sim: SimServer) -> str:
    found: list[str] = sim_admin(sim, "x3algo", "ids", status="active")
    return found[0]


async def test_no_answer_in_time_is_not_resent_and_settled_by_a_reread(
    sim: SimServer,
) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo", control_timeout_s=0.5, request_timeout_s=5.0))
    try:
        await client.list_targets()
        algo = first_active(sim)
        set_knobs(sim, "x3algo", latency_ms=1000)
        outcome = await client.execute(algo, STOP)
        # The stop landed after 1 s; the re-read (sent at 0.5 s) is answered after 1.5 s.
        assert outcome.kind is OutcomeKind.APPLIED
        assert outcome.state_after is State.STOPPED
        assert "no answer" in outcome.message and "not re-sent" in outcome.message
        assert outcome.warning is not None
        assert sim_counters(sim, "x3algo")["stopped"] == 1
    finally:
        await client.aclose()


async def test_no_answer_and_no_reread_is_uncertain(sim: SimServer) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo", control_timeout_s=0.3, request_timeout_s=0.3))
    try:
        await client.list_targets()
        set_knobs(sim, "x3algo", latency_ms=800)
        outcome = await client.execute(first_active(sim), STOP)
        assert outcome.kind is OutcomeKind.UNCERTAIN
        assert "may or may not" in outcome.message
        assert outcome.state_after is None
    finally:
        await client.aclose()


async def test_server_errors_are_uncertain(client: X3AlgoClient, sim: SimServer) -> None:
    """A 500 may come after the venue acted: settled by a re-read (here a 500 too)."""
    set_knobs(sim, "x3algo", error_rate=1.0)
    outcome = await client.execute(first_active(sim), STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.UNCERTAIN, 500)
    assert "Internal error (simulated)" in outcome.message


async def test_one_429_is_waited_out_and_retried(client: X3AlgoClient, sim: SimServer) -> None:
    set_knobs(sim, "x3algo", burst_429=1)
    outcome = await client.execute(first_active(sim), STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, "x3algo")["429"] == 1


async def test_429s_go_again_until_the_stop_is_taken(client: X3AlgoClient, sim: SimServer) -> None:
    algo = first_active(sim)
    set_knobs(sim, "x3algo", burst_429=2, retry_after="0")
    outcome = await client.execute(algo, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.APPLIED, 200)
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert sim_counters(sim, "x3algo").get("stopped", 0) == 1


async def test_429s_for_ever_fail_as_rate_limited(client: X3AlgoClient, sim: SimServer) -> None:
    algo = first_active(sim)
    set_knobs(sim, "x3algo", control_429=-1, retry_after="0")
    outcome = await client.execute(algo, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 429)
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert sim_counters(sim, "x3algo").get("stopped", 0) == 0


async def test_malformed_control_reply_is_uncertain(client: X3AlgoClient, sim: SimServer) -> None:
    algo = first_active(sim)
    set_knobs(sim, "x3algo", malformed_rate=1.0)
    outcome = await client.execute(algo, STOP)
    assert outcome.kind is OutcomeKind.UNCERTAIN  # the re-read is cut short as well
    assert "malformed JSON" in outcome.message
    set_knobs(sim, "x3algo", malformed_rate=0.0)
    target = await client.read_target(algo)
    assert target is not None and target.state is State.STOPPED


async def test_malformed_list_reaches_the_feed_health(
    client: X3AlgoClient, sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, "x3algo", malformed_rate=1.0)
    feed = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        assert "malformed JSON" in sink.healths[-1][2]
    finally:
        feed.cancel()


async def test_unknown_status_is_unknown_with_the_raw_word(
    client: X3AlgoClient, sim: SimServer
) -> None:
    set_knobs(sim, "x3algo", unknown_status_rate=1.0)
    targets = await client.list_targets()
    assert {t.state for t in targets} == {State.UNKNOWN}
    assert {t.raw_status for t in targets} == {"hibernating"}
    assert all(client.kill_action(t) is not None for t in targets)


async def test_venue_down_fails_control_and_marks_the_feed_down(
    client: X3AlgoClient, sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, "x3algo", down=True)
    outcome = await client.execute(first_active(sim), STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 503)
    feed = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        assert "503" in sink.healths[-1][2]
        set_knobs(sim, "x3algo", down=False)
        await sink.wait_for(lambda s: s.statuses[-1] is FeedStatus.POLLING)
    finally:
        feed.cancel()


class TestPacing:
    """Under scaled windows the client stays inside every bucket: no 429 at all."""

    @pytest.fixture
    def sim_options(self) -> dict[str, Any]:
        return {
            "vendors": ("x3algo",),
            "scale": 4,
            "knobs": {"x3algo": {"rate_scale": 0.02}},
        }

    async def test_stopping_more_than_a_minutes_budget_sees_no_429(self, sim: SimServer) -> None:
        client = X3AlgoClient(settings_for(sim, "x3algo"))
        try:
            targets = await client.list_targets()
            assert len(targets) == 160  # two pages of 100
            running = [t for t in targets if t.state is State.RUNNING]
            assert len(running) > 100  # more than the trading bucket allows per window
            outcomes = await asyncio.gather(*(client.execute(t.id, STOP) for t in running))
            assert {o.kind for o in outcomes} == {OutcomeKind.APPLIED}
            counters = sim_counters(sim, "x3algo")
            assert counters.get("429", 0) == 0
            assert counters["stopped"] == len(running)
        finally:
            await client.aclose()
