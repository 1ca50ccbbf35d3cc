"""Joyride against the simulator's hostile knobs, over real HTTP on loopback (issue 11).

Each test sets one knob and checks what the client makes of it: a list answer without
the documented shape is *unreadable* (never "no rounds"), a bad row fails only itself
and is named, a venue asking for a too-long wait is not waited for, an id that cannot
be sent safely is not sent, the admin token never leaves in any text, a list beyond
``max_targets`` is *incomplete*, and terminal escapes in names never reach a target.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind
from console.sim.joyride.world import BAD_ROW_ID
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues.sim_clients import feeding, joyride

API = "joyride"
PAUSE = Action(ActionKind.PAUSE)
ROUNDS, PER_ROUND = 4, 48


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


def rounds(sim: SimServer) -> list[int]:
    return [int(e) for e in sim_admin(sim, API, "expirations")["expirations"]]


def token_of(sim: SimServer) -> str:
    return settings_for(sim, API).secret("admin_token").reveal()


# ----- 1. a list answer without the documented shape is unreadable, never "no rounds" ------
@pytest.mark.parametrize(
    "body",
    [
        "EMPTY",  # a zero-length 200
        "   ",
        "{}",
        "null",
        '"instruments"',
        "42",
        "true",
        '{"instruments": []}',
        "[1, 2, 3]",
        "[{}]",
        '[{"id": "SOL_USDC-1MAR25-150-C"}]',
        '[{"id": "SOL_USDC-1MAR25-150-C", "expiration": "soon"}]',
        "[{",
        # a key named twice: pydantic's fast reader would keep the last (an expiration
        # of 1: the round read as another) — a malformed answer, never "the last wins"
        '[{"id": "SOL_USDC-1MAR25-150-C", "expiration": 1740816000, "expiration": 1}]',
    ],
)
async def test_a_wrong_shape_on_the_first_read_is_unreadable(sim: SimServer, body: str) -> None:
    set_knobs(sim, API, list_body=body)
    async with joyride(settings_for(sim, API)) as client:
        with pytest.raises(Unreadable) as listed:
            await client.list_targets()
        with pytest.raises(Unreadable):
            await client.read_target(str(rounds(sim)[0]))
    assert "instrument list" in str(listed.value)
    assert "nothing can be said of its rounds" in str(listed.value)
    assert sim_counters(sim, API)["hostile_list"] == 2


async def test_an_empty_body_after_a_good_read_is_unreadable_not_the_old_list(
    sim: SimServer,
) -> None:
    async with joyride(settings_for(sim, API)) as client:
        assert len(await client.list_targets()) == ROUNDS
        set_knobs(sim, API, list_body="EMPTY")
        with pytest.raises(Unreadable, match="an empty body"):
            await client.list_targets()
        set_knobs(sim, API, list_body="")
        assert len(await client.list_targets()) == ROUNDS


async def test_an_empty_list_is_the_documented_shape_and_means_no_rounds(
    sim: SimServer,
) -> None:
    set_knobs(sim, API, list_body="[]")
    async with joyride(settings_for(sim, API)) as client:
        assert await client.list_targets() == []
        assert client.skipped_rows == []


async def test_deeply_nested_json_is_unreadable(sim: SimServer) -> None:
    set_knobs(sim, API, deep_nesting=5000)
    async with joyride(settings_for(sim, API)) as client:
        with pytest.raises(Unreadable, match="malformed JSON"):
            await client.list_targets()


async def test_a_huge_list_is_not_read(sim: SimServer) -> None:
    set_knobs(sim, API, huge_list_mb=3)
    async with joyride(settings_for(sim, API, max_body_bytes=1_048_576)) as client:
        with pytest.raises(FeedError, match="max_body_bytes") as caught:
            await client.list_targets()
    assert not isinstance(caught.value, Unreadable | Incomplete)


async def test_the_feed_reports_an_unreadable_list_as_down(
    sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, API, list_body="{}")
    async with joyride(settings_for(sim, API)) as client, feeding(client, sink):
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    detail = next(d for _, status, d in sink.healths if status is FeedStatus.DOWN)
    assert detail.startswith("UNREADABLE")
    assert sink.snapshots == 0  # never an empty snapshot


# ----- 2. one bad row fails only itself, and is named ----------------------------------------
async def test_a_row_expiring_at_ten_to_the_twelfth_is_skipped_and_named(
    sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    set_knobs(sim, API, bad_row=True)
    async with joyride(settings_for(sim, API)) as client:
        with caplog.at_level(logging.WARNING, logger="console.venues.joyride"):
            targets = await client.list_targets()
        assert client.skipped_rows == [f"{BAD_ROW_ID}: expiration 1000000000000 out of range"]
        assert [t.id for t in targets] == [str(e) for e in rounds(sim)]
        assert all(t.attrs["instruments"] == PER_ROUND for t in targets)
        assert all(client.kill_action(t) == PAUSE for t in targets)
        outcomes = [await client.execute(t.id, PAUSE) for t in targets]
        # A read of the same body names the row again; a healthy list names nothing.
        await client.list_targets()
        assert len(client.skipped_rows) == 1
        set_knobs(sim, API, bad_row=False)
        await client.list_targets()
        assert client.skipped_rows == []
    assert [o.kind for o in outcomes] == [OutcomeKind.APPLIED] * ROUNDS
    for expiration in rounds(sim):
        assert sim_admin(sim, API, "peek", expiration=expiration)["db_paused"] == PER_ROUND
    assert BAD_ROW_ID in caplog.text


# ----- 3. Retry-After beyond the cap: not waited for -----------------------------------------
@pytest.mark.parametrize(
    ("retry_after", "words"),
    [
        ("3600", "1 h"),
        ("99999999", "1157 days"),
        ("inf", "forever"),
        ("1e309", "forever"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", "forever"),
    ],
)
async def test_a_too_long_retry_after_fails_the_call_at_once(
    sim: SimServer, retry_after: str, words: str
) -> None:
    exp = rounds(sim)[0]
    set_knobs(sim, API, burst_429=1, retry_after=retry_after)
    async with joyride(settings_for(sim, API)) as client:
        outcome = await client.execute(str(exp), PAUSE)
        sent = sim_counters(sim, API)["requests"]
        again = await client.execute(str(exp), PAUSE)  # within the cap: refused unsent
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 429
    assert f"Joyride asks to wait {words}" in outcome.message
    assert "not waiting longer than 30 s" in outcome.message
    assert sent == 1  # the 429 was not retried
    assert again.kind is OutcomeKind.FAILED
    assert again.http_status == 429
    assert "nothing" in again.message
    counters = sim_counters(sim, API)
    assert counters["requests"] == 1  # the second call never left
    assert "pause_by_expiration" not in counters
    assert sim_admin(sim, API, "peek", expiration=exp)["db_paused"] == 0


async def test_the_cap_is_the_profiles(sim: SimServer) -> None:
    set_knobs(sim, API, burst_429=1, retry_after="5")
    async with joyride(settings_for(sim, API, retry_after_cap_s=2.0)) as client:
        outcome = await client.execute(str(rounds(sim)[0]), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "asks to wait 5 s" in outcome.message
    assert "not waiting longer than 2 s" in outcome.message


async def test_a_list_read_told_to_wait_too_long_fails_in_the_venue_words(
    sim: SimServer,
) -> None:
    set_knobs(sim, API, list_429=1, retry_after="3600")
    async with joyride(settings_for(sim, API)) as client:
        with pytest.raises(FeedError) as caught:
            await client.list_targets()
    assert not isinstance(caught.value, Unreadable | Incomplete)
    assert "Joyride asks to wait 1 h" in str(caught.value)
    assert sim_counters(sim, API)["hostile_list"] == 1


async def test_a_list_read_told_to_wait_briefly_is_retried_once(sim: SimServer) -> None:
    set_knobs(sim, API, list_429=1, retry_after="0.01")
    async with joyride(settings_for(sim, API)) as client:
        assert len(await client.list_targets()) == ROUNDS
    set_knobs(sim, API, list_429=-1)
    async with joyride(settings_for(sim, API)) as client:
        with pytest.raises(FeedError, match="rate_limited"):
            await client.list_targets()
    assert sim_counters(sim, API)["429"] == 3


# ----- 4. ids that cannot be sent safely -----------------------------------------------------
@pytest.mark.parametrize("target_id", [".", "..", "...", ""])
async def test_dot_ids_fail_and_nothing_is_sent(sim: SimServer, target_id: str) -> None:
    set_knobs(sim, API, dot_ids=True)
    async with joyride(settings_for(sim, API)) as client:
        targets = await client.list_targets()
        before = sim_counters(sim, API)["requests"]
        outcome = await client.execute(target_id, PAUSE)
        assert await client.read_target(target_id) is None
        after = sim_counters(sim, API)["requests"]
    assert outcome.kind is OutcomeKind.FAILED
    assert "cannot be sent safely" in outcome.message
    assert "nothing was sent" in outcome.message
    assert after == before
    assert "pause_by_expiration" not in sim_counters(sim, API)
    # The list's instruments '.' and '..' fail only themselves; every round is listed.
    assert [t.id for t in targets] == [str(e) for e in rounds(sim)]
    assert [r.split(":")[0] for r in client.skipped_rows] == [".", ".."]


# ----- 5. the admin token never leaves in any text -------------------------------------------
async def test_a_venue_echoing_the_token_never_leaks_it(
    sim: SimServer, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    token = token_of(sim)
    exp = rounds(sim)[0]
    set_knobs(sim, API, echo_secret=True, error_rate=1.0)
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with joyride(settings_for(sim, API)) as client:
            failed = await client.execute(str(exp), PAUSE)
            with pytest.raises(FeedError) as listed:
                await client.list_targets()
            set_knobs(sim, API, error_rate=0.0, control_429=-1, retry_after="0.01")
            limited = await client.execute(str(exp), PAUSE)
            set_knobs(sim, API, down=True)
            async with feeding(client, sink):
                await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    assert failed.kind is OutcomeKind.UNCERTAIN  # a 500: it may have acted
    assert limited.kind is OutcomeKind.FAILED
    texts += [failed.message, limited.message, str(listed.value)]
    texts += [detail for _, _, detail in sink.healths]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        assert token not in text
    assert "request authorised by ***" in failed.message  # the echo was there, masked
    assert "***" in str(listed.value)


# ----- 6. a list beyond max_targets is incomplete --------------------------------------------
async def test_more_instruments_than_max_targets_is_incomplete_with_what_was_read(
    sim: SimServer,
) -> None:
    expirations = rounds(sim)
    async with joyride(settings_for(sim, API, max_targets=100)) as client:
        with pytest.raises(Incomplete) as caught:
            await client.list_targets()
        found = await client.read_target(str(expirations[0]))
        with pytest.raises(Incomplete):
            await client.read_target(str(expirations[3]))
    partial = caught.value.partial
    assert [t.id for t in partial] == [str(e) for e in expirations[:3]]
    assert [t.attrs["instruments"] for t in partial] == [48, 48, 4]
    assert "192 instruments, more than max_targets (100)" in str(caught.value)
    assert found is not None and found.id == str(expirations[0])


async def test_exactly_max_targets_instruments_is_complete(sim: SimServer) -> None:
    async with joyride(settings_for(sim, API, max_targets=ROUNDS * PER_ROUND)) as client:
        assert len(await client.list_targets()) == ROUNDS


# ----- 7. terminal escapes in instrument (asset) names ---------------------------------------
async def test_escape_sequences_in_asset_names_never_reach_a_target(sim: SimServer) -> None:
    set_knobs(sim, API, escape_names=True)
    async with joyride(settings_for(sim, API)) as client:
        targets = await client.list_targets()
    assert len(targets) == ROUNDS
    for target in targets:
        assert target.attrs["assets"] == ("BTC", "ETH", "SOL")
        assert target.attrs["instruments"] == PER_ROUND
        text = f"{target.name} {target.raw_status} {target.attrs}"
        assert "\x1b" not in text and "\x07" not in text
