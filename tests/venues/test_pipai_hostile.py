"""The PipAI client against the simulator's hostile knobs, over real loopback HTTP.

Issue 11: the kill never hangs and never lies. Every list read ends (FeedError,
Unreadable, or Incomplete with what was read), a 200 without the documented page is
never "no strategies", a wait PipAI asks for beyond the cap is not waited for, one bad
row fails only itself, ``.``/``..`` are never sent, and no text the client writes (an
outcome, an error, a health detail, a log line at any level) holds the key, the secret
or a signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus, Secret
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.pipai.client import PipAIClient
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters

pytestmark = pytest.mark.timeout(60)  # a hang is a failure, never a wait

PAUSE = Action(ActionKind.PAUSE, {"close_positions": False})
HEX_RUN = re.compile(r"[0-9a-f]{16,}")  # a signature or a piece of one (ids are shorter)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    # Short rate windows: a 429's own Retry-After is then 0.05 s.
    return {"knobs": {"pipai": {"rate_scale": 0.05}}, "vendors": ("pipai",)}


@contextlib.asynccontextmanager
async def client_of(sim: SimServer, **overrides: Any) -> AsyncIterator[PipAIClient]:
    client = PipAIClient(settings_for(sim, "pipai", **overrides))
    try:
        yield client
    finally:
        await client.aclose()


def world(sim: SimServer, status: str | None = None) -> list[str]:
    args = {"status": status} if status else {}
    return [s["id"] for s in sim_admin(sim, "pipai", "strategies", **args)]


def assert_clean(sim: SimServer, *texts: str) -> None:
    """None of the texts holds the key, the secret or a signature — nor a piece of one
    (a log that cuts a frame in the middle must not leave half a secret behind)."""
    creds = sim.vendors["pipai"].credentials()
    pieces = {
        value[i : i + 10]
        for value in (creds["api_key"], creds["api_secret"])
        for i in range(3, len(value) - 9)
    }
    for text in texts:
        assert not any(piece in text for piece in pieces), text
        assert not HEX_RUN.search(text), text


# ----- 1. endless paging, caps ---------------------------------------------------------


async def test_endless_pages_stop_at_max_pages_as_incomplete_with_what_was_read(
    sim: SimServer,
) -> None:
    set_knobs(sim, "pipai", endless_pages=True)
    async with client_of(sim, max_pages=25, options={"page_size": 7}) as client:
        with pytest.raises(Incomplete, match=r"still more pages after 25 \(max_pages\)") as err:
            await client.list_targets()
    assert sim_counters(sim, "pipai")["list"] == 25
    # Every strategy is kept, for a kill to halt; past them came made-up paused ones
    # (fresh ids on every page: a page of ids already read would stop the read sooner).
    partial = {t.id: t for t in err.value.partial}
    real = set(world(sim))  # asked once: the simulator's world stands still (no motion)
    assert real <= set(partial)
    assert len(partial) == 25 * 7
    made_up = [t for sid, t in partial.items() if sid not in real]
    assert {t.state for t in made_up} == {State.PAUSED}
    assert err.value.kind == "incomplete"


async def test_more_strategies_than_max_targets_is_incomplete_with_the_first_ones(
    sim: SimServer,
) -> None:
    async with client_of(sim, max_targets=10, options={"page_size": 7}) as client:
        with pytest.raises(Incomplete, match=r"more than 10 strategies \(max_targets\)") as err:
            await client.list_targets()
    assert [t.id for t in err.value.partial] == world(sim)[:10]
    assert sim_counters(sim, "pipai")["list"] == 2  # stopped as soon as it knew


async def test_a_list_of_exactly_max_pages_is_complete(sim: SimServer) -> None:
    async with client_of(sim, max_pages=3, max_targets=30, options={"page_size": 10}) as client:
        assert [t.id for t in await client.list_targets()] == world(sim)


async def test_a_page_failing_after_the_first_is_incomplete_with_the_pages_before(
    sim: SimServer,
) -> None:
    first_page = world(sim)[:7]
    async with client_of(sim, options={"page_size": 7}) as client:
        real_get = client._get
        calls = 0

        async def get(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:  # the first page came back fine; PipAI fails from now on
                set_knobs(sim, "pipai", error_rate=1.0)
            return await real_get(*args, **kwargs)

        client._get = get  # type: ignore[method-assign]
        with pytest.raises(Incomplete, match=r"page 2 failed .*INTERNAL_ERROR") as err:
            await client.list_targets()
    assert [t.id for t in err.value.partial] == first_page


# ----- 2. a 200 without the documented page is unreadable, never empty -----------------


@pytest.mark.parametrize(
    "body",
    ["{}", "EMPTY", "null", "[]", '{"data": {}, "next_cursor": null}', '"x"'],
)
async def test_a_list_answer_without_the_documented_shape_is_unreadable(
    sim: SimServer, body: str
) -> None:
    set_knobs(sim, "pipai", list_body=body)
    async with client_of(sim) as client:
        with pytest.raises(Unreadable, match="unreadable answer when listing strategies"):
            await client.list_targets()


async def test_an_empty_page_without_next_cursor_is_incomplete_never_empty(
    sim: SimServer,
) -> None:
    """``data`` reads but the page does not say whether more follow: nothing was listed,
    and the list is *incomplete*, never "no strategies" (tests/venues/test_pipai_cleanroom.py)."""
    set_knobs(sim, "pipai", list_body='{"data": []}')
    async with client_of(sim) as client:
        with pytest.raises(Incomplete, match="page 1 did not say whether more") as err:
            await client.list_targets()
    assert err.value.partial == []


async def test_an_empty_page_in_the_documented_shape_is_truly_empty(sim: SimServer) -> None:
    set_knobs(sim, "pipai", list_body='{"data": [], "next_cursor": null}')
    async with client_of(sim) as client:
        assert await client.list_targets() == []


async def test_deep_nesting_and_a_huge_body_are_feed_errors(sim: SimServer) -> None:
    set_knobs(sim, "pipai", deep_nesting=100_000)
    async with client_of(sim) as client:
        with pytest.raises(Unreadable, match="malformed JSON"):
            await client.list_targets()
    set_knobs(sim, "pipai", deep_nesting=0, huge_list_mb=3)
    async with client_of(sim, max_body_bytes=1_048_576) as client:
        with pytest.raises(FeedError, match="max_body_bytes"):
            await client.list_targets()


# ----- 3. Retry-After beyond the cap ---------------------------------------------------

LONG_WAITS = ["3600", "99999999", "inf", "1e309", "Fri, 31 Dec 9999 23:59:59 GMT"]


@pytest.mark.parametrize("retry_after", LONG_WAITS)
async def test_a_pause_told_to_wait_too_long_fails_at_once_and_sends_nothing_more(
    sim: SimServer, retry_after: str
) -> None:
    sid = world(sim, "deployed")[0]
    set_knobs(sim, "pipai", burst_429=1, retry_after=retry_after)
    async with client_of(sim) as client:
        outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 429
    assert "not waiting longer than 30 s" in outcome.message
    assert "PipAI asks to wait" in outcome.message
    assert sim_counters(sim, "pipai")["requests"] == 1  # not retried
    assert sid in world(sim, "deployed")


async def test_a_list_told_to_wait_an_hour_is_a_feed_error_in_words(sim: SimServer) -> None:
    set_knobs(sim, "pipai", list_429=-1, retry_after="3600")
    async with client_of(sim) as client:
        with pytest.raises(FeedError, match=r"PipAI asks to wait 1 h .*not waiting") as err:
            await client.list_targets()
    assert type(err.value) is FeedError
    assert sim_counters(sim, "pipai")["429"] == 1


async def test_a_short_retry_after_is_still_waited_for_once(sim: SimServer) -> None:
    sid = world(sim, "deployed")[0]
    set_knobs(sim, "pipai", burst_429=1, retry_after="0.05")
    async with client_of(sim, pacing=False) as client:
        outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, "pipai")["429"] == 1


async def test_a_lower_cap_is_honoured(sim: SimServer) -> None:
    sid = world(sim, "deployed")[0]
    set_knobs(sim, "pipai", burst_429=1, retry_after="5")
    async with client_of(sim, retry_after_cap_s=1.0) as client:
        outcome = await client.execute(sid, PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "asks to wait 5 s (rate limited): not waiting longer than 1 s" in outcome.message


# ----- 4. secrets ----------------------------------------------------------------------


async def test_echoed_secrets_never_reach_outcomes_or_errors(
    sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = world(sim, "deployed")[0]
    paused = world(sim, "paused")[0]
    set_knobs(sim, "pipai", echo_secret=True)
    texts: list[str] = []
    async with client_of(sim) as client:
        already = await client.execute(paused, PAUSE)  # 409, quoted back, then a re-read
        assert already.kind is OutcomeKind.ALREADY
        texts.append(already.message)
        missing = await client.execute("strat_gone", PAUSE)
        assert missing.kind is OutcomeKind.REJECTED
        texts.append(missing.message)
        set_knobs(sim, "pipai", error_rate=1.0)
        failed = await client.execute(sid, PAUSE)
        assert failed.kind is OutcomeKind.UNCERTAIN  # a 500: it may have acted
        texts.append(failed.message)
        with pytest.raises(FeedError) as listing:
            await client.list_targets()
        texts.append(str(listing.value))
        with pytest.raises(FeedError) as reading:
            await client.read_target(sid)
        texts.append(str(reading.value))
    assert all("***" in t for t in texts)  # the venue did quote them; we masked them
    assert_clean(sim, *texts, caplog.text)


async def test_echoed_secrets_never_reach_the_feed_health_or_any_log_line(
    sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the websockets library logs every frame at DEBUG
    set_knobs(sim, "pipai", echo_secret=True)
    creds = sim.vendors["pipai"].credentials()
    sink = RecordingSink()
    client = PipAIClient(settings_for(sim, "pipai"))
    task = asyncio.create_task(client.run_feed(sink))
    try:
        # subscribed (after the notice): the list arrives from the poller before that
        await sink.wait_for(lambda s: s.snapshots >= 1 and FeedStatus.LIVE in s.statuses)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
    assert sim_counters(sim, "pipai")["ws_echo"] == 1
    assert "NOTICE" in caplog.text  # the echoing frame was logged, masked
    wrong = {"api_key": Secret(creds["api_key"]), "api_secret": Secret("sk_wrong_secret_0042")}
    sink = RecordingSink()
    client = PipAIClient(settings_for(sim, "pipai", credentials=wrong))
    task = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: any("INVALID_SIGNATURE" in d for _, _, d in s.healths))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
    details = [d for _, _, d in sink.healths]
    assert any("***" in d for d in details)
    assert_clean(sim, *details, caplog.text)
    assert "sk_wrong_secret_0042" not in caplog.text + "".join(details)
    assert len(caplog.records) > 0


# ----- 5. ids "." and ".." -------------------------------------------------------------


async def test_dot_ids_are_listed_and_never_sent(sim: SimServer) -> None:
    set_knobs(sim, "pipai", dot_ids=True)
    async with client_of(sim) as client:
        targets = {t.id: t for t in await client.list_targets()}
        assert {".", ".."} <= set(targets)
        assert targets[".."].state is State.RUNNING
        before = sim_counters(sim, "pipai")["requests"]
        for sid in (".", ".."):
            outcome = await client.execute(sid, PAUSE)
            assert outcome.kind is OutcomeKind.FAILED
            assert "cannot be sent safely" in outcome.message
            assert "nothing was sent" in outcome.message
            with pytest.raises(FeedError, match="cannot be sent safely"):
                await client.read_target(sid)
        assert sim_counters(sim, "pipai")["requests"] == before


# ----- 6. one bad row ------------------------------------------------------------------


async def test_a_bad_row_is_skipped_and_named_and_the_others_are_read(sim: SimServer) -> None:
    set_knobs(sim, "pipai", bad_row=True)
    bad = world(sim, "deployed")[1]
    async with client_of(sim, options={"page_size": 7}) as client:
        targets = await client.list_targets()
        assert [t.id for t in targets] == [sid for sid in world(sim) if sid != bad]
        assert client.skipped_rows == [f"{bad}: leverage: Input should be a finite number"]
        # The next clean read forgets it.
        set_knobs(sim, "pipai", bad_row=False)
        assert len(await client.list_targets()) == 30
        assert client.skipped_rows == []
        # The other strategies are still halted; the bad one too, when asked by id.
        outcome = await client.execute(bad, PAUSE)
        assert outcome.kind is OutcomeKind.APPLIED


# ----- 7. escape sequences in names are the venue's words, kept as sent -----------------


async def test_escaped_names_reach_the_target_as_sent(sim: SimServer) -> None:
    set_knobs(sim, "pipai", escape_names=True)
    async with client_of(sim) as client:
        targets = await client.list_targets()
    assert all(t.name.startswith("\x1b[2J") for t in targets)  # printable() is the screen's
