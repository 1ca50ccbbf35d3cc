"""Joyride client quirks against canned answers (tests/venues/loopback.py), no simulator."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target, TargetKind
from console.core.scrub import Scrub
from console.venues.joyride.client import JoyrideClient, api_base
from console.venues.joyride.mapping import Counted, count_rounds
from console.venues.joyride.outcomes import drift_warning
from console.venues.joyride.wire import InstrumentRow, PauseResult
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import FeedError, Unreadable
from tests.venues.loopback import LoopbackVenue

TOKEN = "jr_admin_unit_test_token_5f1e"
NOW = 1_740_700_000.0
EXP = 1_740_729_600  # 28 Feb 2025 08:00 UTC, after NOW
PAUSE = Action(ActionKind.PAUSE)
RESUME = Action(ActionKind.RESUME)

Handler = Callable[[httpx.Request], httpx.Response]


def instrument(inst_id: str, expiration: int = EXP, **extra: object) -> dict[str, object]:
    option_type = "call" if inst_id.endswith("-C") else "put"
    return {
        "id": inst_id,
        "strike": 150_000_000,
        "option_type": option_type,
        "expiration": expiration,
        "tick_size": 1000,
        "min_size": 100,
        "contract_size": 1,
        "price_decimals": 6,
        "size_decimals": 3,
        **extra,
    }


LISTING = [
    instrument("SOL_USDC-28FEB25-150-C"),
    instrument("SOL_USDC-28FEB25-150-P"),
    instrument("BTC_USDC-28FEB25-90000-C"),
]


def pause_body(
    paused: bool = True, db: int = 3, engine: int = 3, missing: list[str] | None = None
) -> dict[str, object]:
    return {
        "expiration": EXP,
        "paused": paused,
        "db_updated": db,
        "engine_updated": engine,
        "engine_missing": missing or [],
    }


class Venue:
    """A scripted Joyride: queued answers for the pause route, a fixed instrument list."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.listing: object = LISTING

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/v1/market/instruments"):
            return httpx.Response(200, json=self.listing)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]


def make_client(
    venue: Venue,
    token: str | None = TOKEN,
    transport: LoopbackVenue | None = None,
    **overrides: object,
) -> JoyrideClient:
    fields: dict[str, object] = {
        "name": "joyride",
        "api": "joyride",
        "base_url": "http://joyride.test/api",
        "credentials": {"admin_token": Secret(token)} if token else {},
        "control_timeout_s": 2.0,
        "request_timeout_s": 10.0,
        "rate_scale": 0.01,
    }
    fields.update(overrides)
    client = JoyrideClient(VenueSettings(**fields), transport=transport or LoopbackVenue(venue))  # type: ignore[arg-type]
    client.clock = lambda: NOW
    return client


async def test_pause_sends_documented_request_to_api_base() -> None:
    venue = Venue(httpx.Response(200, json=pause_body()))
    client = make_client(venue)
    outcome = await client.execute(str(EXP), PAUSE)
    (post,) = venue.posts
    assert post.url.path == "/api/v1/admin/instruments/pause-by-expiration"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(post.content) == {"expiration": EXP, "paused": True}
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.PAUSED
    assert outcome.http_status == 200


async def test_resume_sends_paused_false() -> None:
    venue = Venue(httpx.Response(200, json=pause_body(paused=False)))
    outcome = await make_client(venue).execute(str(EXP), RESUME)
    assert json.loads(venue.posts[0].content)["paused"] is False
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.RUNNING


async def test_zero_counts_on_a_listed_round_is_already_paused() -> None:
    venue = Venue(httpx.Response(200, json=pause_body(db=0, engine=0)))
    client = make_client(venue)
    await client.list_targets()
    outcome = await client.execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.ALREADY
    assert "already paused" in outcome.message


async def test_no_db_row_changed_but_the_engine_flipped_is_applied_as_drift_corrected() -> None:
    """An independent Joyride answered ``db_updated 0, engine_updated 12`` (its engine
    behind its database): the call flipped 12 engine instruments, so it is no *already*."""
    venue = Venue(httpx.Response(200, json=pause_body(db=0, engine=12)))
    client = make_client(venue)
    await client.list_targets()
    outcome = await client.execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.PAUSED
    assert "database already had 28 FEB 25 08:00 UTC paused (db_updated 0)" in outcome.message
    assert "engine flipped 12 instruments now (DB/engine drift, corrected)" in outcome.message
    assert outcome.warning is not None
    assert "the engine flipped 12 more instruments than the database changed" in outcome.warning
    (target,) = await client.list_targets()
    assert target.attrs["drift"] == outcome.warning


async def test_no_db_row_changed_but_engine_instruments_missing_keeps_the_warning() -> None:
    missing = ["SOL_USDC-28FEB25-150-C", "SOL_USDC-28FEB25-150-P"]
    venue = Venue(httpx.Response(200, json=pause_body(db=0, engine=0, missing=missing)))
    client = make_client(venue)
    await client.list_targets()
    outcome = await client.execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.ALREADY  # nothing flipped anywhere
    assert outcome.state_after is State.PAUSED
    assert outcome.warning is not None
    assert "2 instruments of the round missing from the matching engine" in outcome.warning
    assert "SOL_USDC-28FEB25-150-C" in outcome.warning
    (target,) = await client.list_targets()
    assert target.attrs["drift"] == outcome.warning


@pytest.mark.parametrize(
    ("db", "engine", "missing", "words"),
    [
        (3, 5, 0, "the engine flipped 2 more instruments than the database changed"),
        (40, 30, 7, "the engine was already at the target for 3 of 40 changed instruments"),
        (10, 4, 0, "the engine was already at the target for 6 of 10 changed instruments"),
    ],
)
def test_drift_words_never_count_a_negative_already(
    db: int, engine: int, missing: int, words: str
) -> None:
    ids = [f"SOL_USDC-28FEB25-{100 + i}-C" for i in range(missing)]
    result = PauseResult.model_validate(pause_body(db=db, engine=engine, missing=ids))
    warning = drift_warning(result, str)
    assert warning is not None
    assert words in warning
    assert " -" not in warning  # no negative count


async def test_zero_counts_on_an_unlisted_round_is_rejected() -> None:
    venue = Venue(httpx.Response(200, json=pause_body(db=0, engine=0)))
    venue.listing = []
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.REJECTED
    assert "no instrument" in outcome.message


async def test_echo_mismatch_is_uncertain() -> None:
    wrong = {**pause_body(), "expiration": EXP + 86_400}
    venue = Venue(httpx.Response(200, json=wrong))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "echoed" in outcome.message


async def test_answer_missing_documented_fields_is_uncertain() -> None:
    venue = Venue(httpx.Response(200, json={"expiration": EXP, "paused": True}))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "lacked the documented fields db_updated, engine_updated, engine_missing" in (
        outcome.message
    )


async def test_a_count_sent_as_a_string_is_named_as_a_wrong_type_not_a_missing_field() -> None:
    """The counts are JSON integers (CONTRACTS section 4) and the model is strict: a
    ``"5"`` is no count, and the words say which field had which wrong type."""
    venue = Venue(httpx.Response(200, json={**pause_body(), "db_updated": "5"}))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert (
        "its 200 answer did not have the documented types: db_updated is a string, not an "
        "integer count" in outcome.message
    )
    assert "lacked" not in outcome.message


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({**pause_body(), "paused": "true"}, "documented types: paused is a string, not a boolean"),
        ({**pause_body(), "engine_updated": -1}, "engine_updated is -1, not a count (0 or more)"),
        ({**pause_body(), "engine_missing": [7]}, "engine_missing[0] is a number, not an instr"),
        ([pause_body()], "its 200 answer was a list, not the documented object"),
        (
            {"expiration": EXP, "paused": True, "db_updated": 1.0},
            "lacked the documented fields engine_updated, engine_missing and did not have the "
            "documented types: db_updated is a decimal number, not an integer count",
        ),
    ],
)
async def test_a_wrongly_typed_answer_names_each_field(answer: object, words: str) -> None:
    venue = Venue(httpx.Response(200, json=answer))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert words in outcome.message


async def test_timeout_is_uncertain_and_never_resent() -> None:
    venue = Venue(httpx.ReadTimeout("slow"))  # held until the client gives up
    outcome = await make_client(venue, control_timeout_s=0.3).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert len(venue.posts) == 1
    assert "still shows 3 instruments" in outcome.message  # the re-read after the timeout
    assert "idempotent" in outcome.message
    # a repeat after a failure in Joyride's engine phase answers db_updated 0: it says
    # what the database had, never that the engine is paused
    assert "will confirm" not in outcome.message
    assert "its counts say what it changes then" in outcome.message
    assert (
        "0 changed rows means the database already had it paused, not that every engine "
        "instrument is (Joyride cannot show the engine's state)" in outcome.message
    )


async def test_refused_connection_is_failed_and_says_nothing_was_sent() -> None:
    venue = Venue()
    seam = LoopbackVenue(venue)
    seam.refuse()  # every connection refused: nothing reaches the venue
    outcome = await make_client(venue, transport=seam).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "Nothing was sent" in outcome.message


async def test_one_429_is_retried_once_after_retry_after() -> None:
    limited = httpx.Response(429, json={"error": "rate_limited"}, headers={"Retry-After": "0.01"})
    venue = Venue(limited, httpx.Response(200, json=pause_body()))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert len(venue.posts) == 2


async def test_six_429s_fail_as_rate_limited_without_a_seventh_try() -> None:
    def limited() -> httpx.Response:
        return httpx.Response(
            429,
            json={"error": "rate_limited", "message": "slow down"},
            headers={"Retry-After": "0.01"},
        )

    venue = Venue(*(limited() for _ in range(6)), httpx.Response(200, json=pause_body()))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "rate limited" in outcome.message
    assert "'slow down'" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert len(venue.posts) == 6


async def test_two_429s_then_the_pause_is_taken() -> None:
    limited = httpx.Response(429, json={"error": "rate_limited"}, headers={"Retry-After": "0.01"})
    venue = Venue(limited, limited, httpx.Response(200, json=pause_body()))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert "sent 3 times: the first 2 refused with 429" in outcome.message
    assert len(venue.posts) == 3


async def test_validation_error_is_rejected_with_the_venue_words() -> None:
    body = {"error": "validation_error", "message": "paused: required boolean"}
    venue = Venue(httpx.Response(422, json=body))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.vendor_code == "validation_error"
    assert "'paused: required boolean'" in outcome.message


async def test_404_fails_with_a_base_url_hint() -> None:
    venue = Venue(httpx.Response(404, text="Not Found"))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert "base_url ends with /api" in outcome.message


async def test_a_404_on_the_list_carries_the_base_url_hint() -> None:
    def nowhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="Not Found")

    client = make_client(Venue(), transport=LoopbackVenue(nowhere))
    with pytest.raises(FeedError) as raised:
        await client.list_targets()
    assert "HTTP 404" in str(raised.value)
    assert "check that the profile's base_url ends with /api" in str(raised.value)


@pytest.mark.parametrize(
    "base_url",
    ["http://joyride.test/api/v1", "http://joyride.test/api/v1/", "http://joyride.test/api/"],
)
async def test_the_vendors_documented_rest_base_is_taken_as_the_api_base(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """CONTRACTS gives the REST base as ``https://joyride.exchange/api/v1``; a profile that
    copies it reaches the same paths as one ending in ``/api`` (not ``/api/v1/v1/...``)."""
    venue = Venue(httpx.Response(200, json=pause_body()))
    caplog.set_level(logging.INFO, logger="console.venues.joyride.client")
    client = make_client(venue, base_url=base_url)
    (target,) = await client.list_targets()
    outcome = await client.execute(target.id, PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert [r.url.path for r in venue.requests] == [
        "/api/v1/market/instruments",
        "/api/v1/admin/instruments/pause-by-expiration",
    ]
    said = [r.getMessage() for r in caplog.records]
    if base_url.rstrip("/").endswith("/v1"):
        assert said == [
            "joyride: base_url ends with /v1; its paths are sent below it without that /v1"
        ]
    else:
        assert said == []


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://joyride.exchange/api/v1", "https://joyride.exchange/api"),
        ("https://joyride.exchange/api/v1/", "https://joyride.exchange/api"),
        ("https://joyride.exchange/api", "https://joyride.exchange/api"),
        ("https://api.joyride.exchange/v1", "https://api.joyride.exchange"),
        ("https://joyride.exchange/api/v10", "https://joyride.exchange/api/v10"),
        ("https://joyride.exchange/apiv1", "https://joyride.exchange/apiv1"),
    ],
)
def test_api_base_drops_one_trailing_v1_only(given: str, used: str) -> None:
    assert api_base(given) == used


async def test_a_venue_echoing_the_token_never_leaks_it() -> None:
    body = {"error": "unauthorized", "message": f"token {TOKEN} is not valid"}
    venue = Venue(httpx.Response(401, json=body))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.REJECTED
    assert TOKEN not in outcome.message
    assert "***" in outcome.message
    assert "admin_token" in outcome.message


async def test_drift_warning_names_missing_instruments_and_counts_the_rest() -> None:
    missing = [f"SOL_USDC-28FEB25-{100 + i}-C" for i in range(7)]
    venue = Venue(httpx.Response(200, json=pause_body(db=40, engine=30, missing=missing)))
    client = make_client(venue)
    outcome = await client.execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.warning is not None
    assert "7 instruments changed in the DB but missing from the matching engine" in outcome.warning
    assert "SOL_USDC-28FEB25-100-C" in outcome.warning
    assert "and 2 more" in outcome.warning
    assert "already at the target for 3 of 40" in outcome.warning
    (target,) = await client.list_targets()
    assert target.attrs["drift"] == outcome.warning


async def test_unknown_option_type_and_extra_fields_are_kept_and_bad_rows_skipped() -> None:
    venue = Venue()
    venue.listing = [
        instrument("SOL_USDC-28FEB25-150-C", greeks={"delta": 0.5}),
        {**instrument("SOL_USDC-28FEB25-150-X"), "option_type": "binary"},
        {"id": "broken"},  # no expiration: skipped, not fatal
    ]
    client = make_client(venue)
    (target,) = await client.list_targets()
    assert target.attrs["instruments"] == 2
    assert target.attrs["calls"] == 1
    assert target.attrs["puts"] == 0
    assert client.skipped_rows == ["broken: no expiration"]  # named, not silently dropped


async def test_a_too_long_retry_after_is_not_slept_and_the_call_fails() -> None:
    limited = httpx.Response(429, json={"error": "rate_limited"}, headers={"Retry-After": "3600"})
    venue = Venue(limited, httpx.Response(200, json=pause_body()))
    outcome = await make_client(venue).execute(str(EXP), PAUSE)
    assert outcome.kind is OutcomeKind.FAILED
    assert outcome.http_status == 429
    assert "Joyride asks to wait 1 h" in outcome.message
    assert len(venue.posts) == 1


async def test_an_empty_first_list_is_unreadable_not_no_rounds() -> None:
    venue = Venue()
    venue.listing = None  # httpx sends no body at all
    client = make_client(venue)
    with pytest.raises(Unreadable, match="with an empty body"):
        await client.list_targets()


async def test_expired_round_offers_no_action_and_sends_nothing() -> None:
    venue = Venue()
    client = make_client(venue)
    client.clock = lambda: EXP + 1.0
    (target,) = await client.list_targets()
    assert target.state is State.STOPPED
    assert target.raw_status == "expired"
    assert client.actions_for(target) == []
    assert client.kill_action(target) is None
    # a closed market takes no orders: a pause's aim holds (STOPPED satisfies a pause),
    # so *already*, never a *rejected* the CLI then exits 0 on; a resume cannot reopen it
    paused = await client.execute(str(EXP), PAUSE)
    assert paused.kind is OutcomeKind.ALREADY
    assert paused.state_after is State.STOPPED
    assert "needs no pause. Nothing was sent." in paused.message
    resumed = await client.execute(str(EXP), RESUME)
    assert resumed.kind is OutcomeKind.REJECTED
    assert "nothing to resume. Nothing was sent." in resumed.message
    assert venue.posts == []


@pytest.mark.parametrize("kind", [ActionKind.STOP, ActionKind.START])
async def test_stop_and_start_do_not_exist_on_joyride(kind: ActionKind) -> None:
    venue = Venue()
    outcome = await make_client(venue).execute(str(EXP), Action(kind))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "use pause" in outcome.message.lower()
    assert venue.posts == []


async def test_not_an_expiration_id_is_rejected() -> None:
    venue = Venue()
    outcome = await make_client(venue).execute("SOL_USDC-28FEB25-150-C", PAUSE)
    assert outcome.kind is OutcomeKind.REJECTED
    assert venue.posts == []


def test_kill_action_pauses_live_rounds_even_when_known_paused() -> None:
    client = make_client(Venue())
    target = Target(
        "joyride",
        TargetKind.EXPIRATION,
        str(EXP),
        "28 FEB 25 08:00 UTC",
        State.PAUSED,
        "paused=true",
        {"instruments": 3},
    )
    action = client.kill_action(target, clear_leaves_behind=True)
    assert action is not None
    assert action.kind is ActionKind.PAUSE
    assert [a.kind for a in client.actions_for(target)] == [ActionKind.PAUSE, ActionKind.RESUME]


async def test_an_unchanged_list_is_not_parsed_again_but_knowledge_still_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import console.venues.joyride.client as joyride

    parsed: list[int] = []
    real = joyride.count_list

    async def counting(body: bytes, max_rows: int, *, scrub: Scrub | None = None) -> Counted:
        parsed.append(1)
        return await real(body, max_rows, scrub=scrub)

    monkeypatch.setattr(joyride, "count_list", counting)
    venue = Venue(httpx.Response(200, json=pause_body()))
    client = make_client(venue)
    (before,) = await client.list_targets()
    assert before.state is State.UNKNOWN
    assert (await client.execute(str(EXP), PAUSE)).kind is OutcomeKind.APPLIED
    (after,) = await client.list_targets()
    assert after.state is State.PAUSED  # what we set here, over the same cached counts
    assert after.attrs["instruments"] == 3
    assert len(parsed) == 1
    venue.listing = [*LISTING, instrument("SOL_USDC-28FEB25-160-P")]
    (changed,) = await client.list_targets()
    assert changed.attrs["instruments"] == 4  # a different body is parsed
    assert len(parsed) == 2


def test_rounds_are_counted_per_asset_side_and_status() -> None:
    rows: list[InstrumentRow] = [
        {"id": "SOL_USDC-28FEB25-150-C", "expiration": 1, "option_type": "call"},
        {"id": "SOL_USDC-28FEB25-150-P", "expiration": 1, "option_type": "put"},
        {"id": "SOL_USDC-28FEB25-160-P", "expiration": 1},  # kind from the id alone
        {"id": "BTC_USDC-28FEB25-9-X", "expiration": 1, "option_type": "binary"},
        {"id": "BTC_USDC-01MAR25-9-C", "expiration": 2, "option_type": "CALL", "status": "halted"},
        {"id": "ETH", "expiration": 2},
    ]
    rounds = count_rounds(rows)
    first, second = rounds[1], rounds[2]
    assert (first.instruments, first.calls, first.puts) == (4, 1, 2)
    assert first.per_asset == {("SOL", "C"): 1, ("SOL", "P"): 2, ("BTC", "?"): 1}
    assert first.statuses == set()
    assert (second.instruments, second.calls, second.puts) == (2, 1, 0)
    assert second.per_asset == {("BTC", "C"): 1, ("ETH", "?"): 1}
    assert second.statuses == {"halted"}


async def test_an_instrument_listed_twice_counts_once() -> None:
    """An independent Joyride listing one id twice showed its round at 61 instruments
    where its engine had 60 (and "BTC 11C/10P"); an instrument is one."""
    venue = Venue()
    venue.listing = [*LISTING, LISTING[0]]
    client = make_client(venue)
    (target,) = await client.list_targets()
    assert (target.attrs["instruments"], target.attrs["calls"]) == (3, 2)
    await client.aclose()
    assert count_rounds([*LISTING, LISTING[2]])[EXP].instruments == 3  # type: ignore[arg-type]
