"""FinRadar client against a hostile simulator, over loopback (issue 11).

Each test sets one hostile knob and proves the client neither hangs, nor lies, nor
leaks: a too-long Retry-After fails the call with the vendor's wait in words and sends
nothing more; endless paging and wrong-shaped answers are incomplete / unreadable, never
"no targets"; ids that a proxy would resolve are refused unsent; one bad row fails only
itself; a venue echoing the API key never gets it into our words.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.core.scrub import printable
from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.base import FeedStatus, Secret
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

API = "finradar"
STOP = Action(ActionKind.STOP)
# A guard, not a timing assertion: a call that slept the vendor's wait would blow it.
GUARD_S = 10.0

# Every Retry-After that must never be slept: an hour, years, infinity, a date in 9999.
TOO_LONG = {
    "3600": "1 h",
    "99999999": "1157 days",
    "inf": "forever",
    "1e309": "forever",
    "Fri, 31 Dec 9999 23:59:59 GMT": "forever",
}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


client = sim_clients.finradar_client


def key_of(sim: SimServer) -> str:
    return str(sim.vendors[API].credentials()["api_key"])


async def actives(client: FinRadarClient) -> list[Target]:
    return [t for t in await client.list_targets() if t.raw_status == "ACTIVE"]


# ----- 1. Retry-After beyond the cap ---------------------------------------------------------
@pytest.mark.parametrize("retry_after", list(TOO_LONG))
async def test_a_stop_told_to_wait_too_long_fails_at_once_and_sends_nothing_more(
    sim: SimServer, client: FinRadarClient, retry_after: str
) -> None:
    first, second, *_ = await actives(client)
    set_knobs(sim, API, burst_429=1, retry_after=retry_after)
    before = sim_counters(sim, API).get("requests", 0)
    async with asyncio.timeout(GUARD_S):
        outcome = await client.execute(first.id, STOP)
        # Within the cap, the next stop is not even sent: the venue already said no.
        following = await client.execute(second.id, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 429
    assert f"FinRadar asks to wait {TOO_LONG[retry_after]}" in outcome.message
    assert "not waiting longer than 30 s" in outcome.message
    assert "nothing more was sent" in outcome.message
    assert "was refused" in outcome.message
    assert following.kind is OutcomeKind.FAILED
    assert following.http_status == 429
    assert "not waiting" in following.message and "was not sent" in following.message
    assert sim_counters(sim, API)["requests"] - before == 1  # no retry, nothing more
    for target in (first, second):
        assert sim_admin(sim, API, "target", target_id=target.id)["status"] == "ACTIVE"


@pytest.mark.parametrize("retry_after", list(TOO_LONG))
async def test_a_list_told_to_wait_too_long_is_a_feed_error_at_once(
    sim: SimServer, client: FinRadarClient, retry_after: str
) -> None:
    set_knobs(sim, API, list_429=-1, retry_after=retry_after)
    before = sim_counters(sim, API).get("requests", 0)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(FeedError) as caught:
            await client.list_targets()
    assert type(caught.value) is FeedError  # unreachable, not "unreadable"
    message = str(caught.value)
    assert message.startswith("reading FinRadar sniper targets: FinRadar asks to wait")
    assert TOO_LONG[retry_after] in message
    assert "not waiting longer than 30 s" in message
    assert sim_counters(sim, API)["requests"] - before == 1


async def test_the_cap_is_the_settings_own(sim: SimServer) -> None:
    """A wait just above a smaller configured cap is refused with that cap in words."""
    client = FinRadarClient(settings_for(sim, API, retry_after_cap_s=2.0))
    active = (await actives(client))[0]
    set_knobs(sim, API, burst_429=1, retry_after="5")
    async with asyncio.timeout(GUARD_S):
        outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert "asks to wait 5 s" in outcome.message
    assert "not waiting longer than 2 s" in outcome.message
    await client.aclose()


async def test_a_short_retry_after_on_the_list_is_still_waited_and_retried(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, list_429=1, retry_after="0.05")
    assert len(await client.list_targets()) == 12
    assert sim_counters(sim, API)["429"] == 1


async def test_the_feed_says_how_long_the_venue_asked(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    set_knobs(sim, API, list_429=-1, retry_after="3600")
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    feed.cancel()
    assert "FinRadar asks to wait 1 h" in sink.healths[-1][2]


# ----- 2. Endless paging -----------------------------------------------------------------------
async def test_endless_pages_stop_at_max_pages_as_incomplete_with_what_was_read(
    sim: SimServer,
) -> None:
    client = FinRadarClient(settings_for(sim, API, max_pages=4))
    set_knobs(sim, API, endless_pages=True)
    before = sim_counters(sim, API).get("list", 0)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(Incomplete, match="did not end within 4 pages") as caught:
            await client.list_targets()
    assert sim_counters(sim, API)["list"] - before == 4
    partial = {t.id: t for t in caught.value.partial}
    assert len(partial) == 4 * 200
    real = sim.vendors[API].world.primary.by_id  # type: ignore[attr-defined]
    assert set(real) <= set(partial)  # every real target read is kept, to be halted
    assert sum(t.state is State.RUNNING for t in partial.values()) == 5
    await client.aclose()


async def test_a_page_after_the_first_failing_leaves_what_was_read_to_be_halted(
    sim: SimServer,
) -> None:
    """The documented list (no total) is read to an empty page; that next page answering
    500 made the whole list *unreachable*, though its first page held every target: a
    kill stopped none (an independent FinRadar). What was read is kept, INCOMPLETE."""
    client = FinRadarClient(settings_for(sim, API))
    set_knobs(sim, API, documented_meta=True, failing_pages_from=1)
    with pytest.raises(Incomplete, match=r"the page at offset \d+ failed \(500") as caught:
        await client.list_targets()
    real = sim.vendors[API].world.primary.by_id  # type: ignore[attr-defined]
    partial = {t.id: t for t in caught.value.partial}
    assert set(real) <= set(partial)
    active = next(t for t in partial.values() if t.raw_status == "ACTIVE")
    outcome = await client.execute(active.id, STOP)
    assert outcome.ok, outcome.message
    await client.aclose()


async def test_endless_pages_stop_at_max_targets(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, API, max_targets=300, options={"page_size": 100}))
    set_knobs(sim, API, endless_pages=True)
    with pytest.raises(Incomplete, match="more than 300 targets") as caught:
        await client.list_targets()
    assert len(caught.value.partial) == 300
    await client.aclose()


async def test_read_target_in_an_endless_list_finds_what_was_read(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, API, max_pages=3))
    set_knobs(sim, API, endless_pages=True)
    with pytest.raises(Incomplete) as caught:
        await client.list_targets()
    active = next(t for t in caught.value.partial if t.raw_status == "ACTIVE")
    found = await client.read_target(active.id)
    assert found is not None and found.id == active.id
    with pytest.raises(Incomplete):  # never "not found": the rest of the list is unknown
        await client.read_target("tgt_000000000000")
    await client.aclose()


# ----- 3. Wrong shape is unreadable, never "no targets" ----------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        "{}",
        "null",
        "[]",
        "EMPTY",
        '"targets"',
        '{"targets": null}',
        '{"targets": {}}',
        '{"meta": {"slots_available": 2}}',
        '{"targets": [], "meta": {"total": -1}}',
        '{"targets": [], "meta": []}',
        '{"targets": [',
    ],
)
async def test_a_list_answer_without_the_documented_shape_is_unreadable(
    sim: SimServer, client: FinRadarClient, body: str
) -> None:
    set_knobs(sim, API, list_body=body)
    with pytest.raises(Unreadable, match="reading FinRadar sniper targets"):
        await client.list_targets()
    with pytest.raises(Unreadable):
        await client.read_target("tgt_000000000000")


async def test_an_empty_targets_list_is_still_no_targets(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, list_body='{"targets": [], "meta": {"slots_available": 5}}')
    assert await client.list_targets() == []


async def test_an_over_allocated_plan_is_read_and_stopped_with_its_count_in_words(
    sim: SimServer, client: FinRadarClient
) -> None:
    """``slots_available: -2`` (3 ACTIVE on a 1-slot plan; an independent FinRadar: 7 on
    5) is display-only: it made the whole answer unreadable, so a kill stopped nothing."""
    set_knobs(sim, API, plan_slots=1)
    targets = await client.list_targets()
    assert len(targets) == 12
    assert {t.attrs["slots_available"] for t in targets} == {-2}
    active = next(t for t in targets if t.raw_status == "ACTIVE")
    assert await client.read_target(active.id) is not None
    outcome = await client.execute(active.id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "2 of 1 slots used (over the plan by 1)" in outcome.message


async def test_deeply_nested_list_answer_is_unreadable(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, deep_nesting=200_000)
    with pytest.raises(Unreadable, match="malformed JSON"):
        await client.list_targets()


async def test_a_huge_list_answer_is_not_read(sim: SimServer) -> None:
    client = FinRadarClient(settings_for(sim, API, max_body_bytes=1_048_576))
    set_knobs(sim, API, huge_list_mb=3)
    with pytest.raises(FeedError, match="larger than 1 MB"):
        await client.list_targets()
    await client.aclose()


# ----- 4. Ids a proxy would resolve --------------------------------------------------------------
async def test_dot_ids_are_listed_and_refused_unsent(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, dot_ids=True)
    listed = {t.id: t for t in await client.list_targets()}
    assert {".", ".."} <= set(listed)
    before = sim_counters(sim, API).get("requests", 0)
    for dot in (".", ".."):
        assert client.kill_action(listed[dot]) == STOP
        outcome = await client.execute(dot, STOP)
        assert outcome.kind is OutcomeKind.FAILED
        assert "cannot be sent safely" in outcome.message
        assert "nothing was sent" in outcome.message
        assert outcome.http_status is None
    assert sim_counters(sim, API)["requests"] == before
    again = {t.id: t for t in await client.list_targets()}
    assert again["."].raw_status == again[".."].raw_status == "ACTIVE"


# ----- 5. A venue echoing the key ----------------------------------------------------------------
async def test_an_echoed_key_never_reaches_an_outcome_an_error_or_the_feed(
    sim: SimServer, client: FinRadarClient, sink: RecordingSink
) -> None:
    key = key_of(sim)
    active = (await actives(client))[0]
    set_knobs(sim, API, echo_secret=True, error_rate=1.0)
    failed = await client.execute(active.id, STOP)
    assert failed.kind is OutcomeKind.UNCERTAIN  # a 500: it may have acted
    assert "(API key ***)" in failed.message  # the venue's words, the key masked
    with pytest.raises(FeedError) as listing:
        await client.list_targets()
    feed = asyncio.create_task(client.run_feed(sink))
    await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    feed.cancel()
    set_knobs(sim, API, error_rate=0.0, burst_429=1, retry_after="3600")
    refused = await client.execute(active.id, STOP)
    assert refused.kind is OutcomeKind.FAILED and "not waiting" in refused.message
    texts = [failed.message, str(listing.value), sink.healths[-1][2], refused.message]
    assert all("***" in text for text in texts)
    assert not [text for text in texts if key in text]


async def test_an_echoed_wrong_key_is_masked_too(sim: SimServer) -> None:
    wrong = "0123456789abcdef0123456789abcdef"
    settings = settings_for(sim, API, credentials={"api_key": Secret(wrong)})
    client = FinRadarClient(settings)
    set_knobs(sim, API, echo_secret=True)
    outcome = await client.execute("tgt_abc123def456", STOP)
    assert outcome.kind is OutcomeKind.REJECTED
    assert "check credentials.api_key" in outcome.message
    with pytest.raises(FeedError) as caught:
        await client.list_targets()
    assert wrong not in outcome.message and wrong not in str(caught.value)
    assert "***" in outcome.message and "***" in str(caught.value)
    await client.aclose()


# ----- 6. One bad row fails only itself --------------------------------------------------------
async def test_one_bad_row_is_skipped_and_named_and_the_rest_is_read(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, bad_row=True)
    targets = await client.list_targets()
    assert len(targets) == 11
    [skipped] = client.skipped_rows
    bad_id, why = skipped.split(": ", 1)
    assert bad_id not in {t.id for t in targets}
    assert "status" in why
    assert sim_admin(sim, API, "target", target_id=bad_id)["status"] == "ACTIVE"
    with pytest.raises(Unreadable, match=bad_id):
        await client.read_target(bad_id)
    set_knobs(sim, API, bad_row=False)
    assert len(await client.list_targets()) == 12
    assert client.skipped_rows == []  # reset by each list read


# ----- 7. Names with terminal escapes ------------------------------------------------------------
async def test_escaped_names_are_kept_as_the_venue_wrote_them_and_read_back(
    sim: SimServer, client: FinRadarClient
) -> None:
    """The client keeps the venue's text (the CLI and the screen strip it with
    printable()); the escapes do not break read_target's ticker filter."""
    set_knobs(sim, API, escape_names=True)
    targets = await client.list_targets()
    assert all("\x1b" in t.name for t in targets)
    assert all("\x1b" not in printable(t.name) for t in targets)
    again = await client.read_target(targets[0].id)
    assert again is not None and again.id == targets[0].id
