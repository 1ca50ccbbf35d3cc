"""PipAI client quirks pinned against scripted answers on loopback (tests/venues/loopback.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.core.model import (
    Action,
    ActionKind,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.pipai.auth import SignatureScrubber
from console.venues.pipai.client import PipAIClient
from tests.venues.loopback import LoopbackVenue

KEY = "pk_unit_key_0123456789"
SECRET = "sk_unit_secret_abcdef0123456789"
SID = "strat_8f2a1b"


def strategy(status: str = "deployed", open_positions: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "id": SID,
        "name": "BTC grid 1h",
        "template_id": "tpl_grid",
        "params": {},
        "symbols": ["BTCUSDT"],
        "timeframe": "1h",
        "capital": "10000.00",
        "leverage": 3,
        "status": status,
        "deployed_at": "2026-04-29T08:00:00Z",
        "created_at": "2026-04-28T15:30:00Z",
        "updated_at": "2026-04-29T08:00:00Z",
        "stats": {
            "open_positions": open_positions,
            "total_pnl": "184.32",
            "total_trades": 47,
            "win_rate": "0.638",
        },
        **extra,
    }


Handler = Callable[[httpx.Request], httpx.Response]


class FakePipAI:
    """Scripted answers per (method, path) plus a log of every request that arrived."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[Handler]] = {}

    def on(self, method: str, path: str, *handlers: Handler) -> None:
        """Answer with ``handlers`` in turn; the last one repeats."""
        self.routes[(method, path)] = list(handlers)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if (r.method, r.url.path) == (method, path))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handlers = self.routes.get((request.method, request.url.path))
        if not handlers:
            return json_reply(404, {"code": "NOT_FOUND", "message": "no such route"})
        return handlers.pop(0)(request) if len(handlers) > 1 else handlers[0](request)


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: json_reply(status, body, headers)


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)  # held until the client gives up


def client_for(
    fake: FakePipAI,
    transport: LoopbackVenue | None = None,
    control_timeout_s: float = 1.0,
    **options: Any,
) -> PipAIClient:
    settings = VenueSettings(
        name="pipai",
        api="pipai",
        base_url="http://api.pipai.example",
        credentials={"api_key": Secret(KEY), "api_secret": Secret(SECRET)},
        request_timeout_s=10.0,
        control_timeout_s=control_timeout_s,
        options=options,
    )
    return PipAIClient(settings, transport=transport or LoopbackVenue(fake))


PAUSE = ("POST", f"/v1/strategies/{SID}/pause")
DEPLOY = ("POST", f"/v1/strategies/{SID}/deploy")
GET = ("GET", f"/v1/strategies/{SID}")


def pause(close: bool = False) -> Action:
    return Action(ActionKind.PAUSE, {"close_positions": close})


async def test_requests_are_signed_over_the_target_with_query_and_exact_body() -> None:
    fake = FakePipAI()
    cursor = "eyJjcmVhdGVkX2F0IjoiMjAyNi0wNC0xNFQxMDoxMjowMFoifQ=="
    fake.on(
        "GET",
        "/v1/strategies",
        answer(200, {"data": [strategy()], "next_cursor": cursor}),
        answer(200, {"data": [strategy() | {"id": "strat_3c91de"}], "next_cursor": None}),
    )
    fake.on(*PAUSE, answer(200, strategy("paused", 0)))
    client = client_for(fake, page_size=1)
    assert [t.id for t in await client.list_targets()] == [SID, "strat_3c91de"]
    await client.execute(SID, pause(close=True))
    targets = [r.url.raw_path.decode() for r in fake.requests]
    assert targets == [
        "/v1/strategies?limit=1",
        "/v1/strategies?limit=1&cursor=" + cursor.replace("=", "%3D"),
        f"/v1/strategies/{SID}/pause",
    ]
    assert fake.requests[-1].content == b'{"close_positions":true}'
    for request in fake.requests:
        ts = request.headers["X-PipAI-Timestamp"]
        canonical = (ts + request.method + request.url.raw_path.decode()).encode()
        wanted = hmac.new(SECRET.encode(), canonical + request.content, hashlib.sha256)
        assert request.headers["X-PipAI-Signature"] == wanted.hexdigest()
        assert request.headers["X-PipAI-API-Key"] == KEY
    await client.aclose()


@pytest.mark.parametrize("sid", [SID, "a b/c", "x/../y", "ü-%41", "q?x=1&y", ".a", "a.."])
async def test_signature_covers_the_target_as_sent_whatever_the_id_and_base_path(sid: str) -> None:
    fake = FakePipAI()
    settings = VenueSettings(
        name="pipai",
        api="pipai",
        base_url="http://api.pipai.example/gateway/v0",
        credentials={"api_key": Secret(KEY), "api_secret": Secret(SECRET)},
        request_timeout_s=10.0,
        control_timeout_s=1.0,
    )
    client = PipAIClient(settings, transport=LoopbackVenue(fake))
    await client.execute(sid, pause())
    request = fake.requests[0]
    assert request.url.raw_path.decode().startswith("/gateway/v0/v1/")
    ts = request.headers["X-PipAI-Timestamp"]
    canonical = (ts + request.method + request.url.raw_path.decode()).encode()
    wanted = hmac.new(SECRET.encode(), canonical + request.content, hashlib.sha256)
    assert request.headers["X-PipAI-Signature"] == wanted.hexdigest()
    await client.aclose()


async def test_repeated_cursor_stops_paging_as_incomplete_with_what_was_read() -> None:
    fake = FakePipAI()
    fake.on("GET", "/v1/strategies", answer(200, {"data": [strategy()], "next_cursor": "abc"}))
    with pytest.raises(Incomplete, match="repeated a page cursor") as stopped:
        await client_for(fake).list_targets()
    assert [t.id for t in stopped.value.partial] == [SID]
    assert fake.count("GET", "/v1/strategies") == 2


async def test_a_list_page_of_the_wrong_shape_says_so_and_an_unshown_field_is_not_read() -> None:
    """A page not in the documented shape is unreadable (never empty); a row the console
    cannot read is skipped and named; a malformed field the console never shows
    (``params``) costs nothing."""
    fake = FakePipAI()
    fake.on("GET", "/v1/strategies", answer(200, {"data": {"not": "a list"}, "next_cursor": None}))
    with pytest.raises(Unreadable, match="unreadable answer when listing strategies"):
        await client_for(fake).list_targets()
    fake.on("GET", "/v1/strategies", answer(200, {"data": [strategy()]}))
    with pytest.raises(Incomplete, match="no next_cursor") as unsaid:
        await client_for(fake).list_targets()
    assert [t.id for t in unsaid.value.partial] == [SID]  # kept, never thrown away
    fake.on(
        "GET", "/v1/strategies", answer(200, {"data": [{"name": "no id"}], "next_cursor": None})
    )
    client = client_for(fake)
    assert await client.list_targets() == []
    assert client.skipped_rows == ["row 1 of page 1: id: Field required"]
    fake.on(
        "GET",
        "/v1/strategies",
        answer(200, {"data": [strategy(params="oops")], "next_cursor": None}),
    )
    (target,) = await client_for(fake).list_targets()
    assert target.id == SID and target.attrs["open_positions"] == 2


async def test_read_of_a_missing_strategy_is_none() -> None:
    fake = FakePipAI()
    assert await client_for(fake).read_target("strat_gone") is None


async def test_timed_out_pause_is_not_resent_and_reread_shows_it_applied() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, timeout)
    fake.on(*GET, answer(200, strategy("paused")))
    outcome = await client_for(fake, control_timeout_s=0.3).execute(SID, pause())
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.PAUSED
    assert "no answer" in outcome.message
    assert "not re-sent" in outcome.message
    assert fake.count(*PAUSE) == 1


async def test_timed_out_pause_with_reread_still_deployed_goes_once_more_then_uncertain() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, timeout)
    fake.on(*GET, answer(200, strategy("deployed")))
    outcome = await client_for(fake, control_timeout_s=0.3).execute(SID, pause())
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert outcome.state_after is State.RUNNING
    assert "may still land" in outcome.message
    assert "its second request: the first, too, had no usable answer" in outcome.message
    assert fake.count(*PAUSE) == 2  # once more, never a third time


async def test_a_502_pause_found_still_deployed_goes_once_more_and_lands() -> None:
    """A gateway's 502, a re-read showing the strategy deployed: the pause is sent once
    more (harmless if the first landed), and its answer is the outcome."""
    fake = FakePipAI()
    fake.on(*PAUSE, answer(502, {"message": "bad gateway"}), answer(200, strategy("paused", 0)))
    fake.on(*GET, answer(200, strategy("deployed")))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent again: the first request had no usable answer" in outcome.message
    assert "HTTP 502" in outcome.message
    assert fake.count(*PAUSE) == 2


async def test_a_pause_sent_once_more_and_found_done_is_applied() -> None:
    """The re-read was late: the second pause finds it paused (409) — the first did it."""
    fake = FakePipAI()
    already = answer(409, {"code": "ALREADY_PAUSED", "message": "Strategy is already paused"})
    fake.on(*PAUSE, timeout, already)
    fake.on(*GET, answer(200, strategy("deployed")), answer(200, strategy("paused", 0)))
    outcome = await client_for(fake, control_timeout_s=0.3).execute(SID, pause())
    assert outcome.kind is OutcomeKind.APPLIED
    assert "the first request most likely did it" in outcome.message
    assert fake.count(*PAUSE) == 2


async def test_timed_out_pause_with_failed_reread_is_uncertain_without_state() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, timeout)
    fake.on(*GET, answer(500, {"code": "INTERNAL_ERROR", "message": "boom"}))
    outcome = await client_for(fake, control_timeout_s=0.3).execute(SID, pause())
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert outcome.state_after is None
    assert "re-read failed" in outcome.message


async def test_unreachable_venue_is_failed_and_says_nothing_was_sent() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, answer(200, strategy("paused", 0)))
    seam = LoopbackVenue(fake)
    seam.refuse()  # the connection is refused: nothing reaches the venue
    outcome = await client_for(fake, transport=seam).execute(SID, pause())
    assert outcome.kind is OutcomeKind.FAILED
    assert "never reached PipAI" in outcome.message
    assert fake.requests == []
    assert seam.refused == 1  # the pause alone: no re-read after it


async def test_malformed_control_reply_rereads() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, lambda r: httpx.Response(200, content=b'{"id": "strat_8f'))
    fake.on(*GET, lambda r: httpx.Response(200, content=b'{"id": "str'))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "malformed JSON" in outcome.message
    assert fake.count(*PAUSE) == 1
    assert fake.count(*GET) == 1


async def test_one_429_is_retried_after_retry_after() -> None:
    fake = FakePipAI()
    limited = answer(429, {"code": "RATE_LIMITED", "message": "slow down"}, {"Retry-After": "0.01"})
    fake.on(*PAUSE, limited, answer(200, strategy("paused")))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.APPLIED
    assert fake.count(*PAUSE) == 2


async def test_six_429s_fail_as_rate_limited() -> None:
    fake = FakePipAI()
    limited = answer(429, {"code": "RATE_LIMITED", "message": "slow down"}, {"Retry-After": "0.01"})
    fake.on(*PAUSE, limited)
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.FAILED
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert outcome.vendor_code == "RATE_LIMITED"
    assert fake.count(*PAUSE) == 6


async def test_server_error_is_uncertain_with_pipais_words() -> None:
    """A 500 may come after PipAI acted: settled by a re-read (none here: uncertain)."""
    fake = FakePipAI()
    fake.on(*PAUSE, answer(500, {"code": "INTERNAL_ERROR", "message": "engine unavailable"}))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert 'INTERNAL_ERROR: "engine unavailable"' in outcome.message
    assert outcome.http_status == 500


async def test_409_on_paused_strategy_with_positions_is_already_with_flatten_warning() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, answer(409, {"code": "INVALID_STATE", "message": "Strategy is paused"}))
    fake.on(*GET, answer(200, strategy("paused", open_positions=2)))
    outcome = await client_for(fake).execute(SID, pause(close=True))
    assert outcome.kind is OutcomeKind.ALREADY
    assert outcome.state_after is State.PAUSED
    assert outcome.vendor_code == "INVALID_STATE"
    assert outcome.warning is not None
    assert "cannot flatten a paused strategy" in outcome.warning


async def test_409_on_stopped_strategy_is_rejected_with_state() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, answer(409, {"code": "INVALID_STATE", "message": "Strategy is stopped"}))
    fake.on(*GET, answer(200, strategy("stopped", open_positions=0)))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.state_after is State.STOPPED
    assert "Strategy is stopped" in outcome.message


@pytest.mark.parametrize(
    ("code", "expected"), [("INVALID_STATE", OutcomeKind.UNCERTAIN), (None, OutcomeKind.UNCERTAIN),
                           ("POSITION_LOCK", OutcomeKind.REJECTED)],
)  # fmt: skip
async def test_409_to_a_pause_of_a_strategy_read_deployed_is_uncertain(
    code: str | None, expected: OutcomeKind
) -> None:
    """A pause is allowed from deployed: PipAI's status 409 while a re-read shows it
    deployed means one of the two is behind (a stale read): uncertain, so a kill reads it
    again, not refused (session 16). Another rule's 409 stays a refusal."""
    fake = FakePipAI()
    body = {"message": "Strategy is paused"} | ({"code": code} if code else {})
    fake.on(*PAUSE, answer(409, body))
    fake.on(*GET, answer(200, strategy("deployed")))
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is expected, outcome
    if expected is OutcomeKind.UNCERTAIN:
        assert "one of the two is behind" in outcome.message


async def test_409_on_deploy_of_deployed_strategy_is_already() -> None:
    fake = FakePipAI()
    fake.on(*DEPLOY, answer(409, {"code": "INVALID_STATE", "message": "Strategy is deployed"}))
    fake.on(*GET, answer(200, strategy("deployed")))
    outcome = await client_for(fake).execute(SID, Action(ActionKind.RESUME))
    assert outcome.kind is OutcomeKind.ALREADY
    assert outcome.state_after is State.RUNNING


async def test_a_refused_signature_keeps_the_vendors_words() -> None:
    """The commonest refusal (a skewed clock, a wrong secret): PipAI's own words reach
    the operator — they sat after ``INVALID_SIGNATURE:``, where a credential's value
    sits, and were masked whole (an independent PipAI whose clock was 400 s off)."""
    words = "Request signature did not match expected value"
    said = answer(401, {"code": "INVALID_SIGNATURE", "message": words})
    for text in await refused_pause_and_list(said):
        assert f'INVALID_SIGNATURE: "{words}"' in text, text


async def refused_pause_and_list(said: Handler) -> tuple[str, str]:
    """What a pause and a list read answered ``said`` tell the operator."""
    fake = FakePipAI()
    fake.on(*PAUSE, said)
    fake.on("GET", "/v1/strategies", said)
    client = client_for(fake)
    outcome = await client.execute(SID, pause())
    with pytest.raises(FeedError) as listing:
        await client.list_targets()
    return outcome.message, str(listing.value)


async def test_messages_never_carry_key_secret_or_signature() -> None:
    def echo_everything(request: httpx.Request) -> httpx.Response:
        leak = (
            f"{request.headers['X-PipAI-API-Key']} {SECRET} {request.headers['X-PipAI-Signature']}"
        )
        return json_reply(401, {"code": "INVALID_SIGNATURE", "message": f"bad: {leak}"})

    fake = FakePipAI()
    fake.on(*PAUSE, echo_everything)
    fake.on("GET", "/v1/strategies", echo_everything)
    client = client_for(fake)
    outcome = await client.execute(SID, pause())
    assert outcome.kind is OutcomeKind.REJECTED
    assert "INVALID_SIGNATURE" in outcome.message
    with pytest.raises(FeedError) as listing:
        await client.list_targets()
    signatures = [r.headers["X-PipAI-Signature"] for r in fake.requests]
    for text in (outcome.message, str(listing.value)):
        assert "api_secret" in text  # says what to fix ...
        assert KEY not in text  # ... without showing it
        assert SECRET not in text
        assert not any(sig in text for sig in signatures)


async def test_a_head_or_tail_of_the_key_or_secret_quoted_by_the_venue_is_masked() -> None:
    """A vendor quoting the first or last characters of a key "for identification" (an
    independent implementation did, with the secret): a piece of a secret is part of it."""
    quoted = f"{SECRET[:6]}…, {SECRET[:12]}..., …{SECRET[-8:]}, {KEY[:10]}***"
    said = answer(401, {"code": "UNAUTHORIZED", "message": f"no account for keys {quoted}"})
    for text in await refused_pause_and_list(said):
        assert "***…, ***..., …***, ******" in text, text


def test_a_secret_named_after_its_place_still_lets_the_signature_scrubber_find_it() -> None:
    """The heads and tails are masked after the places PipAI's scrubber adds: a key that
    begins "secret…" must not hide the word from "secret <another account's secret>"."""
    scrubber = SignatureScrubber(["secretive_key_0123456789", SECRET])
    said = f"wrong secret sk_the_real_one_4242 for key secret…; signature {'ab' * 32}"
    assert scrubber.scrub(said) == "wrong *** *** for key ***…; signature ***"


async def test_stop_and_start_are_not_offered_and_send_nothing() -> None:
    fake = FakePipAI()
    client = client_for(fake)
    stop = await client.execute(SID, Action(ActionKind.STOP))
    start = await client.execute(SID, Action(ActionKind.START))
    assert stop.kind is start.kind is OutcomeKind.REJECTED
    assert "no stop endpoint" in stop.message
    assert fake.requests == []


async def test_unexpected_errors_become_a_failed_outcome(monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("transport bug")  # a bug below the client, not a venue's answer

    fake = FakePipAI()
    fake.on(*PAUSE, answer(200, strategy("paused", 0)))
    monkeypatch.setattr(sys.modules[PipAIClient.__module__], "send", explode)
    outcome = await client_for(fake).execute(SID, pause())
    assert outcome.kind is OutcomeKind.FAILED
    assert "transport bug" in outcome.message


async def test_close_positions_option_reaches_the_body_as_a_boolean() -> None:
    fake = FakePipAI()
    fake.on(*PAUSE, answer(200, strategy("paused", 0)))
    client = client_for(fake)
    await client.execute(SID, Action(ActionKind.PAUSE, {"close_positions": "true"}))
    await client.execute(SID, Action(ActionKind.PAUSE))
    assert [json.loads(r.content) for r in fake.requests] == [
        {"close_positions": True},
        {"close_positions": False},
    ]


def target(state: State, raw: str, open_positions: int = 2) -> Target:
    return Target(
        "pipai",
        TargetKind.STRATEGY,
        SID,
        "BTC grid 1h",
        state,
        raw,
        {"open_positions": open_positions},
    )


def test_actions_follow_the_state_machine() -> None:
    client = client_for(FakePipAI())
    running = client.actions_for(target(State.RUNNING, "deployed"))
    assert [a.kind for a in running] == [ActionKind.PAUSE]
    assert "open positions stay open (still managed" in running[0].leaves_behind
    assert client.held_by(target(State.RUNNING, "deployed")) == (2, "open positions")
    assert [o.name for o in running[0].options] == ["close_positions"]
    assert running[0].options[0].default is False
    assert [a.kind for a in client.actions_for(target(State.PAUSED, "paused"))] == [
        ActionKind.RESUME
    ]
    assert [a.kind for a in client.actions_for(target(State.UNKNOWN, "hibernating"))] == [
        ActionKind.PAUSE
    ]
    for state, raw in (
        (State.STOPPED, "draft"),
        (State.STOPPED, "stopped"),
        (State.ERROR, "error"),
    ):
        assert client.actions_for(target(state, raw)) == []


def test_kill_pauses_running_strategies_with_the_chosen_close_policy() -> None:
    client = client_for(FakePipAI())
    kill = client.kill_action(target(State.RUNNING, "deployed"), clear_leaves_behind=True)
    assert kill == Action(ActionKind.PAUSE, {"close_positions": True})
    assert client.kill_action(target(State.RUNNING, "deployed")) == pause(close=False)
    assert client.kill_action(target(State.PAUSED, "paused"), clear_leaves_behind=True) is None
    assert client.kill_action(target(State.STOPPED, "stopped")) is None
