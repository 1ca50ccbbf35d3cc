"""FinRadar client without a simulator: documented samples, mapping, quirks over a loopback venue."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target, TargetKind
from console.venues.finradar.client import FinRadarClient
from console.venues.finradar.outcomes import settled
from console.venues.finradar.wire import (
    ErrorBody,
    SniperTarget,
    StopReply,
    TargetList,
    parse_page,
    state_of,
)
from console.venues.kit.base import RateLimit, Secret, VenueSettings
from console.venues.kit.control import NoAnswer
from console.venues.kit.feeds import FeedError, Incomplete
from console.venues.kit.http import Reply
from console.venues.kit.pacing import Pacer
from tests.venues.loopback import LoopbackVenue

KEY = "9f2c4e1ab7d84c0e9a51f3b2c6d7e8f0"

# CONTRACTS.md section 5, "GET /api/v1/sniper/targets — list", sample (copied verbatim).
LIST_SAMPLE: dict[str, Any] = {
    "targets": [
        {
            "target_id": "tgt_abc123def456",
            "ticker": "TSLA",
            "status": "ACTIVE",
            "start_time": "2026-06-20T20:00:00Z",
            "end_time": "2026-06-20T22:00:00Z",
            "form_types": ["10-K"],
            "webhook_url": None,
            "created_at": "2026-06-20T20:00:00Z",
            "filing_uuid": None,
            "resolution_reason": None,
            "last_event": None,
        }
    ],
    "meta": {"slots_available": 4},
}

# CONTRACTS.md section 5, stop sample, and the seed page's sample response.
STOP_SAMPLE: dict[str, Any] = {
    "target_id": "tgt_abc123def456",
    "ticker": "TSLA",
    "status": "STOPPED",
    "resolution_reason": "manual_stop",
    "stopped_at": "2026-06-20T20:31:07Z",
    "slots_available": 5,
}
SEED_STOP_SAMPLE: dict[str, Any] = {**STOP_SAMPLE, "stopped_at": "2026-05-02T21:42:18Z"}

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, transport: LoopbackVenue | None = None, **overrides: Any
) -> FinRadarClient:
    fields: dict[str, Any] = {
        "name": "finradar",
        "api": "finradar",
        "base_url": "http://finradar.test",
        "credentials": {"api_key": Secret(KEY)},
        "pacing": False,
        "request_timeout_s": 10.0,
        "control_timeout_s": 2.0,
    }
    fields.update(overrides)
    return FinRadarClient(VenueSettings(**fields), transport=transport or LoopbackVenue(handler))


def row(target_id: str, status: str, **extra: Any) -> dict[str, Any]:
    base = dict(LIST_SAMPLE["targets"][0])
    base.update(target_id=target_id, status=status, **extra)
    return base


def listing(*rows: dict[str, Any], available: int = 4) -> httpx.Response:
    return httpx.Response(200, json={"targets": list(rows), "meta": {"slots_available": available}})


def sniper(state: State, raw: str) -> Target:
    return Target("finradar", TargetKind.SNIPER, "tgt_abc123def456", "TSLA sniper", state, raw)


# ----- documented samples ------------------------------------------------------------------
def test_documented_list_sample_parses() -> None:
    page = TargetList.model_validate(LIST_SAMPLE)
    assert page.meta.slots_available == 4
    assert page.targets[0].target_id == "tgt_abc123def456"
    assert page.targets[0].form_types == ["10-K"]
    assert page.meta.total is None  # ours, absent from the vendor sample


@pytest.mark.parametrize("sample", [STOP_SAMPLE, SEED_STOP_SAMPLE])
def test_documented_stop_samples_parse(sample: dict[str, Any]) -> None:
    stop = StopReply.model_validate(sample)
    assert stop.status == "STOPPED"
    assert stop.resolution_reason == "manual_stop"
    assert stop.slots_available == 5


def test_unknown_fields_and_status_values_are_kept() -> None:
    raw = row("tgt_x", "HIBERNATING", brand_new_field={"a": 1}, form_types=None)
    page = TargetList.model_validate({"targets": [raw], "meta": {"slots_available": 1, "x": 2}})
    target = page.targets[0]
    assert target.status == "HIBERNATING"
    assert target.model_extra == {"brand_new_field": {"a": 1}}
    assert state_of(target.status) is State.UNKNOWN


def test_list_row_with_only_required_fields_parses() -> None:
    page = TargetList.model_validate(
        {"targets": [{"target_id": "tgt_x", "ticker": "AAPL", "status": "CREATED"}]}
    )
    assert page.targets[0].end_time is None
    assert page.meta.slots_available is None


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("CREATED", State.RUNNING),
        ("ACTIVE", State.RUNNING),
        ("STOPPED", State.STOPPED),
        ("active", State.RUNNING),
        ("SUSPENDED", State.UNKNOWN),
    ],
)
def test_status_mapping(raw: str, state: State) -> None:
    assert state_of(raw) is state


@pytest.mark.parametrize(
    ("body", "text", "code"),
    [
        (
            {"error": {"code": "UNAUTHORIZED", "message": "Missing key"}},
            "Missing key",
            "UNAUTHORIZED",
        ),
        ({"error": "Too many requests"}, "Too many requests", None),
        ({"message": "boom"}, "boom", None),
        ({"detail": "Not Found"}, "Not Found", None),
    ],
)
def test_error_envelope_variants(body: dict[str, Any], text: str, code: str | None) -> None:
    envelope = ErrorBody.model_validate(body)
    assert envelope.text() == text
    assert envelope.code() == code


# ----- mapping to targets ----------------------------------------------------------------
async def test_list_maps_rows_to_targets_with_documented_attrs() -> None:
    client = make_client(lambda request: httpx.Response(200, json=LIST_SAMPLE))
    [target] = await client.list_targets()
    assert target.kind is TargetKind.SNIPER
    assert (target.id, target.state, target.raw_status) == (
        "tgt_abc123def456",
        State.RUNNING,
        "ACTIVE",
    )
    assert target.attrs["form_types"] == ("10-K",)
    assert target.attrs["slots_available"] == 4
    assert target.attrs["slots_total"] == 5
    assert target.attrs["window_start"] == "2026-06-20T20:00:00Z"
    assert target.attrs["resolution"] is None
    assert set(target.attrs) == {
        "ticker", "window_start", "window_end", "form_types", "resolution", "filing_uuid",
        "slots_available", "slots_total", "created_at", "stopped_at",
    }  # fmt: skip
    await client.aclose()


async def test_pagination_deduplicates_rows_shifted_by_a_new_target() -> None:
    """A target created between two pages pushes the last row of page 1 onto page 2."""
    pages = {
        0: [row("tgt_a", "ACTIVE"), row("tgt_b", "ACTIVE")],
        2: [row("tgt_b", "ACTIVE"), row("tgt_c", "STOPPED")],
        4: [],
    }
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        offsets.append(offset)
        assert request.url.params["limit"] == "2"
        return listing(*pages[offset])

    client = make_client(handler, options={"page_size": 2})
    targets = await client.list_targets()
    assert [t.id for t in targets] == ["tgt_a", "tgt_b", "tgt_c"]
    assert offsets == [0, 2, 4]
    await client.aclose()


async def test_a_venue_ignoring_offset_does_not_loop_the_client() -> None:
    """A full page that repeats what was read ends the read as incomplete, never as
    the whole list (the rest of it is unknown)."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(int(request.url.params["offset"]))
        return listing(row("tgt_a", "ACTIVE"), row("tgt_b", "ACTIVE"))

    client = make_client(handler, options={"page_size": 2})
    with pytest.raises(Incomplete, match="repeats rows already read") as caught:
        await client.list_targets()
    assert [t.id for t in caught.value.partial] == ["tgt_a", "tgt_b"]
    assert calls == [0, 2]
    await client.aclose()


async def test_list_refused_twice_by_the_rate_limit_is_a_feed_error() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {"error": {"code": "RATE_LIMITED", "message": "Rate limit exceeded"}}
        return httpx.Response(429, headers={"Retry-After": "0.01"}, json=body)

    client = make_client(handler, pacing=True, rate_scale=0.01)
    with pytest.raises(FeedError, match="rate limited"):
        await client.list_targets()
    assert len(calls) == 2
    await client.aclose()


async def test_a_list_refused_twice_promises_no_retry() -> None:
    """A one-shot ``status`` prints these words and exits: "the console will retry" was
    untrue there (the feed does poll again, so a later read may succeed)."""
    body = {"error": {"code": "RATE_LIMITED", "message": "Rate limit exceeded"}}
    answer = httpx.Response(429, headers={"Retry-After": "0.01"}, json=body)
    client = make_client(lambda request: answer, pacing=True, rate_scale=0.01)
    with pytest.raises(FeedError) as caught:
        await client.list_targets()
    message = str(caught.value)
    assert "will retry" not in message
    assert message == (
        'reading FinRadar sniper targets: rate limited (429 RATE_LIMITED: "Rate limit '
        'exceeded"), again after one retry; a later read may succeed'
    )
    await client.aclose()


def test_a_negative_slot_count_is_read_not_unreadable() -> None:
    """7 ACTIVE targets on a 5-slot plan: ``slots_available: -2``; every row is read."""
    rows = [row(f"tgt_{i:012d}", "ACTIVE") for i in range(7)]
    content = json.dumps({"targets": rows, "meta": {"slots_available": -2}}).encode()
    page = parse_page(Reply(200, {}, content, 0.0))
    assert (len(page.rows), page.meta.slots_available) == (7, -2)


async def test_a_repeat_stop_tells_no_slot_count_from_the_first_stops_body() -> None:
    """A repeat stop answers the first stop's body (the seed: "the same body"), whose
    count is stale: it said "3 of 5 slots used" while a fresh list said 2."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return listing(row("tgt_abc123def456", "STOPPED"), available=3)
        return httpx.Response(200, json={**STOP_SAMPLE, "slots_available": 2})

    client = make_client(handler)
    await client.list_targets()
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.ALREADY
    assert "slots" not in outcome.message
    await client.aclose()


async def test_an_applied_stop_on_an_over_allocated_plan_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return listing(row("tgt_abc123def456", "ACTIVE"), available=-2)
        return httpx.Response(200, json={**STOP_SAMPLE, "slots_available": -1})

    client = make_client(handler)
    assert [t.attrs["slots_available"] for t in await client.list_targets()] == [-2]
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "6 of 5 slots used (over the plan by 1)" in outcome.message
    await client.aclose()


def test_rate_bucket_is_120_a_minute_scaled_and_overridable() -> None:
    documented = make_client(lambda request: listing(), pacing=True, rate_scale=0.5)
    assert documented._pacer.rate == RateLimit(120, 30.0)
    override = {"requests": RateLimit(10, 60.0)}
    custom = make_client(lambda request: listing(), pacing=True, rate_limits=override)
    assert custom._pacer.rate == RateLimit(10, 60.0)


async def test_api_key_is_sent_as_header_and_never_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return listing()

    client = make_client(handler)
    await client.list_targets()
    assert seen[0].headers["X-API-Key"] == KEY
    assert KEY not in str(seen[0].url)
    await client.aclose()


# ----- actions and kill ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "raw", "offered"),
    [
        (State.RUNNING, "CREATED", True),
        (State.RUNNING, "ACTIVE", True),
        (State.UNKNOWN, "SUSPENDED", True),
        (State.STOPPED, "STOPPED", False),
    ],
)
def test_actions_and_kill_follow_the_state(state: State, raw: str, offered: bool) -> None:
    client = make_client(lambda request: listing())
    target = sniper(state, raw)
    actions = client.actions_for(target)
    kill = client.kill_action(target, clear_leaves_behind=True)
    if offered:
        assert [a.kind for a in actions] == [ActionKind.STOP]
        assert "frees a plan slot" in actions[0].leaves_behind
        assert "cannot be restarted" in actions[0].leaves_behind
        assert kill == Action(ActionKind.STOP)
    else:
        assert actions == []
        assert kill is None


async def test_pause_is_rejected_without_a_call() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return listing()

    client = make_client(handler)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "can only be stopped" in outcome.message
    assert calls == []
    await client.aclose()


# ----- quirks ------------------------------------------------------------------------------
async def test_idempotent_200_with_original_reason_is_already() -> None:
    body = {**STOP_SAMPLE, "resolution_reason": "window_expired"}
    client = make_client(lambda request: httpx.Response(200, json=body))
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.ALREADY
    assert "window_expired" in outcome.message
    assert outcome.state_after is State.STOPPED
    await client.aclose()


async def test_manual_stop_long_before_the_call_is_already_for_an_unread_target() -> None:
    client = make_client(lambda request: httpx.Response(200, json=SEED_STOP_SAMPLE))
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.ALREADY
    await client.aclose()


async def test_manual_stop_of_a_target_last_read_running_is_applied() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return listing(row("tgt_abc123def456", "ACTIVE"))
        return httpx.Response(200, json=SEED_STOP_SAMPLE)

    client = make_client(handler)
    await client.list_targets()
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "0 of 5 slots used" in outcome.message
    await client.aclose()


async def test_429_is_retried_once_then_applied() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "0.01"}, json={"error": {"code": "RATE_LIMITED", "message": "slow down"}}),
        httpx.Response(200, json={**STOP_SAMPLE, "stopped_at": "2999-01-01T00:00:00Z"}),
    ]  # fmt: skip
    client = make_client(lambda request: answers.pop(0), pacing=True, rate_scale=0.01)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert answers == []
    await client.aclose()


async def test_429_for_ever_fails_as_rate_limited_after_exactly_six_calls() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {"error": {"code": "RATE_LIMITED", "message": "slow down"}}
        return httpx.Response(429, headers={"Retry-After": "0.01"}, json=body)

    client = make_client(handler, pacing=True, rate_scale=0.01)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.message.startswith("rate limited")
    assert "slow down" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert len(calls) == 6
    await client.aclose()


async def test_timeout_is_not_resent_and_the_reread_decides() -> None:
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            raise httpx.ReadTimeout("timed out", request=request)  # held: the client gives up
        return listing(row("tgt_abc123def456", "STOPPED", resolution_reason="manual_stop"))

    client = make_client(handler, control_timeout_s=0.3)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "no answer" in outcome.message
    assert "re-read shows it STOPPED" in outcome.message
    assert len(posts) == 1
    await client.aclose()


async def test_malformed_stop_reply_then_running_reread_is_uncertain() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, content=b'{"target_id": "tgt_abc')
        return listing(row("tgt_abc123def456", "ACTIVE"))

    client = make_client(handler)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert outcome.state_after is State.RUNNING
    await client.aclose()


async def test_connect_error_fails_without_reread() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return listing(row("tgt_abc123def456", "ACTIVE"))

    seam = LoopbackVenue(handler)
    seam.refuse()  # the connection is refused: nothing reaches the venue
    client = make_client(handler, transport=seam)
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.FAILED
    assert "nothing was sent" in outcome.message
    assert calls == []
    assert seam.refused == 1  # the stop alone: no re-read after it
    await client.aclose()


async def test_secret_echoed_by_the_venue_never_reaches_a_message() -> None:
    body = {"error": {"code": "UNAUTHORIZED", "message": f"API key {KEY} is revoked"}}
    client = make_client(lambda request: httpx.Response(401, json=body))
    outcome = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "revoked" in outcome.message
    assert KEY not in outcome.message
    with pytest.raises(FeedError) as caught:
        await client.list_targets()
    assert "credentials.api_key" in str(caught.value)
    assert KEY not in str(caught.value)
    assert KEY not in json.dumps([outcome.message, str(caught.value)])
    await client.aclose()


async def test_within_the_cap_after_a_too_long_wait_nothing_is_sent_and_it_says_so() -> None:
    """The pacer refuses calls for retry_after_cap_s after a too-long Retry-After; what
    is left of the vendor's wait may then be short, but nothing was sent, and the
    client neither retries nor claims the venue refused twice."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        body = {"error": {"code": "RATE_LIMITED", "message": "Rate limit exceeded"}}
        return httpx.Response(429, headers={"Retry-After": "40"}, json=body)

    now = [1000.0]
    client = make_client(handler, pacing=True, retry_after_cap_s=30.0)
    client._pacer = Pacer(RateLimit(120, 60.0), clock=lambda: now[0], cap_s=30.0)
    first = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert first.kind is OutcomeKind.FAILED
    assert "FinRadar asks to wait 40 s" in first.message and "was refused" in first.message
    assert len(calls) == 1
    now[0] += 25.0
    second = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert second.kind is OutcomeKind.FAILED and second.http_status == 429
    assert "asked a moment ago to wait longer than 30 s" in second.message
    assert "15 s left" in second.message and "was not sent" in second.message
    with pytest.raises(FeedError, match="not sent — FinRadar asked a moment ago"):
        await client.list_targets()
    assert len(calls) == 1
    now[0] += 6.0  # the cap has passed: the operator's retry is sent again
    third = await client.execute("tgt_abc123def456", Action(ActionKind.STOP))
    assert third.kind is OutcomeKind.FAILED and "was refused" in third.message
    assert len(calls) == 2
    await client.aclose()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1796544000, "2026-12-06T08:00:00Z"),  # UNIX seconds
        (1796544000000, "2026-12-06T08:00:00Z"),  # milliseconds
        ({"at": 1}, None),  # not a time: shown as none, the row still read
        (10**400, None),  # no time a platform holds (its division to seconds overflowed)
        ("2026-12-06T08:00:00Z", "2026-12-06T08:00:00Z"),
    ],
)
def test_a_time_in_another_shape_never_makes_a_row_unreadable(
    value: object, shown: str | None
) -> None:
    """An independent FinRadar's epoch integers made every row unreadable (a kill stopped
    nothing); a stop needs only the id, and a time is only shown."""
    row = SniperTarget.model_validate(
        {"target_id": "tgt_1", "ticker": "AAPL", "status": "ACTIVE", "start_time": value,
         "end_time": value, "created_at": value}
    )  # fmt: skip
    assert (row.start_time, row.end_time, row.created_at) == (shown, shown, shown)


def test_a_re_read_without_stopped_at_says_no_time_rather_than_a_question_mark() -> None:
    """The documented list row carries no ``stopped_at`` (only the stop's answer does): an
    independent FinRadar's settled stops read "(manual_stop at ?)"."""
    stopped = Target("finradar", TargetKind.SNIPER, "tgt_abc123def456", "TSLA sniper",
                     State.STOPPED, "STOPPED", attrs={"resolution": "manual_stop"})  # fmt: skip
    outcome = settled("tgt_abc123def456", None, NoAnswer("No answer (timed out)"), stopped)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.message == "No answer (timed out), but a re-read shows it STOPPED (manual_stop)"
