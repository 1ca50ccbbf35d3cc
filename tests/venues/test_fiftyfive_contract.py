"""55-tech contract tests: the documented samples parse, the simulator speaks the documented shapes.

The JSON literals below are copied from CONTRACTS.md section 1 (and seed 000); both
the client's wire models and the simulator's answers are pinned to them, never to
each other.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from console.core.model import State
from console.sim.server import SimServer
from console.venues.fiftyfive.wire import ControlReply, StreamFrame, TradingStatus, state_of
from tests.support import sim_admin

QUICKSTART_STATUS = """{
  "client": "your-client",
  "clientName": "Your Client Name",
  "oddsFormat": "decimal",
  "status": "live",
  "tradingActive": true,
  "manualPaused": false,
  "manualStopped": false,
  "systemTradingBlocked": false,
  "emergencyActive": false,
  "systemStopped": false,
  "softPaused": false
}"""

STOP_SKELETON = """{
  "client": "<string>",
  "clientName": "<string>",
  "status": "<string>",
  "tradingActive": true,
  "manualPaused": true,
  "manualPausedAt": "2023-11-07T05:31:56Z",
  "manualPauseReason": "<string>",
  "manualStopped": true,
  "manualStoppedAt": "2023-11-07T05:31:56Z",
  "manualStopReason": "<string>",
  "systemTradingBlocked": true,
  "emergencyActive": true,
  "systemStopped": true,
  "softPaused": true,
  "systemReason": "<string>",
  "systemDurationSeconds": 123,
  "result": "<string>"
}"""

SUBSCRIBE_FRAME = """{"type": "subscribe", "apiKey": "your-uuid-api-key", "channels": ["orders", "bets", "accounts", "scores", "emergency"]}"""
SUBSCRIBED_FRAME = """{"type": "subscribed", "subscriptionId": 1, "channels": ["orders", "bets", "accounts", "scores", "emergency"]}"""
ORDER_BROADCAST = """{
  "type": "broadcast",
  "channel": "orders",
  "event": "UPDATE",
  "payload": {"orderId": 123, "orderStatus": "FILLED", "matchedStake": 100.0, "matchedAt": "2026-02-15T10:30:05Z"},
  "old": {"orderStatus": "PLACED", "matchedStake": 0}
}"""
AUTH_ERROR = """{"detail": "Invalid or missing API key"}"""
VALIDATION_ERROR = (
    """{"detail": [{"loc": ["query","fixtureId"], "msg": "Field required", "type": "missing"}]}"""
)

# The TradingStatusResponse field table (name -> nullable).
STATUS_FIELDS = {
    "client": False,
    "clientName": False,
    "oddsFormat": False,
    "status": False,
    "tradingActive": False,
    "manualPaused": False,
    "manualPausedAt": True,
    "manualPauseReason": True,
    "manualStopped": False,
    "manualStoppedAt": True,
    "manualStopReason": True,
    "systemTradingBlocked": False,
    "emergencyActive": False,
    "systemStopped": False,
    "softPaused": False,
    "systemReason": True,
    "systemDurationSeconds": True,
}
# The start of the order-fill example that the docs let us read.
ORDER_FIELDS = {
    "orderId",
    "fixtureId",
    "outcomeId",
    "exchange",
    "exchangeOrderId",
    "orderStatus",
    "matchedStatus",
    "orderCents",
    "orderStake",
    "matchedStake",
}
DOCUMENTED_STATUSES = (
    "live",
    "manual_paused",
    "manual_stopped",
    "soft_paused",
    "system_stopped",
    "emergency",
)
DOCUMENTED_RESULTS = {
    "pause_applied",
    "already_paused",
    "stop_applied",
    "already_stopped",
    "start_applied",
    "resume_applied",
    "start_required",
    "already_live",
}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("55tech",)}


def _keys(sim: SimServer) -> list[str]:
    return sim.vendors["55tech"].credentials()["api_keys"].split(",")


# ----- the client's models against the documented samples ---------------------------------
def test_quickstart_status_parses_without_the_nullable_fields() -> None:
    status = TradingStatus.model_validate_json(QUICKSTART_STATUS)
    assert status.client == "your-client"
    assert status.client_name == "Your Client Name"
    assert status.manual_paused_at is None
    assert status.system_duration_seconds is None
    assert state_of(status.status) is State.RUNNING


def test_stop_skeleton_parses_with_its_unknown_status_and_result_kept_raw() -> None:
    reply = ControlReply.model_validate_json(STOP_SKELETON)
    assert reply.result == "<string>"
    assert reply.status == "<string>"
    assert state_of(reply.status) is State.UNKNOWN
    assert reply.odds_format is None  # the skeleton omits it
    assert reply.system_duration_seconds == 123


def test_status_keeps_fields_the_docs_do_not_list() -> None:
    data = json.loads(QUICKSTART_STATUS) | {"riskTier": "B"}
    status = TradingStatus.model_validate(data)
    assert status.model_extra == {"riskTier": "B"}


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("live", State.RUNNING),
        ("manual_paused", State.PAUSED),
        ("soft_paused", State.PAUSED),
        ("manual_stopped", State.STOPPED),
        ("system_stopped", State.STOPPED),
        ("emergency", State.STOPPED),
        ("hibernating", State.UNKNOWN),
    ],
)
def test_documented_statuses_map_to_console_states(status: str, state: State) -> None:
    assert state_of(status) is state


def test_stream_frames_parse_in_both_spellings() -> None:
    current = StreamFrame.model_validate_json(SUBSCRIBED_FRAME)
    older = StreamFrame.model_validate_json(
        '{"type": "subscribed", "subscription_id": 9, "channels": ["orders"]}'
    )
    assert (current.type, current.subscription_id) == ("subscribed", 1)
    assert older.subscription_id == 9
    broadcast = StreamFrame.model_validate_json(ORDER_BROADCAST)
    assert (broadcast.channel, broadcast.event) == ("orders", "UPDATE")
    assert json.loads(SUBSCRIBE_FRAME)["type"] == "subscribe"


# ----- the simulator against the documented shapes -----------------------------------------
def test_sim_status_carries_every_documented_field_nullable_ones_as_null(sim: SimServer) -> None:
    r = httpx.get(
        f"{sim.base_url('55tech')}/api/v1/trading/status",
        headers={"X-API-Key": _keys(sim)[0]},
        trust_env=False,
        verify=False,
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) == set(STATUS_FIELDS)
    assert set(json.loads(QUICKSTART_STATUS)) <= set(body)
    for name, nullable in STATUS_FIELDS.items():
        if not nullable:
            assert body[name] is not None, name
    assert body["status"] in DOCUMENTED_STATUSES
    assert body["oddsFormat"] in ("american", "decimal", "hong_kong", "fractional")


def test_sim_control_answer_has_the_skeleton_keys_plus_odds_format(sim: SimServer) -> None:
    r = httpx.post(
        f"{sim.base_url('55tech')}/api/v1/trading/stop",
        headers={"X-API-Key": _keys(sim)[0]},
        trust_env=False,
        verify=False,
    )
    body = r.json()
    assert set(body) == set(json.loads(STOP_SKELETON)) | {"oddsFormat"}
    assert body["result"] in DOCUMENTED_RESULTS


def test_sim_errors_use_the_documented_envelopes(sim: SimServer) -> None:
    base = sim.base_url("55tech")
    auth = httpx.get(f"{base}/api/v1/trading/status", trust_env=False, verify=False)
    assert auth.status_code == 401
    assert auth.json() == json.loads(AUTH_ERROR)
    bad = httpx.post(
        f"{base}/api/v1/trading/pause",
        headers={"X-API-Key": _keys(sim)[0]},
        content=b'{"reason": 5}',
        trust_env=False,
        verify=False,
    )
    assert bad.status_code == 422
    documented = json.loads(VALIDATION_ERROR)["detail"][0]
    assert set(bad.json()["detail"][0]) == set(documented)


async def test_sim_stream_frames_have_the_documented_keys(sim: SimServer) -> None:
    key = _keys(sim)[2]
    async with connect(sim.ws_url("55tech") or "", proxy=None) as ws:
        await ws.send(SUBSCRIBE_FRAME.replace("your-uuid-api-key", key))
        subscribed = json.loads(await ws.recv())
        assert set(subscribed) == set(json.loads(SUBSCRIBED_FRAME))
        assert subscribed["channels"] == json.loads(SUBSCRIBED_FRAME)["channels"]
        client = subscribed_client(sim, key)
        sim_admin(sim, "55tech", "place_orders", client=client, count=1)
        sim_admin(sim, "55tech", "fill_orders", client=client)
        insert = json.loads(await ws.recv())
        update = json.loads(await ws.recv())
    documented = json.loads(ORDER_BROADCAST)
    assert set(insert) == set(documented)
    assert (insert["event"], update["event"]) == ("INSERT", "UPDATE")
    assert ORDER_FIELDS | set(documented["payload"]) <= set(update["payload"])
    assert set(update["old"]) == set(documented["old"])
    assert update["old"]["orderStatus"] == "PLACED"


def subscribed_client(sim: SimServer, key: str) -> str:
    engines = sim.vendors["55tech"].world.by_key  # type: ignore[attr-defined]
    return str(engines[key].client)
