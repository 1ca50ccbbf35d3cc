"""Property tests: whatever Joyride answers, only the project's own outcomes and errors.

Arbitrary bytes and mutated documented bodies (keys dropped, wrong types, huge numbers,
nested junk, ``{}``, ``null``, empty, deep nesting, the admin token echoed, terminal
escapes) are fed through the instrument list's reading and the pause/resume answer's
translation, on a loopback venue (tests/venues/loopback.py, the production send path). A list read
returns targets or raises FeedError (Unreadable / Incomplete); a control call returns an
Outcome and never raises, never hits the internal-error net, never shows the token.
At least 2,000 examples each for the list and the control property when CI is set.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, Target
from console.core.scrub import printable
from console.venues.joyride.client import JoyrideClient
from console.venues.joyride.mapping import parse_expiration
from console.venues.joyride.wire import read_instrument_list
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.control import unclear_answer
from console.venues.kit.feeds import FeedError, Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.refused import MAX_TRIES
from tests.venues import test_joyride_unit as unit
from tests.venues.loopback import LoopbackVenue
from tests.venues.mutations import IN_CI, headers_for, venue_props

PROPS = venue_props(2)  # this venue's 2 hostile properties share the CI budget

TOKEN = "jr_admin_property_test_token_9c41"
NOW = 1_740_700_000.0
EXP = 1_740_729_600  # after NOW
MAX_TARGETS = 4

# The direct translation below complements the control property (it adds the unsent
# 429 the pacer makes up): fewer examples, the same budget overall.
FEWER = settings(PROPS, max_examples=500 if IN_CI else 100)

# ----- strategies ---------------------------------------------------------------------------
HOSTILE_TEXT = st.sampled_from(
    [TOKEN, f"Bearer {TOKEN}", ".", "..", "", "\x1b]0;pwned\x07", "\x1b[2J", "call", "put"]
)
HUGE = st.sampled_from(
    [0, -1, 1, 10**12, 2**63, 2**64 + 1, 10**40, 253_402_300_799, 253_402_300_800, -(10**20)]
)
# Cheap to draw (a few thousand examples must take seconds): small alphabets, and the
# float values that matter rather than every float.
WORD = st.text(alphabet="aZ09_-.:/ \x00\x1b\u202e\xe9", max_size=8)
SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**13)
    | HUGE
    | st.sampled_from([0.5, -0.0, 1e308, 1.7e9, float("inf"), float("-inf"), float("nan")])
    | WORD
    | HOSTILE_TEXT
)
NESTED = st.sampled_from(
    [[[[]]], {"a": {"b": [1, {"c": None}]}}, [{"id": ["x"]}], {"": {"": {"": [{}]}}}]
)
JUNK = (
    SCALAR
    | NESTED
    | st.lists(SCALAR, max_size=3)
    | st.dictionaries(WORD, SCALAR | NESTED, max_size=3)
)


def deep(depth: int, closed: bool) -> bytes:
    return b"[" * depth + (b"]" * depth if closed else b"")


DEEP = st.builds(deep, st.sampled_from([50, 1_000, 5_000, 50_000]), st.booleans())


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], extra_keys: tuple[str, ...] = ()) -> Any:
    """``base`` with some keys dropped or given junk, or the whole thing replaced."""
    shape = draw(st.sampled_from(["as is", "mutated", "mutated", "junk"]))
    if shape == "junk":
        return draw(JUNK)
    row = dict(base)
    if shape == "mutated":
        keys = draw(st.lists(st.sampled_from([*base, *extra_keys]), max_size=3, unique=True))
        for key in keys:
            if draw(st.booleans()):
                row.pop(key, None)
            else:
                row[key] = draw(JUNK)
    return row


def instrument(index: int, expiration: int) -> dict[str, Any]:
    side = "C" if index % 2 == 0 else "P"
    strike = 100 + index
    return unit.instrument(
        f"SOL_USDC-28FEB25-{strike}-{side}", expiration, strike=strike * 1_000_000
    )


EXPIRATIONS = st.sampled_from([EXP, EXP + 86_400, int(NOW) - 86_400]) | HUGE


@st.composite
def listing_body(draw: st.DrawFn) -> bytes:
    """A list answer: mostly the documented shape, mutated; sometimes anything at all."""
    kind = draw(
        st.sampled_from(["rows", "rows", "rows", "wrapped", "bytes", "deep", "fixed", "junk"])
    )
    if kind == "junk":
        return json.dumps(draw(JUNK)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "deep":
        return draw(DEEP)
    if kind == "fixed":
        return draw(
            st.sampled_from([b"", b" ", b"{}", b"null", b"[]", b"[{}]", b'"x"', b"[1,2]", b"[{"])
        )
    count = draw(st.integers(0, MAX_TARGETS + 3))
    rows: list[Any] = []
    for index in range(count):
        base = instrument(index, draw(EXPIRATIONS) if index % 3 == 0 else EXP)
        rows.append(draw(mutated(base, ("status",))) if draw(st.integers(0, 3)) == 0 else base)
    data: Any = rows
    if kind == "wrapped":
        data = draw(st.sampled_from([{"instruments": rows}, {"data": rows, "total": count}]))
    text = json.dumps(data)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]  # cut short
    return text.encode()


# The list re-read after an untrustworthy or zero-count answer: listed, not, or broken.
LISTINGS = [
    json.dumps([instrument(0, EXP), instrument(1, EXP)]).encode(),
    b"[]",
    b"",
    b"{}",
    b"[{",
    json.dumps([instrument(0, 10**12)]).encode(),
]


def pause_answer(paused: bool) -> dict[str, Any]:
    return {
        "expiration": EXP,
        "paused": paused,
        "db_updated": 3,
        "engine_updated": 2,
        "engine_missing": ["SOL_USDC-28FEB25-150-C"],
    }


@st.composite
def control_answer(draw: st.DrawFn, paused: bool) -> tuple[int, dict[str, str], bytes]:
    """A pause/resume answer: status, headers, body (documented or mutated or junk)."""
    status = draw(
        st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503])
        | st.integers(100, 599)
    )
    retry_after = draw(
        st.none()
        | st.sampled_from(["0", "0.0001", "3600", "inf", "-5", "nan", "1e309", "soon"])
        | st.sampled_from(["Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"])
    )
    kind = draw(st.sampled_from(["pause", "pause", "error", "bytes", "deep", "fixed"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=200))
    elif kind == "deep":
        body = draw(DEEP)
    elif kind == "fixed":
        body = draw(st.sampled_from([b"", b"{}", b"null", b"[]", b"true", b"{"]))
    elif kind == "error":
        base = {"error": "rate_limited", "message": f"slow down {TOKEN}", "details": []}
        body = json.dumps(draw(mutated(base))).encode()
    else:
        answer = draw(mutated(pause_answer(paused)))
        if isinstance(answer, dict) and draw(st.booleans()):
            answer["engine_missing"] = draw(st.lists(WORD | HOSTILE_TEXT, max_size=12))
        body = json.dumps(answer).encode()
    return status, headers_for(retry_after), body


# ----- the harness: a client on canned answers, one event loop for every example -----------
@dataclass
class Scripted:
    """What the fake Joyride answers: the list body, and one answer for the pause route."""

    listing: bytes = b"[]"
    control: tuple[int, dict[str, str], bytes] = (200, {}, b"{}")
    posts: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=self.listing)
        self.posts += 1
        status, headers, body = self.control
        return httpx.Response(status, headers=headers, content=body)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def client_for(venue: Scripted) -> JoyrideClient:
    settings = VenueSettings(
        name="joyride",
        api="joyride",
        base_url="http://joyride.test/api",
        credentials={"admin_token": Secret(TOKEN)},
        control_timeout_s=2.0,
        request_timeout_s=10.0,
        pacing=False,
        rate_scale=1e-4,  # a 429 without Retry-After is retried after 0.1 ms
        retry_after_cap_s=0.001,  # any real Retry-After is "too long": no sleeping here
        max_targets=MAX_TARGETS,
    )
    client = JoyrideClient(settings, transport=LoopbackVenue(venue))
    client.clock = lambda: NOW
    return client


def list_once(loop: asyncio.AbstractEventLoop, body: bytes) -> tuple[list[Target] | None, Any]:
    async def go() -> tuple[list[Target] | None, Any]:
        client = client_for(Scripted(listing=body))
        try:
            return await client.list_targets(), client.skipped_rows
        except FeedError as exc:  # the project's own read errors, and only them
            return None, exc
        finally:
            await client.aclose()

    return loop.run_until_complete(go())


def clean(text: str | None) -> None:
    assert text is None or TOKEN not in text


# ----- the instrument list ----------------------------------------------------------------
@pytest.mark.slow
@PROPS
@given(body=listing_body())
def test_any_list_answer_gives_targets_or_a_feed_error(
    loop: asyncio.AbstractEventLoop, body: bytes
) -> None:
    targets, extra = list_once(loop, body)
    if not isinstance(json_or(body, []), list):
        assert isinstance(extra, Unreadable)  # JSON, but no list: never "no rounds"
    if targets is None:
        assert isinstance(extra, FeedError)
        clean(str(extra))
        assert "\x1b" not in str(extra)  # venue text in it is made printable
        return
    if not targets:
        # "No rounds" only ever comes from the documented shape with no row in it.
        assert json.loads(body) == []
    for target in targets:
        assert parse_expiration(target.id) is not None
        assert target.attrs["instruments"] >= 1
        for asset in target.attrs["assets"]:
            assert printable(asset) == asset
    for row in extra:
        assert isinstance(row, str) and ": " in row
        assert printable(row) == row
        clean(row)


def json_or(body: bytes, default: Any) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return default


@pytest.mark.parametrize("body", [b"", b" \n", b"{}", b"null", b"0", b'"[]"', b"[{}]", b"[["])
def test_the_wire_reader_refuses_what_is_no_list_of_instruments(body: bytes) -> None:
    with pytest.raises(Unreadable):
        read_instrument_list(body, MAX_TARGETS)


# ----- pause / resume answers ---------------------------------------------------------------
@PROPS
@given(
    paused=st.booleans(),
    answer=st.data(),
    listing=st.sampled_from(LISTINGS),
    target_id=st.sampled_from([str(EXP), str(EXP), ".", "..", "", "abc", "1000000000000"]),
)
@pytest.mark.slow
def test_any_control_answer_becomes_an_outcome(
    loop: asyncio.AbstractEventLoop,
    paused: bool,
    answer: st.DataObject,
    listing: bytes,
    target_id: str,
) -> None:
    control = answer.draw(control_answer(paused))
    venue = Scripted(listing=listing, control=control)
    action = Action(ActionKind.PAUSE if paused else ActionKind.RESUME)

    async def go() -> Outcome:
        client = client_for(venue)
        try:
            return await client.execute(target_id, action)
        finally:
            await client.aclose()

    outcome = loop.run_until_complete(go())
    assert isinstance(outcome, Outcome)
    assert outcome.kind in OutcomeKind
    assert outcome.message
    assert "internal error" not in outcome.message
    for text in (outcome.message, outcome.warning, outcome.vendor_code):
        clean(text)
    assert venue.posts <= MAX_TRIES  # at most MAX_TRIES - 1 more after 429s
    if target_id != str(EXP):
        assert venue.posts == 0  # an id that is no live expiration is never sent
        return
    status = control[0]
    # A 1xx is no final answer on the wire (the client reads on, finds junk): uncertain.
    if status >= 300 and unclear_answer(status) is None:
        assert outcome.kind in (OutcomeKind.REJECTED, OutcomeKind.FAILED)
    elif status >= 300:  # a redirect, a gateway's 502/504: it may have landed, and
        assert outcome.kind is OutcomeKind.UNCERTAIN  # Joyride cannot show pause state
    if outcome.kind is OutcomeKind.APPLIED:
        assert outcome.state_after is not None


@FEWER
@given(
    status=st.sampled_from([200, 429, 500]) | st.integers(100, 599),
    retry_after=st.none() | st.sampled_from(["0", "1", "3600", "inf", "x"]),
    body=st.binary(max_size=200) | st.builds(lambda d: json.dumps(d).encode(), JUNK),
    sent=st.booleans(),
)
def test_translation_of_any_reply_is_an_outcome(
    loop: asyncio.AbstractEventLoop,
    status: int,
    retry_after: str | None,
    body: bytes,
    sent: bool,
) -> None:
    reply = Reply(status, headers_for(retry_after), body, 0.0, sent=sent)

    async def go() -> Outcome:
        client = client_for(Scripted(listing=body))
        try:
            step = client._step(EXP, True)
            return client.scrubber.outcome(await client._translate(step, EXP, True, reply))
        finally:
            await client.aclose()

    outcome = loop.run_until_complete(go())
    assert isinstance(outcome, Outcome)
    assert outcome.kind in OutcomeKind
    clean(outcome.message)
    if status == 429:
        assert outcome.kind is OutcomeKind.FAILED
