"""PipAI client under the simulator's fault knobs (latency, 5xx, 429, malformed, unknown, down)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.feeds import FeedError
from console.venues.pipai.client import PipAIClient
from tests.support import set_knobs, settings_for, sim_admin, sim_counters


@pytest.fixture
def sim_options() -> dict[str, Any]:
    # Short rate windows: the shared 429 burst then asks for a 0.05 s Retry-After.
    return {"knobs": {"pipai": {"rate_scale": 0.05}}, "vendors": ("pipai",)}


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[PipAIClient]:
    c = PipAIClient(settings_for(sim, "pipai"))
    yield c
    await c.aclose()


def deployed(sim: SimServer) -> str:
    return str(sim_admin(sim, "pipai", "strategies", status="deployed")[0]["id"])


def status_of(sim: SimServer, sid: str) -> str:
    return next(s["status"] for s in sim_admin(sim, "pipai", "strategies") if s["id"] == sid)


PAUSE = Action(ActionKind.PAUSE, {"close_positions": False})


async def test_latency_beyond_timeout_is_not_resent_and_reread_decides(sim: SimServer) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", latency_ms=800)
    client = PipAIClient(settings_for(sim, "pipai", control_timeout_s=0.3, request_timeout_s=3.0))
    outcome = await client.execute(sid, PAUSE)
    await client.aclose()
    # Today the shared latency knob drops a request whose client gave up (the re-read
    # shows deployed); a server that still acts on it is re-read after the pause landed.
    landed = status_of(sim, sid) == "paused"
    expected = (
        (OutcomeKind.APPLIED, State.PAUSED) if landed else (OutcomeKind.UNCERTAIN, State.RUNNING)
    )
    assert (outcome.kind, outcome.state_after) == expected
    assert "no answer within 0.3 s" in outcome.message
    assert "not re-sent" in outcome.message
    assert sim_counters(sim, "pipai")["arrived:pause"] == 1


async def test_latency_with_failed_reread_is_uncertain(sim: SimServer) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", latency_ms=800)
    client = PipAIClient(settings_for(sim, "pipai", control_timeout_s=0.3, request_timeout_s=0.3))
    outcome = await client.execute(sid, PAUSE)
    await client.aclose()
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert outcome.state_after is None
    assert "re-read failed too" in outcome.message


async def test_error_rate_is_uncertain_with_pipais_words(
    sim: SimServer, client: PipAIClient
) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", error_rate=1.0)
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN  # a 500 may come after the venue acted
    assert outcome.http_status == 500
    assert "INTERNAL_ERROR" in outcome.message
    with pytest.raises(FeedError, match="INTERNAL_ERROR"):
        await client.list_targets()
    set_knobs(sim, "pipai", error_rate=0.0)
    assert status_of(sim, sid) == "deployed"


async def test_single_429_is_retried_once_after_retry_after(
    sim: SimServer, client: PipAIClient
) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", burst_429=1)
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    counters = sim_counters(sim, "pipai")
    assert (counters["429"], counters["pause"]) == (1, 1)


async def test_429s_go_again_until_the_pause_is_taken(sim: SimServer, client: PipAIClient) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", burst_429=2, retry_after="0")
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert status_of(sim, sid) == "paused"


async def test_429s_for_ever_fail_as_rate_limited(sim: SimServer, client: PipAIClient) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", control_429=-1, retry_after="0")
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.vendor_code == "RATE_LIMITED"
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert status_of(sim, sid) == "deployed"


async def test_malformed_json_is_uncertain_and_a_feed_error(
    sim: SimServer, client: PipAIClient
) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", malformed_rate=1.0)
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert sim_counters(sim, "pipai")["arrived:pause"] == 1
    with pytest.raises(FeedError, match="malformed JSON"):
        await client.list_targets()


async def test_unknown_status_keeps_the_raw_word(sim: SimServer, client: PipAIClient) -> None:
    set_knobs(sim, "pipai", unknown_status_rate=1.0)
    targets = await client.list_targets()
    assert {t.state for t in targets} == {State.UNKNOWN}
    assert {t.raw_status for t in targets} == {"hibernating"}
    assert [a.kind for a in client.actions_for(targets[0])] == [ActionKind.PAUSE]


async def test_down_venue_fails_control_and_reads(sim: SimServer, client: PipAIClient) -> None:
    sid = deployed(sim)
    set_knobs(sim, "pipai", down=True)
    outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 503
    assert "try again" in outcome.message
    with pytest.raises(FeedError, match="503"):
        await client.list_targets()
