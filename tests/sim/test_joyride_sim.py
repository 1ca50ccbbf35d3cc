"""The simulated Joyride on its own: world, pause semantics, motion, auth, errors."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from console.sim.joyride.api import JoyrideSim
from console.sim.joyride.world import BAD_EXPIRATION, BAD_ROW_ID, DAY_S, DOT_IDS, ESCAPE
from console.sim.kit.context import SimClock, VendorContext
from console.sim.server import SimServer
from tests.support import set_knobs, sim_admin, sim_counters

API = "joyride"
FROZEN = 1_740_700_000.0  # 27 Feb 2025 23:46:40 UTC
PAUSE_PATH = "/v1/admin/instruments/pause-by-expiration"
ID_FORMAT = re.compile(r"(BTC|ETH|SOL)_USDC-\d{1,2}[A-Z]{3}\d\d-\d+-[CP]")


def make_sim(seed: int = 7, scale: int = 1, at: float = FROZEN) -> JoyrideSim:
    return JoyrideSim(VendorContext(name=API, seed=seed, scale=scale, clock=SimClock(at)))


# ----- the world, without HTTP ------------------------------------------------------------
def test_demo_world_lists_four_daily_rounds_at_0800_utc() -> None:
    sim = make_sim()
    rounds = sim.world.expirations()
    assert len(rounds) == 4
    assert rounds[0] > FROZEN
    assert rounds[0] - FROZEN <= DAY_S
    assert all(b - a == DAY_S for a, b in itertools.pairwise(rounds))
    assert {datetime.fromtimestamp(r, UTC).hour for r in rounds} == {8}
    assert sim.target_count() == 4


def test_instrument_ids_follow_the_documented_format_and_match_strikes() -> None:
    rows = json.loads(make_sim().world.listing(0.0))
    assert len(rows) == 4 * 3 * 8 * 2
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert ID_FORMAT.fullmatch(row["id"]), row["id"]
        assert row["id"].split("-")[2] == str(row["strike"] // 1_000_000)
        assert row["id"].endswith("-C") == (row["option_type"] == "call")
    assert any(r["id"].startswith("SOL_USDC-28FEB25-") for r in rows)


def test_same_seed_and_frozen_clock_give_identical_bytes() -> None:
    assert make_sim(seed=7).world.listing(0.0) == make_sim(seed=7).world.listing(0.0)
    assert make_sim(seed=7).world.listing(0.0) != make_sim(seed=8).world.listing(0.0)


def test_scale_100_builds_thousands_of_instruments() -> None:
    sim = make_sim(scale=100)
    rows = json.loads(sim.world.listing(0.0))
    assert len(rows) == 4 * 3 * 800 * 2
    assert len({r["id"] for r in rows}) == len(rows)
    assert min(r["strike"] for r in rows) > 0


def test_pause_counts_only_rows_that_change_and_repeats_give_zeros() -> None:
    world = make_sim().world
    exp = world.expirations()[0]
    first = world.pause_by_expiration(exp, True)
    assert first == {
        "expiration": exp,
        "paused": True,
        "db_updated": 48,
        "engine_updated": 48,
        "engine_missing": [],
    }
    again = world.pause_by_expiration(exp, True)
    assert (again["db_updated"], again["engine_updated"], again["engine_missing"]) == (0, 0, [])
    assert world.peek(world.expirations()[1])["db_paused"] == 0


def test_unknown_expiration_answers_zeros() -> None:
    result = make_sim().world.pause_by_expiration(123, True)
    assert (result["db_updated"], result["engine_updated"], result["engine_missing"]) == (0, 0, [])


def test_drift_makes_engine_counts_fall_below_db_counts() -> None:
    sim = make_sim()
    exp = sim.world.expirations()[0]
    drift = sim.admin("drift", {"expiration": exp, "missing": 2, "engine_already": 3})
    result = sim.world.pause_by_expiration(exp, True)
    assert result["db_updated"] == 48
    assert result["engine_missing"] == drift["missing"]
    assert result["engine_updated"] == 48 - 2 - 3


def test_new_instruments_of_a_paused_round_inherit_the_pause() -> None:
    world = make_sim().world
    exp = world.expirations()[0]
    world.pause_by_expiration(exp, True)
    created = world.create_instruments("AVAX", exp, 35.0)
    peek = world.peek(exp)
    assert created == 16
    assert peek["db_paused"] == peek["instruments"] == 48 + 16
    assert peek["engine_paused"] == peek["instruments"]


def test_motion_settles_a_passed_round_and_lists_the_next() -> None:
    sim = make_sim()
    before = sim.world.expirations()
    sim.world.pause_by_expiration(before[0], True)
    sim.world.tick(before[0] + 1.0, 0.5)
    after = sim.world.expirations()
    assert after == [*before[1:], before[-1] + DAY_S]
    assert sim.world.peek(after[-1])["db_paused"] == 0  # a new round starts live


def test_unknown_status_share_is_a_seeded_choice() -> None:
    world = make_sim().world
    all_rows = json.loads(world.listing(1.0))
    assert {r["status"] for r in all_rows} <= {"hibernating", "frozen_for_audit", "limbo"}
    assert "status" not in json.loads(world.listing(0.0))[0]
    half = json.loads(world.listing(0.5))
    assert half == json.loads(make_sim().world.listing(0.5))


# ----- over HTTP ----------------------------------------------------------------------------
@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
def token(sim: SimServer) -> str:
    return sim.vendors[API].credentials()["admin_token"]


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.base_url(API), trust_env=False, verify=False
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def first_round(sim: SimServer) -> int:
    return int(sim_admin(sim, API, "expirations")["expirations"][0])


async def test_base_url_includes_api(sim: SimServer) -> None:
    assert sim.base_url(API).endswith("/api")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer jr_admin_wrong"}, {"Authorization": "Basic abc"}],
)
async def test_admin_routes_need_the_token(
    sim: SimServer, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await http.post(
        PAUSE_PATH, json={"expiration": first_round(sim), "paused": True}, headers=headers
    )
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.json()["message"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert sim_admin(sim, API, "peek", expiration=first_round(sim))["db_paused"] == 0


async def test_market_data_is_public(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/market/instruments")).status_code == 200


async def test_open_admin_mode_lets_anyone_pause(sim: SimServer, http: httpx.AsyncClient) -> None:
    sim_admin(sim, API, "open_admin", open=True)
    r = await http.post(PAUSE_PATH, json={"expiration": first_round(sim), "paused": True})
    assert r.status_code == 200
    assert r.json()["db_updated"] == 48


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"paused": True}, "expiration"),
        ({"expiration": "1740816000", "paused": True}, "expiration"),
        ({"expiration": True, "paused": True}, "expiration"),
        ({"expiration": 1740816000}, "paused"),
        ({"expiration": 1740816000, "paused": "yes"}, "paused"),
    ],
)
async def test_invalid_bodies_are_422_with_details(
    http: httpx.AsyncClient, token: str, body: dict[str, Any], field: str
) -> None:
    r = await http.post(PAUSE_PATH, json=body, headers=bearer(token))
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"
    assert [d["field"] for d in r.json()["details"]] == [field]


async def test_non_json_body_is_422(http: httpx.AsyncClient, token: str) -> None:
    r = await http.post(PAUSE_PATH, content=b"{nope", headers=bearer(token))
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "body"


async def test_rate_limit_command_enforces_a_bucket_with_retry_after(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, rate_scale=10.0)  # a 10 s window: the bucket cannot refill mid-test
    sim_admin(sim, API, "rate_limit", limit=3, window_s=1.0)
    statuses = [(await http.get("/v1/market/config")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await http.get("/v1/market/config")
    assert limited.json()["error"] == "rate_limited"
    assert float(limited.headers["retry-after"]) > 0
    assert sim_counters(sim, API)["429"] == 2
    set_knobs(sim, API, rate_limits=False)
    assert (await http.get("/v1/market/config")).status_code == 200


async def test_fault_knob_errors_use_the_joyride_envelope(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, down=True)
    r = await http.get("/v1/market/instruments")
    assert r.status_code == 503
    assert r.json() == {
        "error": "service_unavailable",
        "message": "Service unavailable (simulated outage)",
    }


async def test_ticker_for_known_and_unknown_instruments(http: httpx.AsyncClient) -> None:
    inst_id = (await http.get("/v1/market/instruments")).json()[0]["id"]
    ticker = (await http.get(f"/v1/market/ticker/{inst_id}")).json()
    assert ticker["instrument_id"] == inst_id
    if ticker["best_bid"] is not None:
        assert ticker["best_ask"] > ticker["best_bid"]
    missing = await http.get("/v1/market/ticker/DOGE_USDC-1JAN30-1-C")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"


async def test_settle_over_http_opens_the_next_round(
    sim: SimServer, http: httpx.AsyncClient, token: str
) -> None:
    rounds = sim_admin(sim, API, "expirations")["expirations"]
    r = await http.post(
        "/v1/admin/settle",
        json={
            "expiration": rounds[0],
            "twap_prices": {"BTC": 95000, "ETH": 3300, "SOL": 150},
            "next_expiration": rounds[-1] + DAY_S,
        },
        headers=bearer(token),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["settled_instruments"] == 48
    assert body["created_instruments"] == 48
    assert [s["asset"] for s in body["settlements"]] == ["BTC", "ETH", "SOL"]
    assert sim_admin(sim, API, "expirations")["expirations"] == [*rounds[1:], rounds[-1] + DAY_S]


async def test_unknown_admin_command_is_refused(sim: SimServer) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        sim_admin(sim, API, "explode")


# ----- hostile knobs of this vendor (docs/venues/joyride.md) --------------------------------
def test_bad_row_adds_one_row_expiring_at_ten_to_the_twelfth_inside_the_list() -> None:
    world = make_sim().world
    plain = json.loads(world.listing(0.0))
    rows = json.loads(world.listing(0.0, bad_row=True))
    assert len(rows) == len(plain) + 1
    (bad,) = [r for r in rows if r["expiration"] == BAD_EXPIRATION]
    assert bad["id"] == BAD_ROW_ID
    assert rows[0] != bad and rows[-1] != bad  # a reader has to get past it
    assert [r for r in rows if r is not bad and r != bad] == plain
    assert json.loads(world.listing(0.0)) == plain  # the knob's body is not cached over


def test_dot_ids_add_two_rows_of_the_first_round() -> None:
    world = make_sim().world
    rows = json.loads(world.listing(0.0, dot_ids=True))
    dots = [r for r in rows if r["id"] in DOT_IDS]
    assert [r["id"] for r in dots] == [".", ".."]
    assert {r["expiration"] for r in dots} == {world.expirations()[0]}
    assert len(rows) == 4 * 48 + 2


def test_escape_names_put_escapes_after_every_asset_symbol() -> None:
    world = make_sim().world
    plain = json.loads(world.listing(0.0))
    rows = json.loads(world.listing(0.0, escape_names=True))
    assert len(rows) == len(plain)
    for hostile, row in zip(rows, plain, strict=True):
        asset, _, rest = row["id"].partition("_")
        assert hostile["id"] == f"{asset}{ESCAPE}_{rest}"
    assert "\x1b" in ESCAPE and "\x07" in ESCAPE


async def test_hostile_list_knobs_reach_the_http_list(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, bad_row=True, dot_ids=True, escape_names=True)
    rows = (await http.get("/v1/market/instruments")).json()
    ids = [r["id"] for r in rows]
    assert BAD_ROW_ID in ids
    assert "." in ids and ".." in ids
    assert sum(1 for i in ids if ESCAPE in i) == 4 * 48
    set_knobs(sim, API, bad_row=False, dot_ids=False, escape_names=False)
    rows = (await http.get("/v1/market/instruments")).json()
    assert all(ID_FORMAT.fullmatch(r["id"]) for r in rows)


async def test_echo_secret_makes_every_error_answer_quote_the_admin_token(
    sim: SimServer, http: httpx.AsyncClient, token: str
) -> None:
    set_knobs(sim, API, echo_secret=True)
    unauthorised = await http.post(PAUSE_PATH, json={"expiration": 1, "paused": True})
    invalid = await http.post(PAUSE_PATH, content=b"{nope", headers=bearer(token))
    set_knobs(sim, API, down=True)
    outage = await http.get("/v1/market/instruments")
    assert (unauthorised.status_code, invalid.status_code, outage.status_code) == (401, 422, 503)
    for answer in (unauthorised, invalid, outage):
        assert token in answer.json()["message"]
    set_knobs(sim, API, echo_secret=False)
    assert token not in (await http.get("/v1/market/instruments")).text
