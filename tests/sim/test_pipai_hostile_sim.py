"""The PipAI simulator's hostile knobs over real loopback HTTP and WebSocket, raw client.

Each knob reproduces a way a venue was seen to answer badly (docs/EMERGENCY.md); these
tests pin what the simulator sends, whoever reads it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect

from console.sim.server import SimServer
from tests.sim.test_pipai_http import _sign, call
from tests.support import set_knobs, sim_admin


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("pipai",)}


def newest_first(sim: SimServer) -> list[dict[str, Any]]:
    return list(sim_admin(sim, "pipai", "strategies"))


def test_endless_pages_hand_out_full_pages_and_a_fresh_cursor_forever(sim: SimServer) -> None:
    set_knobs(sim, "pipai", endless_pages=True)
    cursors: set[str] = set()
    target = "/v1/strategies?limit=100"
    for _ in range(5):
        page = call(sim, "GET", target).json()
        assert len(page["data"]) == 100  # more than the 30 strategies: they come round again
        cursor = page["next_cursor"]
        assert cursor not in cursors
        cursors.add(cursor)
        target = f"/v1/strategies?limit=100&cursor={cursor}"
    set_knobs(sim, "pipai", endless_pages=False)
    assert call(sim, "GET", "/v1/strategies?limit=100").json()["next_cursor"] is None


def test_bad_row_puts_an_impossible_leverage_in_one_list_row_only(sim: SimServer) -> None:
    set_knobs(sim, "pipai", bad_row=True)
    raw = call(sim, "GET", "/v1/strategies?limit=100").content
    assert raw.count(b'"leverage":1e400') == 1
    rows = json.loads(raw)["data"]  # still valid JSON (the number reads as inf here)
    (bad,) = [r for r in rows if r["leverage"] == float("inf")]
    deployed = [s["id"] for s in newest_first(sim) if s["status"] == "deployed"]
    assert bad["id"] == deployed[1]
    single = call(sim, "GET", f"/v1/strategies/{bad['id']}").json()
    assert isinstance(single["leverage"], int)  # a single read stays correct


def test_dot_ids_end_the_list_and_are_unknown_otherwise(sim: SimServer) -> None:
    set_knobs(sim, "pipai", dot_ids=True)
    first = call(sim, "GET", "/v1/strategies?limit=20").json()
    assert all(r["id"] not in (".", "..") for r in first["data"])
    last = call(sim, "GET", f"/v1/strategies?limit=20&cursor={first['next_cursor']}").json()
    assert [r["id"] for r in last["data"][-2:]] == [".", ".."]
    assert last["next_cursor"] is None
    assert {r["status"] for r in last["data"][-2:]} == {"deployed"}
    assert call(sim, "POST", "/v1/strategies/%2E%2E/pause", b"{}").status_code == 404


def test_escape_names_in_every_answer(sim: SimServer) -> None:
    set_knobs(sim, "pipai", escape_names=True)
    rows = call(sim, "GET", "/v1/strategies?limit=100").json()["data"]
    assert all(r["name"].startswith("\x1b[2J\x1b]0;") for r in rows)
    sid = next(s["id"] for s in newest_first(sim) if s["status"] == "deployed")
    assert "\x1b]0;" in call(sim, "GET", f"/v1/strategies/{sid}").json()["name"]
    paused = call(sim, "POST", f"/v1/strategies/{sid}/pause", b"{}").json()
    assert paused["name"].endswith("\x1b[0m")
    assert "\x1b" not in sim_admin(sim, "pipai", "strategies")[0]["name"]  # the world is clean


def test_echo_secret_quotes_the_key_signature_and_secret_in_errors(sim: SimServer) -> None:
    creds = sim.vendors["pipai"].credentials()
    set_knobs(sim, "pipai", echo_secret=True)
    missing = call(sim, "GET", "/v1/strategies/strat_gone")
    assert missing.status_code == 404
    message = missing.json()["message"]
    assert creds["api_key"] in message and creds["api_secret"] in message
    assert missing.json()["code"] == "NOT_FOUND"
    signature = missing.request.headers["X-PipAI-Signature"]
    assert signature in message
    set_knobs(sim, "pipai", error_rate=1.0)  # the fault middleware's errors echo too
    failed = call(sim, "GET", "/v1/strategies?limit=5")
    assert failed.status_code == 500
    assert failed.request.headers["X-PipAI-Signature"] in failed.json()["message"]
    assert failed.headers["content-length"] == str(len(failed.content))


async def test_echo_secret_on_the_stream(sim: SimServer) -> None:
    creds = sim.vendors["pipai"].credentials()
    set_knobs(sim, "pipai", echo_secret=True)
    url = f"{sim.root_url('pipai').replace('http', 'ws', 1)}/v1/ws"
    ts = int(time.time() * 1000)
    good = _sign(creds["api_secret"], str(ts), "GET", "/v1/ws", b"")
    auth = {"op": "auth", "api_key": creds["api_key"], "timestamp": ts, "signature": good}
    async with connect(url, proxy=None) as ws:
        await ws.send(json.dumps(auth))
        assert json.loads(await ws.recv()) == {"op": "auth", "ok": True}
        notice = json.loads(await ws.recv())
        assert notice["op"] == "error"
        assert creds["api_key"] in notice["message"] and good in notice["message"]
    async with connect(url, proxy=None) as ws:
        await ws.send(json.dumps(auth | {"signature": "0" * 64}))
        refused = json.loads(await ws.recv())
        assert refused["ok"] is False
        assert "0" * 64 in refused["message"] and creds["api_key"] in refused["message"]
