"""The simulated 55-tech WebSocket: subscription, errors, limits, broadcasts, knobs.

"Nothing else arrived" is proven by ordering, not by waiting: a ``ping`` is sent after
the action and the next frame must be its ``pong``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from console.sim.fiftyfive import ws as fiftyfive_ws
from console.sim.fiftyfive.api import FiftyFiveSim
from console.sim.server import SimServer

API = "55tech"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.root_url(API), trust_env=False, verify=False
    ) as client:
        yield client


async def admin(http: httpx.AsyncClient, command: str, **args: Any) -> Any:
    r = await http.post(f"/_sim/admin/{command}", json=args)
    r.raise_for_status()
    return r.json()


def engines(sim: SimServer) -> dict[str, str]:
    """status -> (client slug, key) of the first engine in it, from the seeded world."""
    sim_vendor = sim.vendors[API]
    assert isinstance(sim_vendor, FiftyFiveSim)
    world = sim_vendor.world
    found: dict[str, str] = {}
    for engine in world.engines:
        found.setdefault(world.status_of(engine, 0.0), engine.key)
    return found


def client_of(sim: SimServer, key: str) -> str:
    sim_vendor = sim.vendors[API]
    assert isinstance(sim_vendor, FiftyFiveSim)
    return sim_vendor.world.by_key[key].client


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await ws.recv()))


async def subscribe(
    stack: AsyncExitStack, sim: SimServer, frame: dict[str, Any]
) -> tuple[ClientConnection, dict[str, Any]]:
    # An unbounded queue lets the close handshake through a backlog of broadcasts.
    ws = await stack.enter_async_context(connect(sim.ws_url(API) or "", proxy=None, max_queue=None))
    await ws.send(json.dumps({"type": "subscribe", **frame}))
    return ws, await recv(ws)


async def nothing_pending(ws: ClientConnection) -> bool:
    await ws.send('{"type":"ping"}')
    return (await recv(ws)) == {"type": "pong"}


async def test_subscribe_accepts_both_key_spellings(sim: SimServer) -> None:
    key = engines(sim)["live"]
    async with AsyncExitStack() as stack:
        _, current = await subscribe(stack, sim, {"apiKey": key, "channels": ["orders"]})
        _, older = await subscribe(stack, sim, {"api_key": key})
    assert current == {
        "type": "subscribed",
        "subscriptionId": current["subscriptionId"],
        "channels": ["orders"],
    }
    assert older["channels"] == ["orders", "bets", "accounts", "scores", "emergency"]
    assert older["subscriptionId"] != current["subscriptionId"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({}, "apiKey required"),
        ({"apiKey": "abc"}, "Invalid apiKey format"),
        ({"apiKey": "5b0e9a8c-1d2f-4a3b-8c7d-6e5f4a3b2c1d"}, "Invalid API key"),
    ],
)
async def test_subscribe_errors_use_the_documented_strings(
    sim: SimServer, frame: dict[str, Any], message: str
) -> None:
    async with AsyncExitStack() as stack:
        ws, reply = await subscribe(stack, sim, frame)
        assert reply == {"type": "error", "message": message}
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1008


async def test_sixth_connection_per_key_is_refused(sim: SimServer) -> None:
    key = engines(sim)["live"]
    async with AsyncExitStack() as stack:
        replies = [(await subscribe(stack, sim, {"apiKey": key}))[1] for _ in range(6)]
    assert [r["type"] for r in replies] == ["subscribed"] * 5 + ["error"]
    assert replies[-1]["message"] == "Connection limit exceeded"


async def test_orders_go_only_to_their_own_client(sim: SimServer, http: httpx.AsyncClient) -> None:
    mine, other = engines(sim)["live"], engines(sim)["manual_paused"]
    async with AsyncExitStack() as stack:
        ws_mine, _ = await subscribe(stack, sim, {"apiKey": mine, "channels": ["orders"]})
        ws_other, _ = await subscribe(stack, sim, {"apiKey": other, "channels": ["orders"]})
        placed = await admin(http, "place_orders", client=client_of(sim, mine), count=2)
        frames = [await recv(ws_mine), await recv(ws_mine)]
        assert await nothing_pending(ws_other)
    assert [f["payload"]["orderId"] for f in frames] == placed["orders"]
    assert {(f["channel"], f["event"]) for f in frames} == {("orders", "INSERT")}


async def test_world_motion_trades_only_live_engines(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    live, paused = engines(sim)["live"], engines(sim)["manual_paused"]
    async with AsyncExitStack() as stack:
        ws_live, _ = await subscribe(stack, sim, {"apiKey": live, "channels": ["orders"]})
        ws_paused, _ = await subscribe(stack, sim, {"apiKey": paused, "channels": ["orders"]})
        await admin(http, "tick", dt=5.0)  # long enough that every live engine places one
        first = await recv(ws_live)
        assert await nothing_pending(ws_paused)
    assert (first["event"], first["payload"]["orderStatus"]) == ("INSERT", "PLACED")


async def test_emergency_changes_reach_every_subscriber_with_old_values(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    keys = engines(sim)
    async with AsyncExitStack() as stack:
        sockets = [
            (await subscribe(stack, sim, {"apiKey": keys[s], "channels": ["emergency"]}))[0]
            for s in ("live", "manual_stopped")
        ]
        await admin(http, "emergency", active=True, reason="Exchange outage")
        frames = [await recv(ws) for ws in sockets]
    assert frames[0]["payload"] == frames[1]["payload"]
    frame = frames[0]
    assert (frame["type"], frame["channel"], frame["event"]) == ("broadcast", "emergency", "UPDATE")
    assert frame["payload"]["emergencyActive"] is True
    assert frame["payload"]["systemReason"] == "Exchange outage"
    assert frame["old"] == {
        "emergencyActive": False,
        "systemTradingBlocked": False,
        "systemReason": None,
        "systemDurationSeconds": None,
    }


async def test_unsubscribe_stops_broadcasts(sim: SimServer, http: httpx.AsyncClient) -> None:
    key = engines(sim)["live"]
    async with AsyncExitStack() as stack:
        ws, subscribed = await subscribe(stack, sim, {"apiKey": key})
        await ws.send('{"type":"unsubscribe"}')
        assert await recv(ws) == {
            "type": "unsubscribed",
            "subscriptionId": subscribed["subscriptionId"],
        }
        await admin(http, "place_orders", client=client_of(sim, key))
        await admin(http, "emergency", active=True, reason="x")
        assert await nothing_pending(ws)


async def test_event_rate_streams_synthetic_order_updates(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    key = engines(sim)["live"]
    async with AsyncExitStack() as stack:
        ws, _ = await subscribe(stack, sim, {"apiKey": key, "channels": ["orders"]})
        await http.post("/_sim/knobs", json={"event_rate": 10_000})
        frames = [await recv(ws) for _ in range(2_000)]
        await http.post("/_sim/knobs", json={"event_rate": 0})
    assert {(f["channel"], f["event"]) for f in frames} == {("orders", "UPDATE")}
    assert len({f["payload"]["orderId"] for f in frames}) == 2_000


async def test_heartbeat_arrives_unasked(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fiftyfive_ws, "HEARTBEAT_S", 0.05)
    async with AsyncExitStack() as stack:
        ws, _ = await subscribe(stack, sim, {"apiKey": engines(sim)["live"], "channels": []})
        assert await recv(ws) == {"type": "heartbeat"}


async def test_silent_connection_is_closed_after_the_subscribe_window(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fiftyfive_ws, "SUBSCRIBE_WITHIN_S", 0.05)
    async with connect(sim.ws_url(API) or "", proxy=None) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1008


async def test_dropped_streams_are_closed_from_outside(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    async with AsyncExitStack() as stack:
        ws, _ = await subscribe(stack, sim, {"apiKey": engines(sim)["live"]})
        dropped = (await http.post("/_sim/drop-websockets")).json()["dropped"]
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert dropped == 1
    assert ws.close_code == 1011
