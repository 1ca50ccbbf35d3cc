"""Property tests: whatever 55-tech answers, only the project's own types come out.

Arbitrary bytes and mutated valid bodies (keys dropped, wrong types, huge numbers,
nested junk, ``{}``, ``null``, deep nesting, cut short), under any HTTP status and any
``Retry-After``, fed through the status parsing, the list of every key, and a control
call's translation (with its follow-up re-read). Only :class:`TradingStatus`/`Target`
or the FeedError family come out of reads, only an :class:`Outcome` out of a control
call, and no text ever carries a key. No network: answers are scripted through
the client's one HTTP call (``_send``), on one event loop for the whole run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.fiftyfive.wire import TradingStatus, status_from_reply
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import FeedError
from console.venues.kit.http import CallError, Reply
from tests.venues.mutations import headers_for, venue_props

PROPS = venue_props(3)  # this venue's 3 hostile properties share the CI budget

KEYS = (
    "3f1c2a9e-8b7d-4c55-9e61-0a2b3c4d5e6f",
    "7e6d5c4b-3a29-4180-b7a6-f5e4d3c2b1a0",
    "0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5",
)

VALID: dict[str, Any] = {
    "client": "alpha",
    "clientName": "Alpha Trading",
    "oddsFormat": "decimal",
    "status": "live",
    "tradingActive": True,
    "manualPaused": False,
    "manualPausedAt": None,
    "manualPauseReason": None,
    "manualStopped": False,
    "manualStoppedAt": None,
    "manualStopReason": None,
    "systemTradingBlocked": False,
    "emergencyActive": False,
    "systemStopped": False,
    "softPaused": False,
    "systemReason": None,
    "systemDurationSeconds": None,
}
RESULTS = (
    "pause_applied",
    "stop_applied",
    "start_applied",
    "resume_applied",
    "already_paused",
    "already_stopped",
    "already_live",
    "start_required",
    "",
    "weird",
)
# Raw JSON tokens json.dumps never writes: huge, non-finite, not JSON at all.
RAW_TOKENS = ("1e400", "-1e400", "NaN", "Infinity", "9" * 400, "0.0000e-99999", "tru", '"\\ud800"')
# Values of the wrong type or absurd size, and nested junk.
JUNK: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1e308,
    "",
    " ",
    "\x1b[2J",
    "x" * 300,
    [],
    {},
    [None],
    {"a": {"b": [1, {"c": None}]}},
    [[[[[[[]]]]]]],
)
junk = st.one_of(
    st.sampled_from(JUNK),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
FIELDS = sorted(VALID)


@st.composite
def mutated_body(draw: st.DrawFn, *, control: bool) -> bytes:
    """A documented answer, bent: keys dropped, values swapped for junk, raw tokens, cut."""
    body = dict(VALID)
    body["status"] = draw(STATUS_WORDS)
    if control:
        body["result"] = draw(RESULT_WORDS)
    raw: list[tuple[str, str]] = []
    for _ in range(draw(MUTATIONS)):
        name = draw(FIELD_NAMES)
        how = draw(HOW)
        if how == 0:
            body.pop(name, None)
        elif how == 1:
            body[name] = draw(junk)
        else:
            raw.append((name, draw(TOKENS)))
    text = json.dumps(body)
    for name, token in raw:
        text = text.replace(f'"{name}": ', f'"{name}": {token}, "_was": ', 1)
    if draw(CUT) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode()


STATUS_WORDS = st.sampled_from(["live", "manual_paused", "manual_stopped", "emergency", "x"])
RESULT_WORDS = st.sampled_from(RESULTS)
FIELD_NAMES = st.sampled_from(FIELDS)
TOKENS = st.sampled_from(RAW_TOKENS)
MUTATIONS = st.integers(0, 3)
HOW = st.integers(0, 2)
CUT = st.integers(0, 7)


def bodies(*, control: bool) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated_body(control=control),
        st.binary(max_size=200),
        st.sampled_from(
            [b"", b"{}", b"null", b"[]", b'"live"', b"0", b"[" * 5000, b"{" * 3000, b"\xff\xfe"]
        ),
        junk.map(lambda v: json.dumps(v).encode()),
    )


statuses = st.sampled_from([200, 200, 200, 200, 401, 404, 409, 422, 429, 500, 503, 302, 418])
retry_after = st.one_of(
    st.sampled_from(
        [
            *(None, None, "0", "0.5", "3600", "inf", "1e309", "-5", "nan", "", "x"),
            *("Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ]
    ),
    st.text(alphabet="0123456789.e-+ infINFaNGMT,:", max_size=12),
)


def assert_no_key(*texts: str | None) -> None:
    for text in texts:
        for key in KEYS:
            assert key not in (text or "")


# ----- the pure status parsing ------------------------------------------------------------
@PROPS
@given(status=statuses, body=bodies(control=False), wait=retry_after)
def test_status_answers_parse_or_raise_the_feed_errors_only(
    status: int, body: bytes, wait: str | None
) -> None:
    reply = Reply(status, headers_for(wait), body, 0.0)
    try:
        parsed = status_from_reply(reply, "API key #1 of 1", 30.0)
    except FeedError as exc:
        words = str(exc)
    else:
        assert isinstance(parsed, TradingStatus)
        assert parsed.client.strip()
        return
    assert words


# ----- through a client: the list of every key, and a control call --------------------------
Answer = tuple[int, dict[str, str], bytes] | CallError


class ScriptedClient(FiftyFiveClient):
    """The real client with its one HTTP call answered from a script (no httpx per
    example: thousands of them must take seconds). Everything above the wire is real."""

    def __init__(self, settings: VenueSettings) -> None:
        super().__init__(settings)
        self.status: dict[int, Answer] = {}
        self.control: Answer = CallError("connect", "refused", maybe_sent=False)

    async def _send(self, index: int, method: str, path: str, **_: Any) -> Reply:
        answer = self.status.get(index, (401, {}, b"{}")) if method == "GET" else self.control
        if isinstance(answer, CallError):
            raise answer
        code, headers, body = answer
        return Reply(code, headers, body, 0.0)


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as run:
        yield run


@pytest.fixture(scope="module")
def client(runner: asyncio.Runner) -> Iterator[ScriptedClient]:
    venue = VenueSettings(
        name="55tech",
        api="55tech",
        base_url="https://mmapi.example",
        credentials={"api_keys": Secret(",".join(KEYS))},
        pacing=False,
        rate_scale=0.0001,  # the docs' 1 s backoff after a bare 429: 0.1 ms
        retry_after_cap_s=0.001,  # any Retry-After named is beyond it: never slept
    )
    scripted = ScriptedClient(venue)
    yield scripted
    runner.run(scripted.aclose())


# A venue quoting our keys back at us, in its error detail.
ECHO = json.dumps({"detail": f"bad key {KEYS[0]} (X-API-Key: {KEYS[1]}) {KEYS[2]}"}).encode()
no_answer = st.sampled_from(
    [
        CallError("timeout", f"no answer within 1 s ({KEYS[0]})", maybe_sent=True),
        CallError("connect", "cannot connect: refused", maybe_sent=False),
        CallError(
            "protocol", "answer larger than 64 MB (max_body_bytes); not read", maybe_sent=True
        ),
    ]
)
answers: st.SearchStrategy[Answer] = st.one_of(
    st.tuples(statuses, retry_after.map(headers_for), bodies(control=False)),
    st.tuples(statuses, retry_after.map(headers_for), st.just(ECHO)),
    no_answer,
)
control_answers: st.SearchStrategy[Answer] = st.one_of(
    st.tuples(statuses, retry_after.map(headers_for), bodies(control=True)),
    st.tuples(statuses, retry_after.map(headers_for), st.just(ECHO)),
    no_answer,
)


@PROPS
@given(replies=st.lists(answers, min_size=len(KEYS), max_size=len(KEYS)))
def test_the_list_of_every_key_holds_targets_and_named_rows_or_raises_a_feed_error(
    runner: asyncio.Runner, client: ScriptedClient, replies: list[Answer]
) -> None:
    client.status = dict(enumerate(replies))
    try:
        targets = runner.run(client.list_targets())
    except FeedError as exc:
        failed = str(exc)
    else:
        assert all(isinstance(t, Target) for t in targets)
        assert len({t.id for t in targets}) == len(targets)  # one per key, never merged
        # a key that failed now is named, and its engine kept when it was read before,
        # or listed by its position when it never was and a stop may still land
        kept = [t for t in targets if str(t.attrs.get("warning", "")).startswith(
            ("its status could not be read", "its status has not been read"))]  # fmt: skip
        assert len(targets) - len(kept) + len(client.skipped_rows) == len(KEYS)
        assert len(kept) <= len(client.skipped_rows)
        assert all(t.state is State.UNKNOWN and t.raw_status == "unread" for t in kept)
        assert all(
            t.id == f"key #{t.attrs['key_no']}" for t in kept if t.attrs.get("client") is None
        )
        assert targets or not client.skipped_rows
        assert_no_key(*client.skipped_rows, *(repr(t) for t in targets))
        return
    assert failed
    assert_no_key(failed)


@PROPS
@given(
    kind=st.sampled_from(list(ActionKind)),
    reason=st.none() | st.text(max_size=8),
    control=control_answers,
    reread=answers,
)
def test_a_control_answer_always_ends_as_an_outcome(
    runner: asyncio.Runner,
    client: ScriptedClient,
    kind: ActionKind,
    reason: str | None,
    control: Answer,
    reread: Answer,
) -> None:
    client.ids.learn({0: "alpha"})
    client.control = control
    client.status = {0: reread}
    outcome = runner.run(client.execute("alpha", Action(kind, reason=reason)))
    assert isinstance(outcome, Outcome)
    assert isinstance(outcome.kind, OutcomeKind)
    assert outcome.message
    assert_no_key(outcome.message, outcome.warning)
