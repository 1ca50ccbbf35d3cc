"""Property tests: whatever x3algo sends, only the project's own outcomes and errors come out.

Arbitrary bytes and mutated valid bodies (keys dropped, wrong types, huge numbers, nested
junk, empty, ``{}``, ``null``, deep nesting) go through the list page reading
(:func:`console.venues.x3algo.mapping.parse_page`), whole list reads, single reads, the
login, and the translation of stop and start answers (``execute`` over a
loopback venue: the production send path, tests/venues/loopback.py). A read raises FeedError / Unreadable /
Incomplete only; a control call returns an Outcome; no credential or token is ever in
their words.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, Target
from console.core.scrub import Scrubber
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import Unreadable
from console.venues.kit.paging import Page
from console.venues.x3algo.client import X3AlgoClient
from console.venues.x3algo.mapping import parse_page
from tests.venues import mutations
from tests.venues.held_venue import held
from tests.venues.loopback import LoopbackVenue
from tests.venues.mutations import Mutations, caught, headers_for, nested, scalars, venue_props
from tests.x3algo_samples import LIST_SAMPLE, STOP_SAMPLE

PROPS = venue_props(5)  # this venue's 5 hostile properties share the CI budget

EMAIL = "props.trader@example.com"
PASSWORD = "props-password-0123456789"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwcm9wcyJ9.props-token-signature"
COOKIE = "props-refresh-cookie-abcdef"
SECRETS = (EMAIL, PASSWORD, TOKEN, COOKIE, "props-token")
ALGO = STOP_SAMPLE["id"]

JUNK_KEYS = ["id", "data", "performance", "totalPages", "error", "x"]
MUTATIONS = Mutations(junk=nested(scalars(), JUNK_KEYS, max_leaves=5), most=4)
render, mutated = MUTATIONS.render, MUTATIONS.mutated


def algorithm(n: int, status: str = "active") -> dict[str, Any]:
    row = dict(LIST_SAMPLE["data"][0])
    row.update(id=f"{n:024x}", status=status, lastExecution={"status": "success", "result": n})
    return row


@st.composite
def page_bodies(draw: st.DrawFn) -> dict[str, Any]:
    rows = [algorithm(i) for i in range(draw(st.integers(0, 4)))]
    body: dict[str, Any] = {"data": rows}
    if draw(st.booleans()):
        total = draw(st.integers(len(rows), 500)) if rows else 0
        body["pagination"] = {"page": 1, "limit": 100, "total": total, "totalPages": 3}
    return body


def envelope(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "code": code, "status": status, "details": {}}}


FIXED = [*mutations.FIXED, b'{"data": null}']

any_page = (
    st.binary(max_size=600)
    | st.sampled_from(FIXED)
    | page_bodies().flatmap(lambda page: mutated(page))
)
any_answer = (
    st.binary(max_size=300)
    | st.sampled_from(FIXED)
    | mutated(STOP_SAMPLE)
    | mutated(algorithm(1, "stopped"))
    | mutated(algorithm(1, "draft"))
    | mutated(envelope(422, "UNPROCESSABLE_ENTITY", "Algorithm not active"))
    | mutated(
        {
            "error": {
                "message": "Daily loss limit reached",
                "code": "FORBIDDEN",
                "status": 403,
                "details": {"dailyLoss": 5000, "limit": 5000, "missingFields": ["a"]},
            }
        }
    )
    | st.sampled_from(
        [  # a venue quoting what it was sent
            render(envelope(500, "X", f"bad header Bearer {TOKEN} password={PASSWORD}")),
            render(envelope(401, "X", f"{EMAIL} / {PASSWORD} / refreshToken={COOKIE}")),
        ]
    )
)
any_login = (
    st.binary(max_size=200)
    | st.sampled_from(FIXED)
    | mutated({"accessToken": TOKEN, "expiresIn": 900, "tokenType": "Bearer"})
)
statuses = mutations.statuses(200, 400, 401, 403, 404, 409, 422, 429, 500, 503)
retry_afters = mutations.retry_afters()


def clean(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


# ----- list parsing --------------------------------------------------------------------


@PROPS
@given(any_page, st.integers(1, 5))
def test_any_page_reads_into_rows_or_is_unreadable(content: bytes, number: int) -> None:
    page, error = caught(lambda: parse_page(content, number, Scrubber([PASSWORD]).scrub))
    if error is not None:
        assert isinstance(error, Unreadable)
        assert str(error).startswith("x3algo") and "not read as none" in str(error)
        return
    assert isinstance(page, Page)
    assert all(isinstance(row["id"], str) and row["id"].strip() for row in page.rows)
    assert all(isinstance(s, str) and ": " in s and s.isprintable() for s in page.skipped)
    body = json.loads(content)  # a page read is valid JSON with a list of rows
    assert len(page.rows) + len(page.skipped) == len(body["data"]) == page.sent


@PROPS
@given(page_bodies())
def test_a_documented_page_loses_nothing(body: dict[str, Any]) -> None:
    page = parse_page(render(body), 1, Scrubber().scrub)
    assert [row["id"] for row in page.rows] == [row["id"] for row in body["data"]]
    assert page.skipped == []


# ----- whole reads, logins and control calls, through the client -----------------------


class Script:
    """What the fake x3algo answers next (set per example); logins work unless told."""

    def __init__(self) -> None:
        self.replies: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/auth/login":
            kind = "login"
        elif path == "/api/auth/refresh-token":
            kind = "refresh"
        elif path == "/api/trading/algorithms":
            kind = "list"
        else:
            kind = request.method
        default = (
            200,
            {"Set-Cookie": f"refreshToken={COOKIE}; HttpOnly; Secure"},
            render({"accessToken": TOKEN, "expiresIn": 900}),
        )
        status, headers, body = self.replies.get(kind, default)
        return httpx.Response(status, headers=headers, content=body)


def venue_settings() -> VenueSettings:
    return VenueSettings(
        name="x3algo",
        api="x3algo",
        base_url="http://api.x3algo.example",
        credentials={"email": Secret(EMAIL), "password": Secret(PASSWORD)},
        pacing=False,
        retry_after_cap_s=0.0,  # nothing is ever slept for in these tests
        max_pages=3,
    )


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[X3AlgoClient, Script, asyncio.Runner]]:
    script = Script()
    with asyncio.Runner() as runner:
        client = X3AlgoClient(venue_settings(), transport=LoopbackVenue(script))
        yield client, script, runner
        runner.run(client.aclose())


@pytest.mark.slow
@PROPS
@given(statuses, retry_afters, any_page, any_answer)
def test_a_read_raises_only_feed_errors(
    fake: tuple[X3AlgoClient, Script, asyncio.Runner],
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
    for read in (client.list_targets, lambda: client.read_target(ALGO)):
        result, error = caught(lambda: runner.run(read()))  # noqa: B023 (called at once)
        if error is not None:
            assert error.kind in ("unreachable", "unreadable", "incomplete")
            assert clean(str(error)), str(error)
        else:
            assert result is None or isinstance(result, Target | list)
    assert all(clean(s) for s in client.skipped_rows)


ACTIONS = [Action(ActionKind.STOP), Action(ActionKind.START), Action(ActionKind.PAUSE)]


@PROPS
@given(
    statuses,
    retry_afters,
    any_answer,
    statuses,
    any_answer,
    st.sampled_from(ACTIONS),
    st.sampled_from([ALGO, ".", "..", "", "a/b", "ü?x", "%2e%2e"]),
)
def test_a_control_answer_always_translates_into_an_outcome(
    fake: tuple[X3AlgoClient, Script, asyncio.Runner],
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
    assert clean(outcome.message) and clean(outcome.warning or ""), outcome.message
    if target_id in (".", "..", "") and action.kind is not ActionKind.PAUSE:
        assert outcome.kind is OutcomeKind.FAILED and "Nothing was sent" in outcome.message


@pytest.fixture(scope="module")
def logins() -> Iterator[tuple[LoopbackVenue, Script, asyncio.Runner]]:
    """One venue for every example (tests/venues/held_venue.py); each logs in anew."""
    script = Script()
    with asyncio.Runner() as runner, held(script, runner) as venue:
        yield venue, script, runner


@PROPS
@given(statuses, retry_afters, any_login)
def test_any_login_answer_fails_reads_and_calls_in_words(
    logins: tuple[LoopbackVenue, Script, asyncio.Runner],
    status: int,
    retry_after: str | None,
    login: bytes,
) -> None:
    venue, script, runner = logins
    script.replies = {"login": (status, headers_for(retry_after), login)}
    client = X3AlgoClient(venue_settings(), transport=venue)  # a fresh login each example
    try:
        outcome = runner.run(client.execute(ALGO, Action(ActionKind.STOP)))
        assert isinstance(outcome, Outcome) and clean(outcome.message)
        _result, error = caught(lambda: runner.run(client.read_target(ALGO)))
        assert error is None or clean(str(error))
    finally:
        runner.run(client.aclose())
