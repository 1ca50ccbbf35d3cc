"""x3algo against the answers an independent tester's hostile venue gave (issue 11, second
round), reproduced by the simulator's knobs over real loopback HTTP.

Each test failed on the code before its fix: a gzip bomb inflated past the body cap
(``list_bomb_mb``, ``control_bomb_mb``), a first page whose ``totalPages: 1`` hid a
second one its ``total`` counted (``pages_lie``), a list that names ``data`` twice, the
second time empty (``duplicate_keys``), a stop refused with a 400 told in a draft
start's words (``control_400``), and ``"status": "stopped"`` beside ``"active": true``
counted halted (``still_active``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.feeds import FeedError, Unreadable
from console.venues.x3algo.client import X3AlgoClient
from tests.support import set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients
from tests.venues.test_x3algo_hostile import active

STOP = Action(ActionKind.STOP)
GUARD_S = 20  # a hang guard only
TWO_MB = 2 * 1_048_576


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",), "knobs": {"x3algo": {"rate_scale": 0.05}}}


client = sim_clients.x3algo_logged_in


async def test_a_gzip_bomb_list_answer_is_refused_at_the_inflated_cap(sim: SimServer) -> None:
    """48 KB on the wire inflating to 48 MB: the cap counts what is inflated, so the
    answer is 'larger than 2 MB', not read (before: read whole, then 'malformed')."""
    x3 = X3AlgoClient(settings_for(sim, "x3algo", max_body_bytes=TWO_MB))
    try:
        set_knobs(sim, "x3algo", list_bomb_mb=48)
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(FeedError, match=r"larger than 2 MB \(max_body_bytes\)") as err:
                await x3.list_targets()
        assert not isinstance(err.value, Unreadable)
    finally:
        await x3.aclose()


async def test_a_gzip_bomb_stop_answer_is_not_read_and_the_stop_is_not_called_done(
    sim: SimServer,
) -> None:
    """An action's answer is one small object, and a kill reads hundreds at once: it is
    capped at 1 MB whatever ``max_body_bytes`` (64 MB here) allows."""
    x3 = X3AlgoClient(settings_for(sim, "x3algo"))
    try:
        await x3.list_targets()
        algo = active(sim)[0]
        set_knobs(sim, "x3algo", control_bomb_mb=48)
        async with asyncio.timeout(GUARD_S):
            outcome = await x3.execute(algo, STOP)
        assert outcome.kind is not OutcomeKind.APPLIED, outcome
        assert "larger than 1 MB (the cap on an action's answer)" in outcome.message
        assert sim_counters(sim, "x3algo")["bomb"] == 2  # found running: sent once more
        assert algo in active(sim)  # the bomb answered before anything was done
    finally:
        await x3.aclose()


@pytest.mark.parametrize("sim_options", [{"vendors": ("x3algo",), "scale": 4}])
async def test_total_pages_of_one_with_a_larger_total_reads_on(sim: SimServer) -> None:
    """``totalPages: 1``, ``total: 160``, 100 rows: the second page is read (before, 60
    algorithms were never listed and the list called whole)."""
    everything = sim_admin(sim, "x3algo", "ids")
    assert len(everything) > 100
    set_knobs(sim, "x3algo", pages_lie=True)
    x3 = X3AlgoClient(settings_for(sim, "x3algo"))
    try:
        async with asyncio.timeout(GUARD_S):
            targets = await x3.list_targets()
    finally:
        await x3.aclose()
    assert sorted(t.id for t in targets) == sorted(everything)


async def test_a_list_naming_data_twice_is_unreadable_not_empty(
    sim: SimServer, client: X3AlgoClient
) -> None:
    set_knobs(sim, "x3algo", duplicate_keys=True)
    with pytest.raises(Unreadable, match="'data' appears twice"):
        await client.list_targets()


async def test_a_stop_refused_400_is_told_in_a_stops_words(
    sim: SimServer, client: X3AlgoClient
) -> None:
    algo = active(sim)[0]
    set_knobs(sim, "x3algo", control_400=1)
    outcome = await client.execute(algo, STOP)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 400
    assert "refused the stop" in outcome.message, outcome.message
    assert "may still be running" in outcome.message
    assert "start" not in outcome.message, outcome.message  # not a draft's start words
    read = await client.read_target(algo)
    assert read is not None and read.state is State.RUNNING


async def test_stopped_with_active_true_is_never_counted_halted(
    sim: SimServer, client: X3AlgoClient
) -> None:
    """x3algo's two words disagree: the stop's answer is settled by a re-read (not
    applied on its word) and the re-read row is UNKNOWN, never stopped."""
    algo = active(sim)[0]
    set_knobs(sim, "x3algo", still_active=True)
    outcome = await client.execute(algo, STOP)
    assert outcome.kind is OutcomeKind.UNCERTAIN, outcome
    assert "but active true" in outcome.message, outcome.message
    read = await client.read_target(algo)
    assert read is not None and read.state is State.UNKNOWN
    assert read.raw_status == "stopped (active: true)"
    listed = {t.id: t for t in await client.list_targets()}
    assert listed[algo].state is State.UNKNOWN


async def test_an_algorithm_listed_twice_on_a_page_is_named_and_never_verified(
    sim: SimServer, client: X3AlgoClient
) -> None:
    newest = sim_admin(sim, "x3algo", "ids")
    set_knobs(sim, "x3algo", duplicate_id=True)
    targets = await client.list_targets()
    twins = [r for r in client.skipped_rows if ": listed twice by x3algo" in r]
    assert len(twins) == 1, client.skipped_rows
    twin = twins[0].split(":")[0]
    assert twin in newest
    assert [t.id for t in targets].count(twin) == 1  # one id, one call
    await client.execute(twin, STOP)
    after = {t.id: t for t in await client.list_targets()}
    assert after[twin].state is State.RUNNING  # the twin row runs: never verified halted


async def test_a_refusal_too_large_to_read_is_still_a_refusal(
    sim: SimServer, client: X3AlgoClient
) -> None:
    """A 400 padded past the 1 MB cap of an action's answer: its status says what
    happened — a refusal, REJECTED at once — where the whole answer used to be dropped
    as no answer, *uncertain*, and the stop sent once more (an independent PipAI's 403)."""
    algo = active(sim)[0]
    set_knobs(sim, "x3algo", control_400=1, huge_errors_mb=3)
    async with asyncio.timeout(GUARD_S):
        outcome = await client.execute(algo, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.REJECTED, 400), outcome.message
    assert "larger than 1 MB" in outcome.message and "not read" in outcome.message
    assert sim_counters(sim, "x3algo")["400"] == 1  # refused once, not sent again


async def test_a_429_too_large_to_read_still_goes_again(
    sim: SimServer, client: X3AlgoClient
) -> None:
    algo = active(sim)[0]
    set_knobs(sim, "x3algo", control_429=1, retry_after="0.01", huge_errors_mb=3)
    async with asyncio.timeout(GUARD_S):
        outcome = await client.execute(algo, STOP)
    assert outcome.kind is OutcomeKind.APPLIED, outcome.message
    assert "sent 2 times: the first refused with 429" in outcome.message
