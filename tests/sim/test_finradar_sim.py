"""The simulated FinRadar Sniper API over real HTTP: documented shapes, auth, errors, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from console.sim.server import SimServer
from tests.support import set_knobs, sim_admin, sim_counters

API = "finradar"
TARGETS = "/api/v1/sniper/targets"

# CONTRACTS.md section 5: the documented list-row fields (field table and list sample) ...
ROW_FIELDS = {
    "target_id", "ticker", "status", "start_time", "end_time", "form_types", "webhook_url",
    "created_at", "filing_uuid", "resolution_reason", "last_event",
}  # fmt: skip
# ... and the stop sample, copied verbatim.
STOP_SAMPLE: dict[str, Any] = {
    "target_id": "tgt_abc123def456",
    "ticker": "TSLA",
    "status": "STOPPED",
    "resolution_reason": "manual_stop",
    "stopped_at": "2026-06-20T20:31:07Z",
    "slots_available": 5,
}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    key = sim.vendors[API].credentials()["api_key"]
    async with httpx.AsyncClient(
        base_url=sim.base_url(API), headers={"X-API-Key": key}, trust_env=False, verify=False
    ) as client:
        yield client


async def rows(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    r = await http.get(TARGETS, params={"limit": 200, **params})
    assert r.status_code == 200
    return list(r.json()["targets"])


def assert_error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status
    error: dict[str, Any] = r.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


# ----- documented shapes --------------------------------------------------------------------
async def test_list_rows_carry_every_documented_field(http: httpx.AsyncClient) -> None:
    r = await http.get(TARGETS)
    body = r.json()
    assert set(body) == {"targets", "meta"}
    assert {"slots_available", "slots_total", "total"} <= set(body["meta"])
    assert body["meta"] == {"slots_available": 2, "slots_total": 5, "total": 12}
    for row in body["targets"]:
        assert set(row) >= ROW_FIELDS
        assert row["target_id"].startswith("tgt_") and len(row["target_id"]) == 16
        assert row["end_time"] > row["start_time"]


async def test_stop_answer_has_exactly_the_documented_fields(http: httpx.AsyncClient) -> None:
    active = (await rows(http, status="ACTIVE"))[0]
    r = await http.post(f"{TARGETS}/{active['target_id']}/stop")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == set(STOP_SAMPLE)
    assert (body["status"], body["resolution_reason"], body["slots_available"]) == (
        "STOPPED",
        "manual_stop",
        3,
    )


async def test_list_is_newest_first_and_filters(http: httpx.AsyncClient) -> None:
    everything = await rows(http)
    created = [row["created_at"] for row in everything]
    assert created == sorted(created, reverse=True)
    assert {row["status"] for row in await rows(http, status="CREATED")} == {"CREATED"}
    ticker = everything[0]["ticker"]
    assert {row["ticker"] for row in await rows(http, ticker=ticker.lower())} == {ticker}
    page = await http.get(TARGETS, params={"limit": 5, "offset": 10})
    assert [row["target_id"] for row in page.json()["targets"]] == [
        row["target_id"] for row in everything[10:15]
    ]
    assert (await http.get(TARGETS)).json()["meta"]["total"] == 12
    assert len((await http.get(TARGETS)).json()["targets"]) == 12  # default limit 50


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"offset": -1}, {"status": "PAUSED"}]
)
async def test_bad_list_parameters_are_400(http: httpx.AsyncClient, params: dict[str, Any]) -> None:
    assert_error(await http.get(TARGETS, params=params), 400, "VALIDATION_ERROR")


# ----- auth -----------------------------------------------------------------------------------
async def test_missing_or_wrong_key_is_401_in_the_envelope(sim: SimServer) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url(API), trust_env=False, verify=False) as anon:
        error = assert_error(await anon.get(TARGETS), 401, "UNAUTHORIZED")
        assert error["message"] == "Missing or invalid API key"
        wrong = {"X-API-Key": "0" * 32}
        assert_error(await anon.post(f"{TARGETS}/tgt_x/stop", headers=wrong), 401, "UNAUTHORIZED")
    assert sim_counters(sim, API)["401"] == 2


async def test_key_in_the_query_is_accepted(sim: SimServer) -> None:
    key = sim.vendors[API].credentials()["api_key"]
    async with httpx.AsyncClient(base_url=sim.base_url(API), trust_env=False, verify=False) as anon:
        r = await anon.get(TARGETS, params={"apiKey": key})
    assert r.status_code == 200


# ----- stop -----------------------------------------------------------------------------------
async def test_stop_is_idempotent_with_the_original_body(http: httpx.AsyncClient) -> None:
    active = (await rows(http, status="ACTIVE"))[0]
    first = (await http.post(f"{TARGETS}/{active['target_id']}/stop")).json()
    again = await http.post(f"{TARGETS}/{active['target_id']}/stop")
    assert again.status_code == 200
    assert again.json() == first


async def test_stop_of_an_expired_target_keeps_its_reason(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    expired = next(r for r in await rows(http) if r["resolution_reason"] == "window_expired")
    r = await http.post(f"{TARGETS}/{expired['target_id']}/stop")
    assert r.status_code == 200
    assert r.json()["resolution_reason"] == "window_expired"
    assert r.json()["stopped_at"] == expired["stopped_at"] == expired["end_time"]


async def test_stop_unknown_or_foreign_target_is_404(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    assert_error(await http.post(f"{TARGETS}/tgt_000000000000/stop"), 404, "NOT_FOUND")
    foreign = sim_admin(sim, API, "foreign_target")["target_id"]
    assert_error(await http.post(f"{TARGETS}/{foreign}/stop"), 404, "NOT_FOUND")
    assert sim_admin(sim, API, "target", target_id=foreign)["status"] == "ACTIVE"


# ----- create ---------------------------------------------------------------------------------
async def test_create_now_is_active_and_later_is_created(http: httpx.AsyncClient) -> None:
    now = await http.post(TARGETS, json={"ticker": "brk.a", "form_types": ["8-K"]})
    assert now.status_code == 201
    assert (now.json()["ticker"], now.json()["status"], now.json()["slots_available"]) == (
        "BRK-A",
        "ACTIVE",
        1,
    )
    later = await http.post(
        TARGETS,
        json={"ticker": "AAPL", "start_time": "2999-01-01T00:00:00Z", "duration_minutes": 30},
    )
    assert later.json()["status"] == "CREATED"
    assert later.json()["end_time"] == "2999-01-01T00:30:00Z"
    assert (await rows(http))[0]["target_id"] == later.json()["target_id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ticker": "AAPL.MX"}, "UNKNOWN_TICKER"),
        ({}, "VALIDATION_ERROR"),
        ({"ticker": "AAPL", "duration_minutes": 0}, "VALIDATION_ERROR"),
        ({"ticker": "AAPL", "duration_minutes": 1441}, "VALIDATION_ERROR"),
        (
            {"ticker": "AAPL", "duration_minutes": 60, "end_time": "2999-01-01T00:00:00Z"},
            "VALIDATION_ERROR",
        ),
        ({"ticker": "AAPL", "form_types": "10-K"}, "VALIDATION_ERROR"),
    ],
)
async def test_bad_create_is_400(http: httpx.AsyncClient, body: dict[str, Any], code: str) -> None:
    assert_error(await http.post(TARGETS, json=body), 400, code)


async def test_create_without_a_free_slot_is_402(http: httpx.AsyncClient) -> None:
    for _ in range(2):
        assert (await http.post(TARGETS, json={"ticker": "TSLA"})).status_code == 201
    error = assert_error(
        await http.post(TARGETS, json={"ticker": "TSLA"}), 402, "SNIPER_SLOTS_EXHAUSTED"
    )
    assert (error["slots_total"], error["slots_available"], error["plan"]) == (5, 0, "paid")
    scheduled = await http.post(
        TARGETS, json={"ticker": "TSLA", "start_time": "2999-01-01T00:00:00Z"}
    )
    assert scheduled.status_code == 201  # a CREATED target uses no slot yet


# ----- rate limit and fault envelopes ---------------------------------------------------------
async def test_121st_request_in_a_minute_is_429_with_retry_after(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    for _ in range(120):
        assert (await http.get(TARGETS, params={"limit": 1})).status_code == 200
    r = await http.get(TARGETS)
    error = assert_error(r, 429, "RATE_LIMITED")
    assert "120 requests per minute" in error["message"]
    assert 0 < float(r.headers["Retry-After"]) <= 60
    set_knobs(sim, API, rate_limits=False)
    assert (await http.get(TARGETS)).status_code == 200


@pytest.mark.parametrize(
    ("knobs", "status", "code"),
    [
        ({"error_rate": 1.0}, 500, "INTERNAL_ERROR"),
        ({"down": True}, 503, "SERVICE_UNAVAILABLE"),
        ({"burst_429": 1}, 429, "RATE_LIMITED"),
    ],
)
async def test_fault_knobs_answer_in_the_vendor_envelope(
    sim: SimServer, http: httpx.AsyncClient, knobs: dict[str, Any], status: int, code: str
) -> None:
    set_knobs(sim, API, **knobs)
    r = await http.get(TARGETS)
    assert_error(r, status, code)
    if status == 429:
        assert float(r.headers["Retry-After"]) > 0


async def test_unknown_status_rate_reports_an_unknown_word(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, unknown_status_rate=1.0)
    assert {row["status"] for row in await rows(http)} == {"SUSPENDED"}
    set_knobs(sim, API, unknown_status_rate=0.0)
    assert "SUSPENDED" not in {row["status"] for row in await rows(http)}


# ----- admin ----------------------------------------------------------------------------------
async def test_admin_fire_and_errors(sim: SimServer, http: httpx.AsyncClient) -> None:
    active = (await rows(http, status="ACTIVE"))[0]
    fired = sim_admin(sim, API, "fire", target_id=active["target_id"])
    assert (fired["status"], fired["resolution_reason"]) == ("STOPPED", "filing_hit")
    assert fired["filing_uuid"]
    assert fired["last_event"]["accession_number"]
    root = sim.root_url(API)
    async with httpx.AsyncClient(base_url=root, trust_env=False, verify=False) as admin:
        again = await admin.post("/_sim/admin/fire", json={"target_id": active["target_id"]})
        assert again.status_code == 400  # only an ACTIVE sniper can fire
        missing = await admin.post("/_sim/admin/fire", json={"target_id": "tgt_nope"})
        assert missing.status_code == 404
        unknown = await admin.post("/_sim/admin/explode", json={})
        assert unknown.status_code == 404
