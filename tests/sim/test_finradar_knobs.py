"""The simulated FinRadar's own hostile knobs, over real HTTP with a plain client: what
each one makes the venue answer (the client's side is tests/venues/test_finradar_hostile.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from console.sim.finradar.api import ESCAPE_PREFIX, ESCAPE_SUFFIX, IMPOSSIBLE_STATUS
from console.sim.server import SimServer
from tests.support import set_knobs

API = "finradar"
TARGETS = "/api/v1/sniper/targets"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
def key(sim: SimServer) -> str:
    return str(sim.vendors[API].credentials()["api_key"])


@pytest.fixture
async def http(sim: SimServer, key: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.base_url(API), headers={"X-API-Key": key}, trust_env=False, verify=False
    ) as client:
        yield client


async def page(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    r = await http.get(TARGETS, params=params)
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


async def test_knobs_off_the_world_is_as_documented(http: httpx.AsyncClient) -> None:
    body = await page(http, limit=200)
    assert len(body["targets"]) == body["meta"]["total"] == 12
    assert all(isinstance(row["status"], str) for row in body["targets"])
    assert not {".", ".."} & {row["target_id"] for row in body["targets"]}


async def test_endless_pages_are_always_full_fresh_and_never_end(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, endless_pages=True)
    seen: set[str] = set()
    for offset in range(0, 5000, 1000):
        body = await page(http, limit=200, offset=offset)
        ids = {row["target_id"] for row in body["targets"]}
        assert len(ids) == 200 and not ids & seen
        assert body["meta"]["total"] > offset + 200
        seen |= ids
    first = await page(http, limit=5, offset=0)
    assert [r["status"] for r in first["targets"]] != ["STOPPED"] * 5  # real targets first
    tail = await page(http, limit=5, offset=10)  # the last 2 real ones, then phantoms
    assert len(tail["targets"]) == 5
    assert [r["target_id"].startswith("tgt_endless") for r in tail["targets"]] == [
        False, False, True, True, True,
    ]  # fmt: skip


async def test_echo_secret_quotes_the_key_in_every_error(
    sim: SimServer, http: httpx.AsyncClient, key: str
) -> None:
    set_knobs(sim, API, echo_secret=True)
    missing = await http.post(f"{TARGETS}/tgt_000000000000/stop")
    assert missing.status_code == 404
    assert key in missing.json()["error"]["message"]
    assert missing.json()["request"]["headers"]["X-API-Key"] == key
    set_knobs(sim, API, error_rate=1.0)
    assert key in (await http.get(TARGETS)).text
    set_knobs(sim, API, error_rate=0.0, burst_429=1)
    assert key in (await http.get(TARGETS)).text
    async with httpx.AsyncClient(base_url=sim.base_url(API), trust_env=False, verify=False) as anon:
        wrong = await anon.get(TARGETS, headers={"X-API-Key": "not-the-key-123"})
    assert wrong.status_code == 401
    assert "not-the-key-123" in wrong.json()["error"]["message"]
    assert key not in wrong.text  # it echoes what it was sent, not someone else's key
    set_knobs(sim, API, echo_secret=False)
    assert key not in (await http.post(f"{TARGETS}/tgt_000000000000/stop")).text


async def test_bad_row_breaks_exactly_the_newest_active_row(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    before = (await page(http, limit=200))["targets"]
    set_knobs(sim, API, bad_row=True)
    after = (await page(http, limit=200))["targets"]
    changed = [(b, a) for b, a in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1
    was, now = changed[0]
    assert was["status"] == "ACTIVE"
    assert was == next(r for r in before if r["status"] == "ACTIVE")  # the newest one
    assert now == {**was, "status": IMPOSSIBLE_STATUS}


async def test_dot_ids_are_listed_and_a_percent_encoded_stop_lands(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    set_knobs(sim, API, dot_ids=True)
    body = await page(http, limit=200)
    listed = {row["target_id"]: row for row in body["targets"]}
    assert listed["."]["status"] == listed[".."]["status"] == "ACTIVE"
    assert body["meta"]["total"] == 14
    r = await http.post(f"{TARGETS}/%2E%2E/stop")
    assert r.status_code == 200
    assert (r.json()["target_id"], r.json()["status"]) == ("..", "STOPPED")
    again = {row["target_id"]: row for row in (await page(http, limit=200))["targets"]}
    assert again[".."]["status"] == "STOPPED" and again["."]["status"] == "ACTIVE"
    set_knobs(sim, API, dot_ids=False)
    assert len((await page(http, limit=200))["targets"]) == 12


async def test_escape_names_wrap_every_ticker_and_the_filter_still_finds_it(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    plain = (await page(http, limit=200))["targets"]
    set_knobs(sim, API, escape_names=True)
    escaped = (await page(http, limit=200))["targets"]
    assert [r["ticker"] for r in escaped] == [
        f"{ESCAPE_PREFIX}{r['ticker']}{ESCAPE_SUFFIX}" for r in plain
    ]
    by_plain = (await page(http, ticker=plain[0]["ticker"]))["targets"]
    by_escaped = (await page(http, ticker=escaped[0]["ticker"]))["targets"]
    assert plain[0]["target_id"] in {r["target_id"] for r in by_plain}
    assert by_plain == by_escaped
