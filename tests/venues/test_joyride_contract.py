"""Joyride contract: the documented samples (CONTRACTS.md section 4, seed 003) pin both
the client's wire models and the simulator's answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from console.sim.server import SimServer
from console.venues.joyride.wire import (
    MarketConfig,
    PauseRequest,
    PauseResult,
    SettlementClock,
    asset_of,
    read_instrument_list,
    side_of,
)
from tests.support import settings_for, sim_admin

API = "joyride"

# ----- documented samples, copied verbatim ---------------------------------------------
DOC_PAUSE_REQUEST = '{"expiration": 1740816000, "paused": true}'
DOC_PAUSE_RESPONSE = (
    '{"expiration": 1740816000, "paused": true, "db_updated": 50, "engine_updated": 50, '
    '"engine_missing": []}'
)
DOC_INSTRUMENTS = """[{"id": "SOL_USDC-28FEB26-150-C", "strike": 150000000, "option_type": "call", "expiration": 1740729600,
  "tick_size": 1000, "min_size": 100, "contract_size": 1, "price_decimals": 6, "size_decimals": 3}]"""
DOC_MARKET_CONFIG = (
    '{"round_duration_hours": 24, "round_epoch": 1735718400000, "units": {"price_decimals": 6, '
    '"size_decimals": 3, "quote_asset": "USDC"}}'
)
DOC_SETTLEMENT_FIELDS = {
    "next_settlement",
    "twap_window_start",
    "seconds_to_twap_window",
    "seconds_to_settlement",
    "in_twap_window",
}
DOC_CREATE_FIELDS = {"asset", "expiration", "created"}
DOC_SETTLE_FIELDS = {
    "settled_instruments",
    "settled_positions",
    "cancelled_orders",
    "created_instruments",
    "settlements",
}


# ----- the client's wire models read the samples -----------------------------------------
def test_documented_pause_request_and_response_parse() -> None:
    request = PauseRequest.model_validate_json(DOC_PAUSE_REQUEST)
    assert (request.expiration, request.paused) == (1740816000, True)
    result = PauseResult.model_validate_json(DOC_PAUSE_RESPONSE)
    assert result.db_updated == 50
    assert result.engine_updated == 50
    assert result.engine_missing == []


def test_documented_instrument_list_parses_without_a_paused_field() -> None:
    listing = read_instrument_list(DOC_INSTRUMENTS.encode(), max_rows=10)
    (inst,) = listing.rows
    assert listing.skipped == []
    assert listing.total == 1
    assert inst["id"] == "SOL_USDC-28FEB26-150-C"
    assert asset_of(inst["id"]) == "SOL"
    assert side_of(inst["id"], inst.get("option_type")) == "C"
    assert inst["expiration"] == 1740729600
    assert inst.get("status") is None


def test_documented_market_config_parses() -> None:
    config = MarketConfig.model_validate_json(DOC_MARKET_CONFIG)
    assert config.round_epoch == 1735718400000
    assert config.units is not None
    assert config.units.quote_asset == "USDC"


def test_pause_result_tolerates_fields_added_later() -> None:
    body = {**json.loads(DOC_PAUSE_RESPONSE), "duration_ms": 12, "engine_errors": []}
    assert PauseResult.model_validate(body).db_updated == 50


# ----- the simulator answers with exactly the documented fields ---------------------------
@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    token = settings_for(sim, API).secret("admin_token").reveal()
    async with httpx.AsyncClient(
        base_url=sim.base_url(API),
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
        verify=False,
    ) as client:
        yield client


async def test_sim_instruments_have_exactly_the_documented_keys(http: httpx.AsyncClient) -> None:
    documented = set(json.loads(DOC_INSTRUMENTS)[0])
    rows = (await http.get("/v1/market/instruments")).json()
    assert rows
    assert all(set(row) == documented for row in rows)
    assert all(row["option_type"] in ("call", "put") for row in rows)


async def test_sim_never_leaks_a_paused_field_after_a_pause(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    exp = sim_admin(sim, API, "expirations")["expirations"][0]
    await http.post(
        "/v1/admin/instruments/pause-by-expiration", json={"expiration": exp, "paused": True}
    )
    body = (await http.get("/v1/market/instruments")).text
    assert "paused" not in body


async def test_sim_pause_answer_has_the_documented_keys(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    exp = sim_admin(sim, API, "expirations")["expirations"][0]
    r = await http.post(
        "/v1/admin/instruments/pause-by-expiration", json={"expiration": exp, "paused": True}
    )
    assert r.status_code == 200
    assert set(r.json()) == set(json.loads(DOC_PAUSE_RESPONSE))
    PauseResult.model_validate(r.json())


async def test_sim_market_config_has_the_documented_shape(http: httpx.AsyncClient) -> None:
    body = (await http.get("/v1/market/config")).json()
    documented = json.loads(DOC_MARKET_CONFIG)
    assert body == documented


async def test_sim_settlement_clock_has_the_documented_keys(http: httpx.AsyncClient) -> None:
    body = (await http.get("/v1/oracle/settlement")).json()
    assert set(body) == DOC_SETTLEMENT_FIELDS
    SettlementClock.model_validate(body)
    assert body["next_settlement"] - body["twap_window_start"] == 1800


async def test_sim_create_and_settle_have_the_documented_keys(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    last = sim_admin(sim, API, "expirations")["expirations"][-1]
    created = await http.post(
        "/v1/admin/create-instruments",
        json={"asset": "SOL", "expiration": last + 86_400, "spot_price": 151.5},
    )
    assert set(created.json()) == DOC_CREATE_FIELDS
    settled = await http.post(
        "/v1/admin/settle",
        json={"expiration": last + 86_400, "twap_prices": {"SOL": 152.0}},
    )
    assert set(settled.json()) == DOC_SETTLE_FIELDS
    assert settled.json()["settled_instruments"] == created.json()["created"]
