"""55-tech client against the real simulator over loopback HTTP: reads, actions, faults."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import Any

import pytest

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.kit.base import Secret
from console.venues.kit.feeds import FeedError
from tests.support import set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients
from tests.venues.sim_clients import FiftyFiveMaker as Maker

API = "55tech"
ONLY_55TECH = {"vendors": (API,)}
FAST_WINDOWS = {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}
# 2,000 per 2.4 s: short enough for a test, long enough that loopback could overrun it.
PACING_WINDOWS = {"vendors": (API,), "knobs": {API: {"rate_scale": 0.04}}}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return ONLY_55TECH


clients = sim_clients.fiftyfive_clients
make_client = sim_clients.fiftyfive_maker


def all_keys(sim: SimServer) -> list[str]:
    return sim.vendors[API].credentials()["api_keys"].split(",")


async def live_engine(client: FiftyFiveClient) -> str:
    targets = await client.list_targets()
    return next(t.id for t in targets if t.raw_status == "live")


def assert_no_secret(sim: SimServer, *texts: str | None) -> None:
    for text in texts:
        for key in all_keys(sim):
            assert key not in (text or "")


# ----- reads --------------------------------------------------------------------------------
async def test_lists_one_engine_per_key_with_the_seeded_mix(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    targets = await client.list_targets()
    assert len(targets) == 4
    assert sorted(t.raw_status for t in targets) == [
        "live",
        "live",
        "manual_paused",
        "manual_stopped",
    ]
    paused = next(t for t in targets if t.state is State.PAUSED)
    assert paused.attrs["pause_reason"]
    assert paused.attrs["status_words"] == "MANUAL PAUSED"
    assert all(t.name and t.id == t.attrs["client"] for t in targets)


@pytest.mark.parametrize("sim_options", [{"vendors": (API,), "scale": 5}])
async def test_reads_every_key_of_a_larger_world(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    targets = await client.list_targets()
    assert len(targets) == 20 == len({t.id for t in targets})
    one = targets[7]
    again = await client.read_target(one.id)
    assert again is not None
    assert (again.id, again.raw_status) == (one.id, one.raw_status)
    assert await client.read_target("no-such-client") is None


# ----- every action and every repeat ---------------------------------------------------------
async def test_every_action_and_its_repeat(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)

    async def run(kind: ActionKind, reason: str | None = None) -> tuple[OutcomeKind, State | None]:
        outcome = await client.execute(engine, Action(kind, reason=reason))
        return outcome.kind, outcome.state_after

    assert await run(ActionKind.PAUSE, "line moved") == (OutcomeKind.APPLIED, State.PAUSED)
    target = await client.read_target(engine)
    assert target is not None
    assert target.attrs["pause_reason"] == "line moved"
    assert await run(ActionKind.PAUSE) == (OutcomeKind.ALREADY, State.PAUSED)
    assert await run(ActionKind.RESUME) == (OutcomeKind.APPLIED, State.RUNNING)
    assert await run(ActionKind.RESUME) == (OutcomeKind.ALREADY, State.RUNNING)
    assert await run(ActionKind.STOP, "desk call") == (OutcomeKind.APPLIED, State.STOPPED)
    assert await run(ActionKind.STOP) == (OutcomeKind.ALREADY, State.STOPPED)
    assert await run(ActionKind.RESUME) == (OutcomeKind.REJECTED, State.STOPPED)
    assert await run(ActionKind.START) == (OutcomeKind.APPLIED, State.RUNNING)
    assert await run(ActionKind.START) == (OutcomeKind.ALREADY, State.RUNNING)


@pytest.mark.parametrize(
    "sim_options", [{"vendors": (API,), "knobs": {API: {"conflict_mode": True}}}]
)
async def test_conflict_mode_repeats_are_reported_already_after_a_reread(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    engine = await live_engine(client)
    first = await client.execute(engine, Action(ActionKind.STOP))
    repeat = await client.execute(engine, Action(ActionKind.STOP))
    nothing_to_resume = await client.execute(engine, Action(ActionKind.RESUME))
    assert first.kind is OutcomeKind.APPLIED
    assert (repeat.kind, repeat.http_status, repeat.state_after) == (
        OutcomeKind.ALREADY,
        409,
        State.STOPPED,
    )
    assert "already stopped" in repeat.message
    # Resume of a stopped engine is no repeat: still start_required, a rejection.
    assert nothing_to_resume.kind is OutcomeKind.REJECTED
    assert "use start" in nothing_to_resume.message


# ----- auth -----------------------------------------------------------------------------------
async def test_unknown_key_is_refused_in_words_without_the_key(
    sim: SimServer, clients: list[FiftyFiveClient]
) -> None:
    stranger = str(uuid.UUID(int=12345, version=4))
    settings = settings_for(sim, API)
    settings = replace(settings, credentials={"api_keys": Secret(f"{all_keys(sim)[0]},{stranger}")})
    client = FiftyFiveClient(settings)
    clients.append(client)
    # The refused key fails its own engine only: the other one is still listed.
    targets = await client.list_targets()
    assert len(targets) == 1
    [row] = client.skipped_rows
    assert row.startswith("key #2: ")
    assert "refused the API key" in row
    assert "'Invalid or missing API key'" in row
    assert stranger not in row
    assert_no_secret(sim, row)
    # With no key answering, nothing can be said of any engine: the read raises.
    only_stranger = replace(settings, credentials={"api_keys": Secret(stranger)})
    alone = FiftyFiveClient(only_stranger)
    clients.append(alone)
    with pytest.raises(FeedError) as info:
        await alone.list_targets()
    assert "refused the API key" in str(info.value)
    assert stranger not in str(info.value)


async def test_revoked_key_rejects_the_control_call(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)
    sim_admin(sim, API, "revoke_key", client=engine)
    outcome = await client.execute(engine, Action(ActionKind.STOP, reason="kill"))
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 401
    assert "API key refused" in outcome.message
    assert_no_secret(sim, outcome.message, outcome.warning, repr(outcome))


# ----- pacing -----------------------------------------------------------------------------
@pytest.mark.parametrize("sim_options", [PACING_WINDOWS])
async def test_pacing_keeps_a_burst_over_the_limit_free_of_429s(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()  # the sim's rate_scale mirrored: 2,000 per 2.4 s per key
    first = [await client.read_key(i) for i in range(4)]
    index = next(i for i, t in enumerate(first) if t.raw_status == "live")
    engine = first[index].id
    reads = [client.read_status(index) for _ in range(2100)]
    controls = [
        client.execute(engine, Action(ActionKind.PAUSE if i % 2 else ActionKind.RESUME))
        for i in range(60)
    ]
    results = await asyncio.gather(*reads, *controls, return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == 60
    assert all(o.ok for o in outcomes), {o.message for o in outcomes if not o.ok}
    counters = sim_counters(sim, API)
    assert counters.get("429", 0) == 0
    assert counters["status"] >= 2104


# ----- fault knobs ---------------------------------------------------------------------------
async def test_latency_beyond_the_timeout_is_not_resent_and_the_reread_shows_it(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client(control_timeout_s=0.3, request_timeout_s=5.0)
    engine = await live_engine(client)
    set_knobs(sim, API, latency_ms=900)
    outcome = await client.execute(engine, Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.message.startswith("No usable answer from 55-tech to pause")
    assert outcome.state_after is State.PAUSED
    assert sim_counters(sim, API).get("control_pause") == 1


async def test_latency_with_the_reread_timing_out_too_is_uncertain(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client(control_timeout_s=0.2, request_timeout_s=0.2)
    engine = await live_engine(client)
    set_knobs(sim, API, latency_ms=600)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "follow-up read failed too" in outcome.message


async def test_error_rate_leaves_the_call_uncertain(sim: SimServer, make_client: Maker) -> None:
    """A 500 may come after the venue acted; the re-read (a 500 too) cannot say."""
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, error_rate=1.0)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.UNCERTAIN, 500)
    assert "Internal error (simulated)" in outcome.message


@pytest.mark.parametrize("sim_options", [FAST_WINDOWS])
async def test_one_429_is_retried_once_and_lands(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, burst_429=1)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, API).get("control_stop") == 1


@pytest.mark.parametrize("sim_options", [FAST_WINDOWS])
async def test_429s_go_again_until_the_stop_is_taken(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, burst_429=2, retry_after="0")
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.APPLIED, 200)
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert sim_counters(sim, API).get("control_stop") == 1


async def test_429s_for_ever_fail_as_rate_limited(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, control_429=-1, retry_after="0")
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 429)
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert sim_counters(sim, API).get("control_stop") is None


async def test_malformed_answers_make_control_uncertain_and_reads_fail(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, malformed_rate=1.0)
    outcome = await client.execute(engine, Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert sim_counters(sim, API).get("control_pause") == 1
    with pytest.raises(FeedError, match="malformed JSON"):
        await client.list_targets()


async def test_unknown_status_is_kept_raw_as_state_unknown(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    set_knobs(sim, API, unknown_status_rate=1.0)
    targets = await client.list_targets()
    assert {(t.state, t.raw_status) for t in targets} == {(State.UNKNOWN, "hibernating")}
    assert targets[0].attrs["status_words"] == "HIBERNATING"


async def test_down_venue_fails_calls_and_reads(sim: SimServer, make_client: Maker) -> None:
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, down=True)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 503)
    with pytest.raises(FeedError, match="503"):
        await client.list_targets()


async def test_an_answer_naming_another_client_is_settled_by_a_re_read(
    sim: SimServer, make_client: Maker
) -> None:
    """The stop's answer says another client stopped: it is no answer about this engine
    (it was read as this engine's, with no word of the mismatch); the re-read decides."""
    client = make_client()
    engine = await live_engine(client)
    set_knobs(sim, API, echo_other=True)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED  # the re-read shows it stopped
    assert "an answer about another target" in outcome.message
