"""Faults an independent clean-room PipAI (CONTRACTS.md section 3) found in the client.

1. A list page with no ``next_cursor`` key (absent, not null) threw its rows away: alone,
   the list was unreadable (``status`` empty, a kill sent nothing); as page 6, the 35
   strategies before it were kept but not its own. Now its rows are kept and the list
   ends there as *incomplete*, in words: the page did not say whether more follow.
2. ``"params": null`` (template-specific, opaque) refused the single GET and every
   answer to a pause or deploy, though the list read the same strategy.
3. An error whose ``message`` is null was quoted ``INVALID_PARAMETER: ""`` (the stream's
   refusal: ``INVALID_PARAMETER "None"``): the code alone now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.venues.kit.base import FeedStatus
from console.venues.kit.feeds import FeedError, Incomplete
from console.venues.pipai.mapping import read_page
from tests.support import RecordingSink
from tests.venues.test_pipai_feed import idle_stream
from tests.venues.test_pipai_unit import (
    DEPLOY,
    GET,
    PAUSE,
    SID,
    FakePipAI,
    answer,
    client_for,
    json_reply,
    pause,
    strategy,
)


def row(n: int, status: str = "deployed") -> dict[str, Any]:
    return strategy(status) | {"id": f"strat_{n:04d}"}


# ----- 1. a page without next_cursor keeps its rows and ends the list, incomplete ----


def test_a_page_without_next_cursor_keeps_its_rows_and_says_so() -> None:
    bad = {"id": "strat_bad", "leverage": -1}
    content = json.dumps({"data": [row(1), bad, row(2)]}).encode()
    page = read_page("pipai", content, 0.0, 3)
    assert [t.id for t in page.targets] == ["strat_0001", "strat_0002"]
    assert page.skipped == ["strat_bad: leverage: Input should be greater than or equal to 0"]
    assert (page.next_cursor, page.cursor_missing) == (None, True)
    whole = read_page("pipai", json.dumps({"data": [row(1)], "next_cursor": None}).encode(), 0.0)
    assert (whole.next_cursor, whole.cursor_missing) == (None, False)


async def test_a_single_page_without_next_cursor_is_incomplete_with_every_strategy() -> None:
    fake = FakePipAI()
    rows = [row(1), row(2, "paused"), {"name": "no id"}, row(3)]
    fake.on("GET", "/v1/strategies", answer(200, {"data": rows}))
    client = client_for(fake)
    with pytest.raises(Incomplete) as err:
        await client.list_targets()
    assert [t.id for t in err.value.partial] == ["strat_0001", "strat_0002", "strat_0003"]
    assert str(err.value) == (
        "PipAI's strategy list was not read to its end: page 1 did not say whether more "
        "strategies follow (its answer has no next_cursor); 3 strategies read from 1 "
        "page(s) are kept"
    )
    assert client.skipped_rows == ["row 3 of page 1: id: Field required"]
    assert fake.count("GET", "/v1/strategies") == 1
    await client.aclose()


async def test_page_6_without_next_cursor_keeps_its_rows_and_the_35_before() -> None:
    fake = FakePipAI()

    def page(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        number = int(cursor.removeprefix("c")) if cursor else 1
        data = [row(number * 10 + i) for i in range(7 if number < 6 else 4)]
        if number < 6:
            return json_reply(200, {"data": data, "next_cursor": f"c{number + 1}"})
        return json_reply(200, {"data": data})  # page 6: no next_cursor

    fake.on("GET", "/v1/strategies", page)
    client = client_for(fake, page_size=7)
    with pytest.raises(Incomplete, match=r"page 6 did not say whether more") as err:
        await client.list_targets()
    partial = [t.id for t in err.value.partial]
    assert len(partial) == 35 + 4 and partial[-4:] == [f"strat_{60 + i:04d}" for i in range(4)]
    assert "39 strategies read from 6 page(s) are kept" in str(err.value)
    assert fake.count("GET", "/v1/strategies") == 6
    await client.aclose()


async def test_the_feed_shows_a_cursorless_list_and_marks_it_incomplete() -> None:
    """What ``status`` shows: every strategy, the venue marked INCOMPLETE (was: nothing,
    the venue UNREADABLE)."""
    fake = FakePipAI()
    fake.on("GET", "/v1/strategies", answer(200, {"data": [row(1), row(2)]}))
    client = client_for(fake)
    sink = RecordingSink()
    feed = asyncio.create_task(client.run_feed(sink))
    try:
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    finally:
        feed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed
        await client.aclose()
    assert sorted(sid for _, sid in sink.targets) == ["strat_0001", "strat_0002"]
    (detail,) = [d for _, st, d in sink.healths if st is FeedStatus.DOWN]
    assert detail.startswith("INCOMPLETE: PipAI's strategy list was not read to its end")


# ----- 2. an opaque field the console never reads never blocks a single target -------


@pytest.mark.parametrize(
    "opaque", [{"params": None}, {"params": "oops"}, {"params": [1], "created_at": {"x": 1}}]
)
async def test_a_single_read_is_as_tolerant_as_the_list_of_opaque_fields(
    opaque: dict[str, Any],
) -> None:
    fake = FakePipAI()
    fake.on(
        "GET", "/v1/strategies", answer(200, {"data": [strategy(**opaque)], "next_cursor": None})
    )
    fake.on(*GET, answer(200, strategy(**opaque)))
    client = client_for(fake)
    (listed,) = await client.list_targets()
    read = await client.read_target(SID)
    assert read is not None and read.attrs == listed.attrs and read.state is State.RUNNING
    await client.aclose()


async def test_pause_and_resume_of_a_strategy_with_null_params_are_applied() -> None:
    fake = FakePipAI()
    fake.on(*GET, answer(200, strategy("paused", 0, params=None)))
    fake.on(*PAUSE, answer(200, strategy("paused", 0, params=None)))
    fake.on(*DEPLOY, answer(200, strategy("deployed", 0, params=None)))
    client = client_for(fake)
    paused = await client.execute(SID, pause())
    resumed = await client.execute(SID, Action(ActionKind.RESUME))
    assert (paused.kind, paused.state_after) == (OutcomeKind.APPLIED, State.PAUSED)
    assert (resumed.kind, resumed.state_after) == (OutcomeKind.APPLIED, State.RUNNING)
    await client.aclose()


# ----- 3. an error whose message is null: the code alone ----------------------------


@pytest.mark.parametrize("message", [None, ""])
async def test_an_error_without_a_message_is_quoted_as_its_code_alone(message: str | None) -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, answer(400, {"code": "INVALID_PARAMETER", "message": message}))
    client = client_for(fake)
    outcome = await client.execute(SID, pause())
    assert outcome.kind is OutcomeKind.REJECTED
    assert "HTTP 400 INVALID_PARAMETER when asked to pause" in outcome.message
    assert "None" not in outcome.message and '""' not in outcome.message
    await client.aclose()


class RefusingSocket:
    """A stream that answers the auth frame (and a subscribe) with ``replies``."""

    def __init__(self, *replies: dict[str, Any]) -> None:
        self.replies = [json.dumps(r) for r in replies]

    async def send(self, text: str) -> None:
        pass

    async def recv(self) -> str:
        return self.replies.pop(0)


@pytest.mark.parametrize(
    ("replies", "said"),
    [
        (
            [{"op": "auth", "ok": False, "code": "INVALID_PARAMETER", "message": None}],
            "PipAI stream refused our credentials: INVALID_PARAMETER; check",
        ),
        (
            [
                {"op": "auth", "ok": True},
                {"op": "ack", "ok": False, "code": "NOT_FOUND", "message": None},
            ],
            "PipAI refused the subscription to strategy.status: NOT_FOUND",
        ),
        (
            [{"op": "auth", "ok": False, "code": "KEY_EXPIRED", "message": "Key expired"}],
            'PipAI stream refused our credentials: KEY_EXPIRED: "Key expired"; check',
        ),
    ],
)
async def test_a_stream_refusal_without_a_message_is_quoted_as_its_code_alone(
    replies: list[dict[str, Any]], said: str
) -> None:
    stream = idle_stream(RecordingSink())
    with pytest.raises(FeedError) as err:
        await stream._handshake(RefusingSocket(*replies), 1.0)  # type: ignore[arg-type]
    assert str(err.value).startswith(said)
    assert "None" not in str(err.value)


# ----- 4. a cursor that includes the row it ends on ------------------------------------


async def test_a_row_repeated_at_the_top_of_the_next_page_is_one_strategy() -> None:
    """Each page begins with the last row of the one before (an inclusive cursor): the
    same strategy in the same state, read once — it was named an unaddressable twin,
    though the kill paused it. Twice on one page, or in another state, is still named."""
    fake = FakePipAI()
    rows = [row(n) for n in range(1, 31)]

    def page(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        number = int(cursor.removeprefix("c")) if cursor else 1
        start = max(0, (number - 1) * 10 - 1)  # the previous page's last row again
        data = rows[start : number * 10]
        following = f"c{number + 1}" if number < 3 else None
        return json_reply(200, {"data": data, "next_cursor": following})

    fake.on("GET", "/v1/strategies", page)
    client = client_for(fake)
    targets = await client.list_targets()
    assert [t.id for t in targets] == [r["id"] for r in rows]
    assert client.skipped_rows == []
    await client.aclose()
