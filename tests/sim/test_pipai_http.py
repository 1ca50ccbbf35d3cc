"""The PipAI simulator over real loopback HTTP and WebSocket, driven by a raw client.

Requests are signed here with ``hmac`` directly (neither the client's signer nor the
simulator's verifier), so these tests pin the simulator to the contract's words.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from console.sim.server import SimServer
from tests.support import set_knobs, sim_admin, sim_counters


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("pipai",)}  # the other four simulated vendors are not needed here


STRATEGY_FIELDS = {
    "id",
    "name",
    "template_id",
    "params",
    "symbols",
    "timeframe",
    "capital",
    "leverage",
    "status",
    "deployed_at",
    "created_at",
    "updated_at",
    "stats",
}
STATS_FIELDS = {"open_positions", "total_pnl", "total_trades", "win_rate"}


_HTTP = httpx.Client(
    trust_env=False, verify=False
)  # one pool: a client per call would dominate run time


@pytest.fixture(scope="session", autouse=True)
def _close_http() -> Iterator[None]:
    """Closed once, at the end: tests/sim/test_pipai_hostile_sim.py calls through it too,
    and the suite interleaves modules (tests/conftest.py)."""
    yield
    _HTTP.close()


def _sign(secret: str, ts: str, method: str, target: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), (ts + method + target).encode() + body, hashlib.sha256
    ).hexdigest()


def call(
    sim: SimServer,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    creds: dict[str, str] | None = None,
    ts: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    creds = creds or sim.vendors["pipai"].credentials()
    ts = ts or str(int(time.time() * 1000))
    signed = {
        "X-PipAI-API-Key": creds["api_key"],
        "X-PipAI-Timestamp": ts,
        "X-PipAI-Signature": _sign(creds["api_secret"], ts, method, target, body),
    }
    return _HTTP.request(
        method,
        sim.base_url("pipai") + target,
        content=body or None,
        headers=headers if headers is not None else signed,
    )


def first_with(sim: SimServer, status: str) -> dict[str, Any]:
    return next(s for s in sim_admin(sim, "pipai", "strategies") if s["status"] == status)


async def test_get_and_list_carry_every_documented_field(sim: SimServer) -> None:
    listing = call(sim, "GET", "/v1/strategies").json()
    assert set(listing) == {"data", "next_cursor"}
    assert len(listing["data"]) == 20  # documented default limit
    for item in listing["data"]:
        assert set(item) == STRATEGY_FIELDS
        assert set(item["stats"]) == STATS_FIELDS
    one = call(sim, "GET", f"/v1/strategies/{listing['data'][0]['id']}").json()
    assert one == listing["data"][0]


async def test_list_pages_with_the_signed_query_and_filters(sim: SimServer) -> None:
    ids: list[str] = []
    target = "/v1/strategies?limit=8"
    while True:
        page = call(sim, "GET", target).json()
        ids.extend(item["id"] for item in page["data"])
        if page["next_cursor"] is None:
            break
        target = f"/v1/strategies?limit=8&cursor={page['next_cursor']}"
    assert len(ids) == len(set(ids)) == 30
    paused = call(sim, "GET", "/v1/strategies?status=paused&limit=100").json()["data"]
    assert paused and {p["status"] for p in paused} == {"paused"}
    grid = call(sim, "GET", "/v1/strategies?template_id=tpl_grid&limit=100").json()["data"]
    assert {g["template_id"] for g in grid} == {"tpl_grid"}


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=ten", "status=sleeping", "cursor=%%%"]
)
async def test_bad_list_parameters_are_400_invalid_parameter(sim: SimServer, query: str) -> None:
    r = call(sim, "GET", f"/v1/strategies?{query}")
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_PARAMETER"


async def test_signature_must_cover_the_query_string(sim: SimServer) -> None:
    creds = sim.vendors["pipai"].credentials()
    ts = str(int(time.time() * 1000))
    headers = {
        "X-PipAI-API-Key": creds["api_key"],
        "X-PipAI-Timestamp": ts,
        "X-PipAI-Signature": _sign(creds["api_secret"], ts, "GET", "/v1/strategies", b""),
    }
    r = call(sim, "GET", "/v1/strategies?limit=5", headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "code": "INVALID_SIGNATURE",
        "message": "Request signature did not match expected value",
    }


async def test_auth_failures_use_the_documented_codes(sim: SimServer) -> None:
    missing = call(sim, "GET", "/v1/strategies", headers={})
    assert (missing.status_code, missing.json()["code"]) == (401, "INVALID_SIGNATURE")
    stale = call(sim, "GET", "/v1/strategies", ts=str(int(time.time() * 1000) - 301_000))
    assert (stale.status_code, stale.json()["code"]) == (401, "INVALID_SIGNATURE")
    wrong = {"api_key": sim.vendors["pipai"].credentials()["api_key"], "api_secret": "nope"}
    assert call(sim, "GET", "/v1/strategies", creds=wrong).status_code == 401
    readonly = sim_admin(sim, "pipai", "add_key", permission="read-only")
    sid = first_with(sim, "deployed")["id"]
    assert call(sim, "GET", f"/v1/strategies/{sid}", creds=readonly).status_code == 200
    refused = call(sim, "POST", f"/v1/strategies/{sid}/pause", b"{}", creds=readonly)
    assert (refused.status_code, refused.json()["code"]) == (403, "INSUFFICIENT_PERMISSION")
    sim_admin(sim, "pipai", "expire_key", api_key=readonly["api_key"])
    expired = call(sim, "GET", f"/v1/strategies/{sid}", creds=readonly)
    assert (expired.status_code, expired.json()["code"]) == (401, "KEY_EXPIRED")


async def test_pause_deploy_state_machine(sim: SimServer) -> None:
    sid = first_with(sim, "deployed")["id"]
    sim_admin(sim, "pipai", "set_positions", id=sid, count=2)
    paused = call(sim, "POST", f"/v1/strategies/{sid}/pause", b'{"close_positions":false}')
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["stats"]["open_positions"] == 2
    again = call(sim, "POST", f"/v1/strategies/{sid}/pause", b'{"close_positions":true}')
    assert (again.status_code, again.json()["code"]) == (409, "INVALID_STATE")
    deployed = call(sim, "POST", f"/v1/strategies/{sid}/deploy", b"{}")
    assert deployed.json()["status"] == "deployed"
    assert deployed.json()["deployed_at"] == deployed.json()["updated_at"]
    twice = call(sim, "POST", f"/v1/strategies/{sid}/deploy", b"{}")
    assert (twice.status_code, twice.json()["code"]) == (409, "INVALID_STATE")
    for status in ("draft", "stopped", "error"):
        other = first_with(sim, status)["id"]
        r = call(sim, "POST", f"/v1/strategies/{other}/pause")
        assert (r.status_code, r.json()["code"]) == (409, "INVALID_STATE")
    draft = first_with(sim, "draft")["id"]
    assert call(sim, "POST", f"/v1/strategies/{draft}/deploy", b"{}").status_code == 200
    assert call(sim, "POST", f"/v1/strategies/{sid}/stop").status_code == 404  # no stop [GAP]
    gone = call(sim, "POST", "/v1/strategies/strat_000000/pause")
    assert (gone.status_code, gone.json()["code"]) == (404, "NOT_FOUND")
    bad = call(sim, "POST", f"/v1/strategies/{sid}/pause", b'{"close_positions":"yes"}')
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_PARAMETER")


async def test_weight_budget_answers_429_with_retry_after(sim: SimServer) -> None:
    set_knobs(sim, "pipai", rate_scale=100.0)  # a long window: the budget cannot refill
    sid = first_with(sim, "deployed")["id"]
    statuses = [
        call(sim, "POST", f"/v1/strategies/{sid}/deploy", b"{}").status_code for _ in range(121)
    ]
    assert statuses[:120] == [409] * 120  # 120 × weight 10 = the 1,200 budget
    assert statuses[120] == 429
    r = call(sim, "GET", f"/v1/strategies/{sid}")
    assert r.status_code == 429
    assert r.json()["code"] == "RATE_LIMITED"
    assert float(r.headers["Retry-After"]) > 0
    assert sim_counters(sim, "pipai")["429"] == 2


async def test_fault_envelopes_are_pipais(sim: SimServer) -> None:
    set_knobs(sim, "pipai", error_rate=1.0)
    r = call(sim, "GET", "/v1/strategies")
    assert (r.status_code, r.json()["code"]) == (500, "INTERNAL_ERROR")
    set_knobs(sim, "pipai", error_rate=0.0, burst_429=1)
    r = call(sim, "GET", "/v1/strategies")
    assert (r.status_code, r.json()["code"]) == (429, "RATE_LIMITED")
    assert "Retry-After" in r.headers


# ----- WebSocket ------------------------------------------------------------------------
def auth_frame(sim: SimServer, secret: str | None = None) -> str:
    creds = sim.vendors["pipai"].credentials()
    ts = str(int(time.time() * 1000))
    sig = _sign(secret or creds["api_secret"], ts, "GET", "/v1/ws", b"")
    return json.dumps(
        {"op": "auth", "api_key": creds["api_key"], "timestamp": int(ts), "signature": sig}
    )


async def recv(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(5):
        return dict(json.loads(await ws.recv()))


async def subscribed(sim: SimServer, target: str = "*") -> ClientConnection:
    ws = await connect(str(sim.ws_url("pipai")), proxy=None, max_queue=None)
    await ws.send(auth_frame(sim))
    assert await recv(ws) == {"op": "auth", "ok": True}
    await ws.send(json.dumps({"op": "subscribe", "channel": "strategy.status", "id": target}))
    ack = await recv(ws)
    assert ack == {"op": "ack", "channel": "strategy.status", "id": target, "ok": True}
    return ws


async def test_ws_bad_signature_is_refused_then_closed(sim: SimServer) -> None:
    async with connect(str(sim.ws_url("pipai")), proxy=None) as ws:
        await ws.send(auth_frame(sim, secret="wrong"))
        reply = await recv(ws)
        assert reply["op"] == "auth"
        assert reply["ok"] is False
        assert reply["code"] == "INVALID_SIGNATURE"
        with pytest.raises(ConnectionClosed):
            await recv(ws)


async def test_ws_signed_url_auth_is_accepted(sim: SimServer) -> None:
    creds = sim.vendors["pipai"].credentials()
    ts = str(int(time.time() * 1000))
    sig = _sign(creds["api_secret"], ts, "GET", "/v1/ws", b"")
    url = f"{sim.ws_url('pipai')}?api_key={creds['api_key']}&timestamp={ts}&signature={sig}"
    async with connect(url, proxy=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "channel": "strategy.status", "id": "*"}))
        assert (await recv(ws))["ok"] is True


async def test_ws_unauthenticated_connection_is_closed(sim: SimServer) -> None:
    sim_admin(sim, "pipai", "auth", ws_auth_timeout_s=0.2)
    async with connect(str(sim.ws_url("pipai")), proxy=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


async def test_ws_pause_with_close_sends_position_closes_first(sim: SimServer) -> None:
    sid = first_with(sim, "deployed")["id"]
    sim_admin(sim, "pipai", "set_positions", id=sid, count=3)
    ws = await subscribed(sim, sid)
    try:
        r = await asyncio.to_thread(
            call, sim, "POST", f"/v1/strategies/{sid}/pause", b'{"close_positions":true}'
        )
        assert r.status_code == 200
        frames = [await recv(ws) for _ in range(3 * 3 + 1)]  # 3 × (placed, filled, closed) + paused
    finally:
        await ws.close()
    for frame in frames:
        assert set(frame) == {"op", "channel", "id", "seq", "event"}
        assert set(frame["event"]) == {"id", "type", "created_at", "data"}
        assert frame["id"] == sid
    kinds = [f["event"]["type"] for f in frames]
    assert kinds.count("position_closed") == 3
    assert kinds[-1] == "paused"
    assert frames[-1]["event"]["data"] == {
        "strategy_id": sid,
        "status": "paused",
        "close_positions": True,
    }
    assert [f["seq"] for f in frames] == list(range(1, 11))


async def test_ws_subscription_filters_and_unknown_ids(sim: SimServer) -> None:
    deployed = [s["id"] for s in sim_admin(sim, "pipai", "strategies", status="deployed")]
    ws = await subscribed(sim, deployed[0])
    try:
        await ws.send(
            json.dumps({"op": "subscribe", "channel": "strategy.status", "id": "strat_zz"})
        )
        nack = await recv(ws)
        assert (nack["op"], nack["ok"], nack["code"]) == ("ack", False, "NOT_FOUND")
        sim_admin(sim, "pipai", "set_status", id=deployed[1], status="paused")
        sim_admin(sim, "pipai", "set_status", id=deployed[0], status="error", message="margin")
        event = await recv(ws)
        assert event["id"] == deployed[0]  # the other strategy's event was not sent here
        assert event["event"]["type"] == "error"
        assert event["event"]["data"]["status"] == "error"
    finally:
        await ws.close()


async def test_ws_event_rate_knob_streams_order_events(sim: SimServer) -> None:
    ws = await subscribed(sim)
    try:
        set_knobs(sim, "pipai", event_rate=5000.0)
        frames = [await recv(ws) for _ in range(500)]
    finally:
        set_knobs(sim, "pipai", event_rate=0.0)
        await ws.close()
    assert {f["event"]["type"] for f in frames} <= {"order_placed", "order_filled"}
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + 500))


async def test_ws_survives_being_dropped(sim: SimServer) -> None:
    ws = await subscribed(sim)
    r = await asyncio.to_thread(
        httpx.post, f"{sim.root_url('pipai')}/_sim/drop-websockets", trust_env=False, verify=False
    )
    assert r.json()["dropped"] == 1
    with pytest.raises(ConnectionClosed):
        await recv(ws)
    again = await subscribed(sim)  # the simulator still serves new connections
    await again.close()
