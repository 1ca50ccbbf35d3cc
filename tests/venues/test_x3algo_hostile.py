"""The x3algo client against a hostile x3algo (the simulator's hostile knobs, real loopback).

Each test pins one way a venue was seen to answer badly (issue 11): the client ends,
says what went wrong in the console's vocabulary (FeedError / Unreadable / Incomplete for
reads, an Outcome for control calls) and never lets a credential through.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.core.scrub import printable
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus, RateLimit, Secret
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.x3algo.client import X3AlgoClient, X3AlgoReadError
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients

STOP = Action(ActionKind.STOP)
GUARD_S = 20  # a hang guard only: every read here ends in well under a second


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",), "knobs": {"x3algo": {"rate_scale": 0.05}}}


client = sim_clients.x3algo_logged_in


def active(sim: SimServer) -> list[str]:
    found: list[str] = sim_admin(sim, "x3algo", "ids", status="active")
    return found


# ----- 1. endless paging ---------------------------------------------------------------
async def test_endless_pages_stop_within_the_read_budget_and_keep_room_for_a_reread(
    sim: SimServer,
) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo", rate_limits={"general": RateLimit(40, 900)}))
    try:
        set_knobs(sim, "x3algo", endless_pages=True)
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(Incomplete) as caught:
                await client.list_targets()
            # 40 reads per window, 3 kept for re-reads: 37 pages of 100.
            assert len(caught.value.partial) == 3700
            assert "1000000000 pages" in str(caught.value)
            assert "keeping 3 for re-reads" in str(caught.value)
            # The kill's re-read still goes at once: the list left it room.
            reread = await client.read_target(active(sim)[0])
        assert reread is not None and reread.state is State.RUNNING
        assert sim_counters(sim, "x3algo").get("429", 0) == 0
    finally:
        await client.aclose()


async def endless_read(sim: SimServer, match: str, **bounds: Any) -> list[Target]:
    """What an unpaced list read of endless pages kept, stopped by ``bounds``: it must end
    Incomplete, in words matching ``match``."""
    client = X3AlgoClient(settings_for(sim, "x3algo", pacing=False, **bounds))
    try:
        set_knobs(sim, "x3algo", endless_pages=True)
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(Incomplete, match=match) as caught:
                await client.list_targets()
    finally:
        await client.aclose()
    return caught.value.partial


async def test_endless_pages_stop_at_max_pages(sim: SimServer) -> None:
    partial = await endless_read(sim, "max_pages is 7", max_pages=7)
    assert len(partial) == 700 == len({t.id for t in partial})
    assert set(active(sim)) <= {t.id for t in partial}  # the real ones come first


async def test_endless_pages_stop_at_max_targets(sim: SimServer) -> None:
    partial = await endless_read(sim, r"more than 250 algorithms \(max_targets\)", max_targets=250)
    assert len(partial) == 250


async def test_a_list_read_given_up_by_its_caller_leaves_the_client_usable(
    client: X3AlgoClient, sim: SimServer
) -> None:
    set_knobs(sim, "x3algo", endless_pages=True, latency_ms=20)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):  # the kill's planning deadline, shortened
            await client.list_targets()
    set_knobs(sim, "x3algo", endless_pages=False, latency_ms=0)
    async with asyncio.timeout(GUARD_S):
        assert len(await client.list_targets()) == 40  # no lock or page left behind
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


# ----- 2. a 200 without the documented shape is unreadable, never "no algorithms" -----
@pytest.mark.parametrize(
    "body", ["{}", "null", "EMPTY", "[]", '{"data": {}}', '{"data": null}', '"ok"', "{"]
)
async def test_a_list_answer_without_the_documented_shape_is_unreadable(
    client: X3AlgoClient, sim: SimServer, body: str
) -> None:
    set_knobs(sim, "x3algo", list_body=body)
    with pytest.raises(Unreadable, match="not read as none"):
        await client.list_targets()


async def test_an_unreadable_list_reaches_the_feed_health_as_unreadable(
    client: X3AlgoClient, sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, "x3algo", list_body="{}")
    feed = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        assert "without a data list" in sink.healths[-1][2]
        assert sink.snapshots == 0  # never an empty snapshot
    finally:
        feed.cancel()


async def test_deep_nesting_is_unreadable_and_a_huge_body_is_not_read(sim: SimServer) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo", max_body_bytes=1_000_000))
    try:
        await client.list_targets()
        set_knobs(sim, "x3algo", deep_nesting=50_000)
        with pytest.raises(Unreadable, match="nested too deeply"):
            await client.list_targets()
        set_knobs(sim, "x3algo", deep_nesting=0, huge_list_mb=3)
        with pytest.raises(FeedError, match="larger than") as caught:
            await client.list_targets()
        assert not isinstance(caught.value, Unreadable | Incomplete)
    finally:
        await client.aclose()


# ----- 3. Retry-After beyond the cap is not waited -------------------------------------
TOO_LONG = ["3600", "99999999", "inf", "1e309", "Fri, 31 Dec 9999 23:59:59 GMT"]


@pytest.mark.parametrize("retry_after", TOO_LONG)
async def test_a_list_told_to_wait_too_long_fails_at_once_in_words(
    client: X3AlgoClient, sim: SimServer, retry_after: str
) -> None:
    set_knobs(sim, "x3algo", list_429=-1, retry_after=retry_after)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(FeedError, match="not waiting longer than 30 s") as caught:
            await client.list_targets()
    assert not isinstance(caught.value, Unreadable | Incomplete)
    assert "x3algo asks to wait" in str(caught.value)
    assert sim_counters(sim, "x3algo")["429"] == 1  # not resent


@pytest.mark.parametrize("pacing", [True, False])
async def test_a_stop_told_to_wait_an_hour_is_failed_unsent_without_sleeping(
    sim: SimServer, pacing: bool
) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo", pacing=pacing))
    try:
        await client.list_targets()
        set_knobs(sim, "x3algo", burst_429=1, retry_after="3600")
        async with asyncio.timeout(GUARD_S):
            outcome = await client.execute(active(sim)[0], STOP)
        assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 429)
        assert "x3algo asks to wait 1 h (rate limited): not waiting longer than 30 s" in (
            outcome.message
        )
        counters = sim_counters(sim, "x3algo")
        assert (counters["429"], counters.get("stopped", 0)) == (1, 0)
    finally:
        await client.aclose()


async def test_every_stop_told_to_wait_forever_fails_each_unsent(sim: SimServer) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo"))  # logs in on its first stop
    try:
        set_knobs(sim, "x3algo", control_429=-1, retry_after="1e309")
        async with asyncio.timeout(GUARD_S):
            outcomes = [await client.execute(a, STOP) for a in active(sim)[:3]]
        assert {(o.kind, o.http_status) for o in outcomes} == {(OutcomeKind.FAILED, 429)}
        assert all("x3algo asks to wait forever" in o.message for o in outcomes)
        # The first stop was answered so; the others failed unsent while that wait holds.
        counters = sim_counters(sim, "x3algo")
        assert (counters["logins"], counters["429"], counters.get("stopped", 0)) == (1, 1, 0)
    finally:
        await client.aclose()


async def test_a_login_refused_for_quota_says_how_long_and_why(sim: SimServer) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo"))
    try:
        set_knobs(sim, "x3algo", burst_429=1, retry_after="3600")
        async with asyncio.timeout(GUARD_S):
            outcome = await client.execute(active(sim)[0], STOP)
            again = await client.execute(active(sim)[0], STOP)
        assert outcome.kind is OutcomeKind.FAILED
        assert "limit of 5 logins/refreshes per 15 minutes is spent" in outcome.message
        assert "x3algo asks to wait 1 h" in outcome.message
        assert again.message == outcome.message  # remembered: no second knock
        assert sim_counters(sim, "x3algo")["requests"] == 1
    finally:
        await client.aclose()


# ----- 4. ids "." and ".." are never sent -----------------------------------------------
async def test_dot_ids_are_listed_and_refused_unsent(client: X3AlgoClient, sim: SimServer) -> None:
    set_knobs(sim, "x3algo", dot_ids=True)
    targets = {t.id: t for t in await client.list_targets()}
    assert {".", ".."} <= set(targets) and len(targets) == 42
    sent = sim_counters(sim, "x3algo")["requests"]
    for dot in (".", ".."):
        assert client.kill_action(targets[dot]) == STOP  # planned, so it must fail loudly
        outcome = await client.execute(dot, STOP)
        assert outcome.kind is OutcomeKind.FAILED
        assert "cannot be sent safely" in outcome.message and "Nothing was sent" in outcome.message
        with pytest.raises(X3AlgoReadError, match="Nothing was sent"):
            await client.read_target(dot)
    assert sim_counters(sim, "x3algo")["requests"] == sent


# ----- 5. secrets echoed by the venue ---------------------------------------------------
async def test_a_venue_echoing_the_bearer_token_never_gets_it_into_a_message(
    client: X3AlgoClient, sim: SimServer
) -> None:
    set_knobs(sim, "x3algo", echo_secret=True)
    draft = sim_admin(sim, "x3algo", "special")["draft"]
    foreign = sim_admin(sim, "x3algo", "special")["foreign"]
    rejected = await client.execute("0" * 24, STOP)  # 404, echoing the token
    already = await client.execute(draft, STOP)  # 422, then a re-read
    with pytest.raises(X3AlgoReadError) as read:
        await client.read_target(foreign)  # 403, echoing the token
    texts = [rejected.message, already.message, str(read.value)]
    assert all("request had Authorization: Bearer ***" in t for t in texts)
    assert not any("eyJ" in t for t in texts)


async def test_a_venue_echoing_the_password_never_gets_it_into_a_message(
    sim: SimServer, sink: RecordingSink
) -> None:
    settings = settings_for(sim, "x3algo")
    wrong = "wrong-" + settings.credentials["password"].reveal()
    client = X3AlgoClient(
        settings_for(sim, "x3algo", credentials={**settings.credentials, "password": Secret(wrong)})
    )
    try:
        set_knobs(sim, "x3algo", echo_secret=True)
        outcome = await client.execute(active(sim)[0], STOP)
        assert "Invalid credentials (request had password *** was given)" in outcome.message
        assert wrong not in outcome.message
        feed = asyncio.create_task(client.run_feed(sink))
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
        feed.cancel()
        assert all(wrong not in detail for _v, _s, detail in sink.healths)
    finally:
        await client.aclose()


# ----- 6. one bad row fails only itself -------------------------------------------------
async def test_a_bad_row_is_skipped_and_named_and_the_rest_listed(
    client: X3AlgoClient, sim: SimServer
) -> None:
    bad = sim_admin(sim, "x3algo", "special")["bad_row"]
    set_knobs(sim, "x3algo", bad_row=True)
    targets = await client.list_targets()
    assert len(targets) == 39 and bad not in {t.id for t in targets}
    assert client.skipped_rows == [
        f"{bad}: performance.totalTrades: Input should be a valid integer, got a number "
        f"with a fractional part"
    ]
    set_knobs(sim, "x3algo", bad_row=False)
    assert len(await client.list_targets()) == 40
    assert client.skipped_rows == []  # reset by every read


# ----- 7. names with terminal escapes ---------------------------------------------------
async def test_names_with_terminal_escapes_stay_out_of_messages(
    client: X3AlgoClient, sim: SimServer
) -> None:
    set_knobs(sim, "x3algo", escape_names=True)
    targets = {t.id: t for t in await client.list_targets()}
    assert all("\x1b]0;" in t.name for t in targets.values())  # as sent; screens strip them
    algo = active(sim)[0]
    outcome = await client.execute(algo, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert f"algorithm {printable(targets[algo].name)!r} ({algo})" in outcome.message
    assert outcome.message.isprintable() and "owns this terminal" not in outcome.message
