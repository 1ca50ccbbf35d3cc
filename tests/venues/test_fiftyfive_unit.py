"""55-tech client quirks against scripted answers (tests/venues/loopback.py), no simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target, TargetKind
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.kit.base import Secret, VenueConfigError, VenueSettings
from console.venues.kit.feeds import FeedError
from tests.venues.loopback import LoopbackVenue

KEY_A = "3f1c2a9e-8b7d-4c55-9e61-0a2b3c4d5e6f"
KEY_B = "7e6d5c4b-3a29-4180-b7a6-f5e4d3c2b1a0"
SECRETS = (KEY_A, KEY_B)

Handler = Callable[[httpx.Request], httpx.Response]


def status_body(client: str = "alpha", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client": client,
        "clientName": client.title() + " Trading",
        "oddsFormat": "decimal",
        "status": "live",
        "tradingActive": True,
        "manualPaused": False,
        "manualStopped": False,
        "systemTradingBlocked": False,
        "emergencyActive": False,
        "systemStopped": False,
        "softPaused": False,
    }
    body.update(changes)
    return body


class Venue:
    """A scripted 55-tech: status per key, and a queue of answers to control calls."""

    def __init__(self) -> None:
        self.statuses = {KEY_A: status_body("alpha"), KEY_B: status_body("bravo")}
        self.control: list[httpx.Response | Exception] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = request.headers.get("x-api-key")
        if request.url.path.endswith("/status"):
            if key not in self.statuses:
                return httpx.Response(401, json={"detail": "Invalid or missing API key"})
            return httpx.Response(200, json=self.statuses[key])
        answer = self.control.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]


def make_client(
    venue: Handler,
    keys: str = f"{KEY_A},{KEY_B}",
    transport: LoopbackVenue | None = None,
    **overrides: Any,
) -> FiftyFiveClient:
    fields: dict[str, Any] = {
        "name": "55tech",
        "api": "55tech",
        "base_url": "http://mmapi.example",
        "credentials": {"api_keys": Secret(keys)},
        "rate_scale": 0.001,
        "control_timeout_s": 1.0,
        "request_timeout_s": 10.0,
    }
    fields.update(overrides)
    return FiftyFiveClient(VenueSettings(**fields), transport=transport or LoopbackVenue(venue))


def assert_no_secret(text: str | None) -> None:
    for key in SECRETS:
        assert key not in (text or "")


@pytest.fixture
def venue() -> Venue:
    return Venue()


async def test_targets_are_one_engine_per_key_named_by_slug(venue: Venue) -> None:
    client = make_client(venue)
    targets = await client.list_targets()
    assert [(t.id, t.kind, t.state) for t in targets] == [
        ("alpha", TargetKind.ENGINE, State.RUNNING),
        ("bravo", TargetKind.ENGINE, State.RUNNING),
    ]
    assert targets[0].attrs["status_words"] == "LIVE"
    assert targets[0].attrs["pause_reason"] is None
    assert {r.headers["x-api-key"] for r in venue.requests} == {KEY_A, KEY_B}
    assert all(r.url.path == "/api/v1/trading/status" for r in venue.requests)


async def test_base_url_that_already_ends_in_api_v1_is_not_doubled(venue: Venue) -> None:
    client = make_client(venue, base_url="http://mmapi.example/api/v1")
    await client.list_targets()
    assert venue.requests[0].url.path == "/api/v1/trading/status"


async def test_control_sends_no_body_without_a_reason_and_json_with_one(venue: Venue) -> None:
    client = make_client(venue)
    reply = status_body(manualPaused=True, status="manual_paused", result="pause_applied")
    venue.control = [httpx.Response(200, json=reply), httpx.Response(200, json=reply)]
    await client.execute("alpha", Action(ActionKind.PAUSE))
    await client.execute("alpha", Action(ActionKind.PAUSE, reason="line moved"))
    first, second = venue.posts()
    assert first.content == b""
    assert json.loads(second.content) == {"reason": "line moved"}
    assert first.headers["x-api-key"] == KEY_A


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        ("pause_applied", OutcomeKind.APPLIED),
        ("already_paused", OutcomeKind.ALREADY),
    ],
)
async def test_result_values_map_to_outcomes(venue: Venue, result: str, kind: OutcomeKind) -> None:
    client = make_client(venue)
    body = status_body(manualPaused=True, status="manual_paused", result=result)
    venue.control = [httpx.Response(200, json=body)]
    outcome = await client.execute("alpha", Action(ActionKind.PAUSE))
    assert outcome.kind is kind
    assert outcome.vendor_code == result
    assert outcome.state_after is State.PAUSED


async def test_resume_of_a_stopped_engine_is_rejected_start_required(venue: Venue) -> None:
    client = make_client(venue)
    body = status_body(manualStopped=True, status="manual_stopped", result="start_required")
    venue.control = [httpx.Response(200, json=body)]
    outcome = await client.execute("alpha", Action(ActionKind.RESUME))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "engine is stopped: resume cannot lift a stop; use start" in outcome.message


async def test_conflict_409_with_state_already_there_is_already(venue: Venue) -> None:
    client = make_client(venue)
    await client.list_targets()
    venue.statuses[KEY_A] = status_body(manualStopped=True, status="manual_stopped")
    venue.control = [httpx.Response(409, json={"detail": "Trading already stopped"})]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.ALREADY
    assert outcome.http_status == 409
    assert "'Trading already stopped'" in outcome.message
    assert outcome.state_after is State.STOPPED


async def test_conflict_409_with_state_elsewhere_is_rejected_with_the_detail(venue: Venue) -> None:
    client = make_client(venue)
    venue.control = [httpx.Response(409, json={"detail": "Open orders block this action"})]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "Open orders block this action" in outcome.message


async def test_one_429_is_waited_out_and_retried_once(venue: Venue) -> None:
    client = make_client(venue)
    body = status_body(manualStopped=True, status="manual_stopped", result="stop_applied")
    venue.control = [
        httpx.Response(429, json={"detail": "Rate limit exceeded"}),
        httpx.Response(200, json=body),
    ]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert len(venue.posts()) == 2


async def test_429s_go_again_until_the_stop_is_taken(venue: Venue) -> None:
    client = make_client(venue)
    limited = httpx.Response(
        429, json={"detail": "Rate limit exceeded"}, headers={"Retry-After": "0"}
    )
    taken = status_body(manualStopped=True, status="manual_stopped", result="stop_applied")
    venue.control = [limited, limited, httpx.Response(200, json=taken)]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert len(venue.posts()) == 3


async def test_six_429s_fail_as_rate_limited_without_a_seventh_try(venue: Venue) -> None:
    client = make_client(venue)
    limited = httpx.Response(
        429, json={"detail": "Rate limit exceeded"}, headers={"Retry-After": "0"}
    )
    venue.control = [limited] * 7
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.FAILED
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert len(venue.posts()) == 6


async def test_timeout_is_not_resent_and_the_reread_decides(venue: Venue) -> None:
    client = make_client(venue, control_timeout_s=0.3)
    await client.list_targets()
    venue.statuses[KEY_A] = status_body(manualStopped=True, status="manual_stopped")
    venue.control = [httpx.ReadTimeout("slow")]  # held until the client gives up
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "No usable answer" in outcome.message
    assert outcome.warning is not None
    assert len(venue.posts()) == 1


async def test_timeout_with_the_reread_showing_nothing_goes_once_more_then_uncertain(
    venue: Venue,
) -> None:
    client = make_client(venue, control_timeout_s=0.3)
    venue.control = [httpx.ReadTimeout("slow")] * 4  # held until the client gives up
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert outcome.state_after is State.RUNNING
    assert "its second request: the first, too, had no usable answer" in outcome.message
    assert len(venue.posts()) == 2


async def test_refused_connection_fails_and_says_nothing_was_sent(venue: Venue) -> None:
    seam = LoopbackVenue(venue, keep_alive=False)  # the refusal reaches the next call
    client = make_client(venue, transport=seam)
    await client.list_targets()
    seam.refuse()  # from now on no connection opens: nothing reaches the venue
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.FAILED
    assert "Nothing was sent" in outcome.message


async def test_malformed_control_answer_is_uncertain_then_reread(venue: Venue) -> None:
    client = make_client(venue)
    venue.control = [httpx.Response(200, content=b'{"client": "alp')] * 2
    outcome = await client.execute("alpha", Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert len(venue.posts()) == 2  # the re-read showed it running: once more


async def test_undocumented_result_trusts_the_returned_state_with_a_warning(venue: Venue) -> None:
    client = make_client(venue)
    body = status_body(manualPaused=True, status="manual_paused", result="paused_ok")
    venue.control = [httpx.Response(200, json=body)]
    outcome = await client.execute("alpha", Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.APPLIED
    assert "paused_ok" in (outcome.warning or "")


async def test_resume_under_a_global_emergency_warns_trading_stays_blocked(venue: Venue) -> None:
    client = make_client(venue)
    body = status_body(
        status="emergency",
        tradingActive=False,
        systemTradingBlocked=True,
        emergencyActive=True,
        systemReason="Exchange outage",
        result="resume_applied",
    )
    venue.control = [httpx.Response(200, json=body)]
    outcome = await client.execute("alpha", Action(ActionKind.RESUME))
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.STOPPED
    assert "Exchange outage" in (outcome.warning or "")


async def test_server_error_fails_with_the_vendor_words(venue: Venue) -> None:
    client = make_client(venue)
    venue.control = [httpx.Response(503, json={"detail": "Service unavailable"})]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.FAILED
    assert "'Service unavailable'" in outcome.message


async def test_refused_key_never_shows_up_in_messages(venue: Venue) -> None:
    bad = "0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5"
    client = make_client(venue, keys=f"{KEY_A},{bad}")
    assert [t.id for t in await client.list_targets()] == ["alpha"]
    [row] = client.skipped_rows
    assert "refused the API key for API key #2 of 2" in row
    assert bad not in row
    alone = make_client(venue, keys=bad)
    with pytest.raises(FeedError) as info:
        await alone.list_targets()
    assert "refused the API key for API key #1 of 1" in str(info.value)
    assert bad not in str(info.value)
    venue.control = [httpx.Response(401, json={"detail": "Invalid or missing API key"})]
    outcome = await client.execute("alpha", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "API key refused" in outcome.message
    for text in (outcome.message, repr(outcome), repr(client.settings)):
        assert_no_secret(text)
        assert bad not in text


async def test_unknown_engine_is_rejected_without_a_call(venue: Venue) -> None:
    client = make_client(venue)
    outcome = await client.execute("nobody", Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.REJECTED
    assert venue.posts() == []


def test_empty_key_list_is_a_config_error() -> None:
    with pytest.raises(VenueConfigError):
        make_client(Venue(), keys=" , ")


def engine(**attrs: Any) -> Target:
    return Target("55tech", TargetKind.ENGINE, "alpha", "Alpha", State.UNKNOWN, "x", attrs)


@pytest.mark.parametrize(
    ("attrs", "kinds"),
    [
        ({"manual_paused": False, "manual_stopped": False}, ["pause", "stop"]),
        ({"manual_paused": True, "manual_stopped": False}, ["resume", "stop"]),
        ({"manual_paused": False, "manual_stopped": True}, ["pause", "start"]),
        ({"manual_paused": True, "manual_stopped": True}, ["resume", "start"]),
        ({}, ["pause", "stop"]),
    ],
)
def test_actions_follow_the_manual_flags(attrs: dict[str, Any], kinds: list[str]) -> None:
    specs = make_client(Venue()).actions_for(engine(**attrs))
    assert [s.kind.value for s in specs] == kinds
    assert all(s.accepts_reason for s in specs)


def test_stop_says_what_it_leaves_behind() -> None:
    specs = make_client(Venue()).actions_for(engine(manual_paused=False, manual_stopped=False))
    stop = next(s for s in specs if s.kind is ActionKind.STOP)
    assert "stay there" in stop.leaves_behind
    assert "resume cannot lift a stop" in stop.leaves_behind


def test_kill_is_a_stop_unless_already_manually_stopped() -> None:
    client = make_client(Venue())
    kill = client.kill_action(engine(manual_paused=True, manual_stopped=False))
    assert kill is not None
    assert kill.kind is ActionKind.STOP
    assert client.kill_action(engine(manual_stopped=True)) is None
