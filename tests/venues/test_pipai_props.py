"""Property tests: whatever PipAI sends, only the project's own outcomes and errors come out.

Arbitrary bytes and mutated valid bodies (keys dropped, wrong types, huge numbers,
nested junk, empty, ``{}``, ``null``, deep nesting) go through the list page reading
(:func:`console.venues.pipai.mapping.read_page`), a whole list read, a single read and the
translation of control answers (``execute`` with the client's one request method answering
a ``Reply``: no network per example). A list read raises FeedError / Unreadable / Incomplete only; a control call
returns an Outcome and never falls back on its "failed inside the console" net.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, Target
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.http import QueryValue, Reply
from console.venues.pipai.auth import request_target
from console.venues.pipai.client import PipAIClient
from console.venues.pipai.mapping import ListPage, read_page
from tests.venues import mutations
from tests.venues.mutations import Mutations, caught, headers_for, scalars, venue_props
from tests.venues.test_pipai_unit import SID, strategy

PROPS = venue_props(3)  # this venue's 3 hostile properties share the CI budget

KEY = "pk_props_key_0123456789"
SECRET = "sk_props_secret_abcdef0123456789"

RAW = {**mutations.RAW, "__lone_surrogate__": '"\\ud800"'}  # valid JSON, no valid UTF-8


def strategy_body(sid: str = SID, status: str = "deployed") -> dict[str, Any]:
    return strategy(status, id=sid, params={"grid_levels": 8})


# Junk to put anywhere: scalars of every JSON type, nested shapes, the raw markers.
# (Sampled rather than drawn recursively: the draw dominated the run time.)
NESTED = [
    [],
    {},
    [[[]]],
    {"a": {"b": [1, "x", None]}},
    [None, True, "s", 1.5],
    {"id": None, "data": {}},
    {"data": [{"id": []}]},
    [{"id": "strat_1"}, 7],
]
MUTATIONS = Mutations(junk=scalars(raw=RAW) | st.sampled_from(NESTED), raw=RAW, most=3)
render, mutated = MUTATIONS.render, MUTATIONS.mutated


@st.composite
def page_bodies(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 4))
    rows = [strategy_body(f"strat_{i:06x}") for i in range(count)]
    cursor = draw(st.none() | st.text(max_size=12) | st.just("__lone_surrogate__"))
    return {"data": rows, "next_cursor": cursor}


FIXED = [*mutations.FIXED, b'{"data": null}']

any_page = (
    st.binary(max_size=600)
    | st.sampled_from(FIXED)
    | page_bodies().flatmap(lambda page: mutated(page))
    | st.just(b"")
)
any_strategy = (
    st.binary(max_size=300)
    | st.sampled_from(FIXED)
    | mutated(strategy_body())
    | mutated(strategy_body(status="paused"))
    | mutated({"code": "INVALID_STATE", "message": "Strategy is paused"})
)
statuses = mutations.statuses(200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 503)
retry_afters = mutations.retry_afters()


# ----- list parsing --------------------------------------------------------------------


@PROPS
@given(any_page, st.integers(1, 5))
def test_any_page_reads_into_targets_or_is_unreadable(content: bytes, page: int) -> None:
    result, error = caught(lambda: read_page("pipai", content, 0.0, page))
    if error is not None:  # Unreadable, in words
        assert error.kind == "unreadable"
        assert str(error).startswith("PipAI sent an unreadable answer when listing strategies")
        return
    assert isinstance(result, ListPage)
    assert all(isinstance(t, Target) and isinstance(t.id, str) for t in result.targets)
    assert result.next_cursor is None or isinstance(result.next_cursor, str)
    assert all(isinstance(s, str) and ": " in s for s in result.skipped)
    body = json.loads(content, parse_int=float)  # a page read is JSON with a list of rows
    assert len(result.targets) + len(result.skipped) == len(body["data"])


@settings(PROPS, max_examples=200)  # an equivalence, not a hostile input: fewer suffice
@given(page_bodies())
def test_a_documented_page_loses_nothing(page: dict[str, Any]) -> None:
    result = read_page("pipai", render(page), 0.0)
    assert [t.id for t in result.targets] == [row["id"] for row in page["data"]]
    assert result.skipped == []
    assert result.next_cursor == json.loads(render(page))["next_cursor"]


# ----- whole reads and control calls, through the client -------------------------------


class Script:
    """What the fake PipAI answers next (set per example), as the client's one request
    method sees it: a :class:`Reply`, no HTTP at all (signing and transport are tested
    elsewhere; here only what the client makes of an answer)."""

    def __init__(self) -> None:
        self.replies: dict[str, tuple[int, dict[str, str], bytes]] = {}

    async def request(
        self, method: str, path: str, *, query: Mapping[str, QueryValue] | None, **_: Any
    ) -> Reply:
        request_target(path, query)  # what the real one builds first (and may refuse)
        kind = "list" if path == "/v1/strategies" else method
        status, headers, body = self.replies.get(kind, (404, {}, b""))
        return Reply(status, httpx.Headers(headers), body, 0.0)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[PipAIClient, Script, asyncio.Runner]]:
    script = Script()
    venue = VenueSettings(
        name="pipai",
        api="pipai",
        base_url="https://api.pipai.example",
        credentials={"api_key": Secret(KEY), "api_secret": Secret(SECRET)},
        pacing=False,
        retry_after_cap_s=0.0,  # nothing is ever slept for in these tests
        max_pages=3,
    )
    with asyncio.Runner() as runner:
        client = PipAIClient(venue)
        client._request = script.request  # type: ignore[method-assign]
        yield client, script, runner
        runner.run(client.aclose())


@pytest.mark.slow
@PROPS
@given(statuses, retry_afters, any_page, any_strategy)
def test_a_list_read_raises_only_feed_errors(
    fake: tuple[PipAIClient, Script, asyncio.Runner],
    status: int,
    retry_after: str | None,
    page: bytes,
    single: bytes,
) -> None:
    client, script, runner = fake
    script.replies = {
        "list": (status, headers_for(retry_after), page),
        "GET": (status, headers_for(retry_after), single),
    }
    for read in (client.list_targets, lambda: client.read_target("strat_8f2a1b")):
        result, error = caught(lambda: runner.run(read()))  # noqa: B023 (called at once)
        if error is None:
            assert result is None or isinstance(result, Target | list)
            continue
        assert error.kind in ("unreachable", "unreadable", "incomplete")
        assert "inside the console" not in str(error), str(error)
        assert KEY not in str(error) and SECRET not in str(error)


ACTIONS = [
    Action(ActionKind.PAUSE, {"close_positions": False}),
    Action(ActionKind.PAUSE, {"close_positions": True}),
    Action(ActionKind.RESUME),
]


@PROPS
@given(
    statuses,
    retry_afters,
    any_strategy,
    statuses,
    any_strategy,
    st.sampled_from(ACTIONS),
    st.sampled_from(["strat_8f2a1b", ".", "..", "", "a/b", "ü?x"]),
)
def test_a_control_answer_always_translates_into_an_outcome(
    fake: tuple[PipAIClient, Script, asyncio.Runner],
    status: int,
    retry_after: str | None,
    answer: bytes,
    reread_status: int,
    reread: bytes,
    action: Action,
    target_id: str,
) -> None:
    client, script, runner = fake
    script.replies = {
        "POST": (status, headers_for(retry_after), answer),
        "GET": (reread_status, {}, reread),
    }
    outcome = runner.run(client.execute(target_id, action))
    assert isinstance(outcome, Outcome)
    assert isinstance(outcome.kind, OutcomeKind)
    assert "inside the console" not in outcome.message, outcome.message
    assert KEY not in outcome.message and SECRET not in outcome.message
