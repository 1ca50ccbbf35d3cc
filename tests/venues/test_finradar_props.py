"""Property tests: whatever FinRadar sends, only the project's own outcomes and errors come out.

Arbitrary bytes and mutated valid bodies (keys dropped, wrong types, huge numbers, nested
junk, empty, ``{}``, ``null``, deep nesting, the API key echoed) go through the list page
reading (:func:`console.venues.finradar.wire.parse_page`, called directly), whole list reads
and single reads, and the translation of stop answers (``execute`` over an
loopback venue: the production send path, tests/venues/loopback.py). A list read raises FeedError /
Unreadable / Incomplete only; a stop returns an Outcome whose words never hold the key.
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
from console.venues.finradar.client import FinRadarClient
from console.venues.finradar.wire import Page, parse_page
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import Reply
from tests.venues import mutations
from tests.venues.loopback import LoopbackVenue
from tests.venues.mutations import Mutations, caught, headers_for, nested, scalars, venue_props
from tests.venues.test_finradar_wire import KEY, LIST_SAMPLE, STOP_SAMPLE

PROPS = venue_props(4)  # this venue's 4 hostile properties share the CI budget

TARGET_ID = "tgt_abc123def456"
TARGETS_PATH = "/api/v1/sniper/targets"

# Raw JSON spliced in where a marker string stands: what json.dumps cannot write.
RAW = {**mutations.RAW, "__nan__": "NaN"}


def row(target_id: str = TARGET_ID, status: str = "ACTIVE") -> dict[str, Any]:
    """A list row as CONTRACTS.md section 5 documents it, plus the simulator's tail."""
    return {
        **LIST_SAMPLE["targets"][0],
        "target_id": target_id,
        "status": status,
        "last_event": {"event_type": "sniper.filing_hit", "form_type": "8-K"},
        "stopped_at": None,
    }


ERROR_BODY: dict[str, Any] = {
    "error": {"code": "RATE_LIMITED", "message": f"Rate limit exceeded for API key {KEY}"}
}

JUNK = nested(
    scalars(
        st.sampled_from([10**12, 2**63, -(2**63) - 1, -1, 0]),
        st.sampled_from([KEY, f"X-API-Key: {KEY}", "\x1b]0;pwned\x07", "..", "."]),
        raw=RAW,
    ),
    ["targets", "meta", "total", "status", "target_id", "x"],
    max_leaves=6,
)
MUTATIONS = Mutations(junk=JUNK, raw=RAW, most=4)
render, mutated = MUTATIONS.render, MUTATIONS.mutated


@st.composite
def list_bodies(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 4))
    statuses = st.sampled_from(["ACTIVE", "CREATED", "STOPPED", "SUSPENDED"])
    rows = [row(f"tgt_{i:012d}", draw(statuses)) for i in range(count)]
    meta: dict[str, Any] = {"slots_available": draw(st.integers(0, 5))}
    if draw(st.booleans()):
        meta.update(slots_total=5, total=draw(st.integers(0, 10)))
    return {"targets": rows, "meta": meta}


FIXED = [
    *mutations.FIXED,
    b'{"targets": null}',
    b'{"targets": {}}',
    b'{"targets": [], "meta": null}',
    b'{"targets": [], "meta": {"total": -1}}',
    render({"targets": [], "meta": {"total": "__inf__"}}),
    render({"targets": ["__deep__"]}),
]

any_list = (
    st.binary(max_size=600)
    | st.sampled_from(FIXED)
    | list_bodies().flatmap(lambda body: mutated(body))
)
any_stop = (
    st.binary(max_size=300)
    | st.sampled_from(FIXED)
    | mutated(STOP_SAMPLE)
    | mutated({**STOP_SAMPLE, "resolution_reason": "window_expired"})
    | mutated(ERROR_BODY)
)
statuses = mutations.statuses(200, 201, 204, 400, 401, 402, 403, 404, 429, 500, 503)
retry_afters = mutations.retry_afters("0.01", "5", "99999999")


# ----- list parsing ------------------------------------------------------------------------------
@PROPS
@given(any_list, statuses, st.integers(0, 10**6))
def test_any_list_answer_reads_into_rows_or_is_unreadable(
    content: bytes, status: int, offset: int
) -> None:
    page, error = caught(lambda: parse_page(Reply(status, {}, content, 0.0), offset))
    if error is not None:
        assert isinstance(error, Unreadable)
        assert str(error).startswith("reading FinRadar sniper targets: ")
        return
    assert isinstance(page, Page)
    body = json.loads(content)  # a page read is valid JSON with a list of rows
    assert page.size == len(body["targets"])
    assert len(page.rows) + len(page.skipped) <= page.size
    assert all(isinstance(r.target_id, str) and isinstance(r.status, str) for r in page.rows)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in page.skipped.items())


@PROPS
@given(list_bodies())
def test_a_documented_list_answer_loses_nothing(body: dict[str, Any]) -> None:
    page = parse_page(Reply(200, {}, render(body), 0.0))
    assert [r.target_id for r in page.rows] == [r["target_id"] for r in body["targets"]]
    assert page.skipped == {}
    assert page.meta.slots_available == body["meta"]["slots_available"]


# ----- whole reads and stops, through the client -------------------------------------------------
class Script:
    """What the fake FinRadar answers next (set per example)."""

    def __init__(self) -> None:
        self.replies: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = "list" if request.url.path == TARGETS_PATH else request.method
        status, headers, body = self.replies.get(kind, (404, {}, b""))
        return httpx.Response(status, headers=headers, content=body)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FinRadarClient, Script, asyncio.Runner]]:
    script = Script()
    venue = VenueSettings(
        name="finradar",
        api="finradar",
        base_url="http://finradar.test",
        credentials={"api_key": Secret(KEY)},
        pacing=False,
        rate_scale=1e-4,  # a 429 without Retry-After goes again after 0.1 ms
        retry_after_cap_s=0.05,  # a Retry-After of seconds is "too long": no sleeping here
        max_pages=3,
        options={"page_size": 2},
    )
    with asyncio.Runner() as runner:
        client = FinRadarClient(venue, transport=LoopbackVenue(script))
        yield client, script, runner
        runner.run(client.aclose())


@PROPS
@given(statuses, retry_afters, any_list)
def test_a_list_read_raises_only_feed_errors(
    fake: tuple[FinRadarClient, Script, asyncio.Runner],
    status: int,
    retry_after: str | None,
    body: bytes,
) -> None:
    client, script, runner = fake
    script.replies = {"list": (status, headers_for(retry_after), body)}
    for read in (client.list_targets, lambda: client.read_target(TARGET_ID)):
        result, error = caught(lambda: runner.run(read()))  # noqa: B023 (called at once)
        if error is not None:
            assert error.kind in ("unreachable", "unreadable", "incomplete")
            assert KEY not in str(error)
            continue
        assert result is None or isinstance(result, Target | list)
        assert not [s for s in client.skipped_rows if KEY in s]


@PROPS
@given(
    statuses,
    retry_afters,
    any_stop,
    statuses,
    any_list,
    st.sampled_from([TARGET_ID, ".", "..", "", "a/b", "ü?x", "%2e%2e"]),
)
@pytest.mark.slow
def test_a_stop_answer_always_translates_into_an_outcome(
    fake: tuple[FinRadarClient, Script, asyncio.Runner],
    status: int,
    retry_after: str | None,
    answer: bytes,
    reread_status: int,
    reread: bytes,
    target_id: str,
) -> None:
    client, script, runner = fake
    script.replies = {
        "POST": (status, headers_for(retry_after), answer),
        "list": (reread_status, {}, reread),
    }
    outcome = runner.run(client.execute(target_id, Action(ActionKind.STOP)))
    assert isinstance(outcome, Outcome)
    assert isinstance(outcome.kind, OutcomeKind)
    assert outcome.message
    assert KEY not in outcome.message
    if target_id in (".", "..", ""):
        assert outcome.kind is OutcomeKind.FAILED and "nothing was sent" in outcome.message
