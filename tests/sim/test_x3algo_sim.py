"""The x3algo simulator against the documented contract (CONTRACTS.md section 2).

These talk to the simulator over real loopback HTTP with plain httpx, never through the
console's client, so a misreading shared by both sides cannot hide here.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from console.sim.kit.context import SimClock, VendorContext
from console.sim.server import SimServer
from console.sim.x3algo.api import X3AlgoSim
from tests.sim import x3algo_http
from tests.sim.x3algo_http import ALGOS, login
from tests.support import set_knobs, sim_admin, sim_counters
from tests.x3algo_samples import LIST_SAMPLE, STOP_SAMPLE

ERROR_SAMPLE = {
    "error": {
        "message": "Human-readable error message",
        "code": "ERROR_CODE",
        "status": 400,
        "details": {},
        "requestId": "abc-123-def",
    }
}
# GET /api/trading/algorithms/:id, the documented field list of the full object.
FULL_FIELDS = {
    "id",
    "userId",
    "name",
    "status",
    "active",
    "strategyType",
    "timeframe",
    "symbols",
    "positionSizing",
    "entryConditions",
    "exitConditions",
    "riskParameters",
    "executionSettings",
    "performance",
    "createdAt",
    "updatedAt",
    "lastExecution",
}
FULL_SUBFIELDS = {
    "positionSizing": {"method", "riskPercentage", "stopLossPercentage"},
    "entryConditions": {"positionType", "logicalOperator", "confirmationCandles", "conditions"},
    "exitConditions": {"stopLoss", "takeProfit"},
    "riskParameters": {
        "maxPositionSize",
        "stopLoss",
        "takeProfit",
        "maxDailyLoss",
        "maxOpenPositions",
        "riskRewardRatio",
    },
    "executionSettings": {"mode", "exchange", "orderType", "slippage"},
    "performance": {
        "totalTrades",
        "winningTrades",
        "losingTrades",
        "totalProfit",
        "totalLoss",
        "winRate",
        "profitFactor",
        "sharpeRatio",
        "maxDrawdown",
        "averageWin",
        "averageLoss",
    },
    "lastExecution": {"timestamp", "status", "result"},
}
STRATEGY_TYPES = {
    "scalping",
    "swing",
    "position",
    "arbitrage",
    "market_making",
    "momentum",
    "mean_reversion",
    "trend",
}
TIMEFRAMES = {"1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",)}


http = x3algo_http.http


async def test_login_answers_token_and_documented_refresh_cookie(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    r = await http.post("/api/auth/login", json=sim.vendors["x3algo"].credentials())
    assert r.status_code == 200
    body = r.json()
    assert body["expiresIn"] == 900
    assert body["accessToken"].count(".") == 2  # JWT-shaped
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("refreshToken=")
    for part in ("HttpOnly", "Secure", "SameSite=Strict", "Max-Age=604800"):
        assert part in cookie


async def test_wrong_password_is_401_unauthorized_in_the_envelope(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    creds = {**sim.vendors["x3algo"].credentials(), "password": "not-the-password"}
    r = await http.post("/api/auth/login", json=creds)
    assert r.status_code == 401
    err = r.json()["error"]
    assert set(err) == set(ERROR_SAMPLE["error"])
    assert (err["code"], err["status"], err["message"]) == (
        "UNAUTHORIZED",
        401,
        "Invalid credentials",
    )


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "UNAUTHORIZED"),
        ("Basic abc", "UNAUTHORIZED"),
        ("Bearer not.a.token", "INVALID_TOKEN"),
        ("Bearer garbage", "INVALID_TOKEN"),
    ],
)
async def test_missing_or_bad_bearer_is_refused_with_its_code(
    http: httpx.AsyncClient, header: str | None, code: str
) -> None:
    headers = {"Authorization": header} if header else {}
    r = await http.get(ALGOS, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code


async def test_expire_tokens_then_refresh_cookie_gives_a_working_token(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    r = await http.post("/api/auth/login", json=sim.vendors["x3algo"].credentials())
    old = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    refresh = r.headers["set-cookie"].split(";", 1)[0]
    sim_admin(sim, "x3algo", "expire_tokens")
    expired = await http.get(ALGOS, headers=old)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "TOKEN_EXPIRED"
    r2 = await http.post("/api/auth/refresh-token", headers={"Cookie": refresh})
    assert r2.status_code == 200
    assert r2.json()["expiresIn"] == 900
    new = {"Authorization": f"Bearer {r2.json()['accessToken']}"}
    assert (await http.get(ALGOS, headers=new)).status_code == 200


async def test_refresh_without_cookie_or_after_revocation_is_401(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    r = await http.post("/api/auth/login", json=sim.vendors["x3algo"].credentials())
    refresh = r.headers["set-cookie"].split(";", 1)[0]
    assert (await http.post("/api/auth/refresh-token")).status_code == 401
    sim_admin(sim, "x3algo", "revoke_refresh_tokens")
    r2 = await http.post("/api/auth/refresh-token", headers={"Cookie": refresh})
    assert r2.status_code == 401
    assert r2.json()["error"]["code"] == "TOKEN_EXPIRED"


async def test_list_items_carry_every_documented_field(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    r = await http.get(ALGOS, headers=headers)
    body = r.json()
    assert set(body) >= set(LIST_SAMPLE)
    assert set(body["pagination"]) >= set(LIST_SAMPLE["pagination"])
    sample_item = LIST_SAMPLE["data"][0]
    for item in body["data"]:
        assert set(item) >= set(sample_item)
        assert set(item["performance"]) >= set(sample_item["performance"])
        assert len(item["id"]) == 24 and int(item["id"], 16) >= 0
        assert item["strategyType"] in STRATEGY_TYPES
        assert item["timeframe"] in TIMEFRAMES
        assert all(":" in s for s in item["symbols"])
        assert item["active"] == (item["status"] == "active")
        assert item["createdAt"].endswith("Z")
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 40, "totalPages": 2}


async def test_full_object_carries_every_documented_field(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    some = sim_admin(sim, "x3algo", "ids", status="active")[0]
    full = (await http.get(f"{ALGOS}/{some}", headers=headers)).json()
    assert set(full) >= FULL_FIELDS
    for name, fields in FULL_SUBFIELDS.items():
        assert set(full[name]) >= fields, name


async def test_world_holds_the_documented_cases(http: httpx.AsyncClient, sim: SimServer) -> None:
    headers = await login(http, sim)
    statuses = []
    for page in (1, 2):
        r = await http.get(ALGOS, params={"page": page, "limit": 20}, headers=headers)
        statuses += [a["status"] for a in r.json()["data"]]
    assert len(statuses) == 40
    assert statuses.count("draft") == 1
    assert statuses.count("error") == 1
    assert statuses.count("active") > 20
    assert statuses.count("paused") >= 1
    assert statuses.count("stopped") >= 2


async def test_list_filters_sorts_and_pages(http: httpx.AsyncClient, sim: SimServer) -> None:
    headers = await login(http, sim)
    paused = (await http.get(ALGOS, params={"status": "paused"}, headers=headers)).json()
    assert paused["data"] and {a["status"] for a in paused["data"]} == {"paused"}
    by_name = (
        await http.get(
            ALGOS, params={"sort": "name", "order": "asc", "limit": 100}, headers=headers
        )
    ).json()["data"]
    names = [a["name"] for a in by_name]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    momentum = (await http.get(ALGOS, params={"strategyType": "momentum"}, headers=headers)).json()
    assert {a["strategyType"] for a in momentum["data"]} <= {"momentum"}
    too_big = await http.get(ALGOS, params={"limit": 101}, headers=headers)
    assert too_big.status_code == 400
    assert too_big.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_stop_and_start_follow_the_state_machine(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    algo = sim_admin(sim, "x3algo", "ids", status="active")[0]
    stopped = await http.post(f"{ALGOS}/{algo}/stop", headers=headers)
    assert stopped.status_code == 200
    assert set(stopped.json()) == set(STOP_SAMPLE)
    assert stopped.json()["status"] == "stopped" and stopped.json()["active"] is False
    again = await http.post(f"{ALGOS}/{algo}/stop", headers=headers)
    assert again.status_code == 422
    assert again.json()["error"]["message"] == "Algorithm not active"
    started = await http.post(f"{ALGOS}/{algo}/start", headers=headers)
    assert started.json() | {"id": "", "name": ""} == {
        "id": "",
        "name": "",
        "status": "active",
        "active": True,
        "message": "Algorithm started successfully",
    }
    twice = await http.post(f"{ALGOS}/{algo}/start", headers=headers)
    assert (twice.status_code, twice.json()["error"]["message"]) == (
        422,
        "Algorithm already active",
    )


async def test_paused_algorithm_can_be_stopped(http: httpx.AsyncClient, sim: SimServer) -> None:
    headers = await login(http, sim)
    algo = sim_admin(sim, "x3algo", "ids", status="paused")[0]
    r = await http.post(f"{ALGOS}/{algo}/stop", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "stopped"


async def test_draft_start_is_400_with_missing_fields(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    draft = sim_admin(sim, "x3algo", "special")["draft"]
    r = await http.post(f"{ALGOS}/{draft}/start", headers=headers)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"]["missingFields"]


async def test_daily_loss_start_is_403_with_documented_details(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    algo = sim_admin(sim, "x3algo", "special")["daily_loss"]
    r = await http.post(f"{ALGOS}/{algo}/start", headers=headers)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "FORBIDDEN"
    assert err["message"] == "Daily loss limit reached. Cannot start algorithm."
    assert err["details"]["dailyLoss"] == err["details"]["limit"]


async def test_foreign_algorithm_is_403_on_get_and_unknown_is_404(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    foreign = sim_admin(sim, "x3algo", "special")["foreign"]
    assert (await http.get(f"{ALGOS}/{foreign}", headers=headers)).status_code == 403
    missing = await http.get(f"{ALGOS}/{'0' * 24}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Algorithm not found"
    stop = await http.post(f"{ALGOS}/{'0' * 24}/stop", headers=headers)
    assert stop.status_code == 404


async def test_every_answer_carries_rate_limit_headers_per_bucket(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    r = await http.post("/api/auth/login", json=sim.vendors["x3algo"].credentials())
    assert r.headers["x-ratelimit-limit"] == "5"
    headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    listed = await http.get(ALGOS, headers=headers)
    assert listed.headers["x-ratelimit-limit"] == "1000"
    assert int(listed.headers["x-ratelimit-reset"]) >= int(time.time())
    algo = sim_admin(sim, "x3algo", "ids", status="active")[0]
    stopped = await http.post(f"{ALGOS}/{algo}/stop", headers=headers)
    assert stopped.headers["x-ratelimit-limit"] == "100"
    assert stopped.headers["x-ratelimit-remaining"] == "99"
    refused = await http.get(ALGOS)
    assert "x-ratelimit-remaining" in refused.headers


async def test_sixth_login_in_the_window_is_429_too_many_requests(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    creds = sim.vendors["x3algo"].credentials()
    for _ in range(5):
        assert (await http.post("/api/auth/login", json=creds)).status_code == 200
    r = await http.post("/api/auth/login", json=creds)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert r.json()["error"]["message"] == "Rate limit exceeded"
    assert float(r.headers["retry-after"]) > 0
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert sim_counters(sim, "x3algo")["429"] == 1


async def test_fault_middleware_errors_use_the_vendor_envelope(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    set_knobs(sim, "x3algo", burst_429=1)
    r = await http.get(ALGOS)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "TOO_MANY_REQUESTS"
    assert "retry-after" in r.headers
    set_knobs(sim, "x3algo", down=True)
    down = await http.get(ALGOS)
    assert down.status_code == 503
    assert down.json()["error"]["status"] == 503


async def test_unknown_status_rate_reports_a_status_nobody_knows(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    set_knobs(sim, "x3algo", unknown_status_rate=1.0)
    data = (await http.get(ALGOS, params={"limit": 100}, headers=headers)).json()["data"]
    assert {a["status"] for a in data} == {"hibernating"}
    set_knobs(sim, "x3algo", unknown_status_rate=0.25)
    data = (await http.get(ALGOS, params={"limit": 100}, headers=headers)).json()["data"]
    odd = sum(a["status"] == "hibernating" for a in data)
    assert 0 < odd < len(data)


async def test_admin_tick_moves_profit_and_trades(http: httpx.AsyncClient, sim: SimServer) -> None:
    headers = await login(http, sim)
    before = (await http.get(ALGOS, params={"limit": 100}, headers=headers)).json()["data"]
    moved = sim_admin(sim, "x3algo", "tick", seconds=60)
    assert moved["trades"] > 0
    after = (await http.get(ALGOS, params={"limit": 100}, headers=headers)).json()["data"]
    trades = lambda rows: sum(a["performance"]["totalTrades"] for a in rows)  # noqa: E731
    assert trades(after) == trades(before) + moved["trades"]


def _world(seed: int, scale: int, frozen: float) -> X3AlgoSim:
    ctx = VendorContext(name="x3algo", seed=seed, scale=scale, clock=SimClock(frozen))
    return X3AlgoSim(ctx)


def test_same_seed_and_frozen_clock_give_identical_worlds() -> None:
    a, b = _world(7, 1, 1.7e9), _world(7, 1, 1.7e9)
    dump = lambda s: json.dumps(  # noqa: E731
        [x.full(x.status, s.ctx.clock) for x in s.world.by_created], sort_keys=True
    )
    assert dump(a) == dump(b)
    assert dump(a) != dump(_world(8, 1, 1.7e9))
    assert a.credentials() == b.credentials()


def test_scale_multiplies_the_world_and_keeps_ids_unique() -> None:
    big = _world(7, 100, 1.7e9)
    assert big.target_count() == 4000
    ids = [a.id for a in big.world.by_created]
    assert len(set(ids)) == 4000
    drafts = sum(a.status == "draft" for a in big.world.by_created)
    assert drafts == 100


@pytest.fixture
def frozen_options() -> dict[str, Any]:
    return {"frozen_at": 1.7e9}


async def test_frozen_clock_gives_byte_identical_answers(frozen_options: dict[str, Any]) -> None:
    bodies = []
    for _ in range(2):
        server = SimServer(seed=7, motion=False, vendors=("x3algo",), **frozen_options)
        server.start_in_thread()
        try:
            async with httpx.AsyncClient(
                base_url=server.base_url("x3algo"), trust_env=False, verify=False
            ) as client:
                headers = await login(client, server)
                r = await client.get(ALGOS, params={"limit": 100}, headers=headers)
                some = r.json()["data"][0]["id"]
                full = await client.get(f"{ALGOS}/{some}", headers=headers)
                bodies.append(r.content + full.content + headers["Authorization"].encode())
        finally:
            server.stop_thread()
    assert bodies[0] == bodies[1]
