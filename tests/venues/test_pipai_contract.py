"""PipAI client against the documented samples and test vectors of CONTRACTS.md section 3.

The literals below are copied from CONTRACTS.md (samples marked [DOC], the envelope
marked [INF], and our self-computed HMAC vectors), not produced by the simulator.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from console.core.model import State, TargetKind
from console.venues.pipai.auth import signature, verify_webhook, webhook_signature, ws_auth_frame
from console.venues.pipai.mapping import to_target
from console.venues.pipai.wire import ErrorBody, Strategy, StrategyPage, StreamFrame

GET_SAMPLE = """
{
  "id": "strat_8f2a1b",
  "name": "BTC grid 1h",
  "template_id": "tpl_grid",
  "params": {"grid_levels": 8, "upper_price": "72000", "lower_price": "60000", "rebalance_threshold": "0.02"},
  "symbols": ["BTCUSDT"],
  "timeframe": "1h",
  "capital": "10000.00",
  "leverage": 3,
  "status": "deployed",
  "deployed_at": "2026-04-29T08:00:00Z",
  "created_at": "2026-04-28T15:30:00Z",
  "updated_at": "2026-04-29T08:00:00Z",
  "stats": {"open_positions": 2, "total_pnl": "184.32", "total_trades": 47, "win_rate": "0.638"}
}
"""

GET_SAMPLE_ATTRS = {
    "template": "tpl_grid",
    "symbols": ("BTCUSDT",),
    "timeframe": "1h",
    "capital": "10000.00",
    "leverage": 3,
    "open_positions": 2,
    "pnl": "184.32",
    "win_rate": "0.638",
    "trades": 47,
    "deployed_at": "2026-04-29T08:00:00Z",
    "updated_at": "2026-04-29T08:00:00Z",
}
"""The Target attrs GET_SAMPLE maps to (docs/ATTRIBUTES.md, PipAI)."""

LIST_SAMPLE = """
{
  "data": [
    {"id": "strat_8f2a1b", "name": "BTC grid 1h", "status": "deployed", "...": "..."},
    {"id": "strat_3c91de", "name": "ETH DCA daily", "template_id": "tpl_dca",
     "params": {"interval": "1d", "buy_amount": "100"}, "symbols": ["ETHUSDT"], "timeframe": "1d",
     "capital": "5000.00", "leverage": 1, "status": "paused", "deployed_at": "2026-04-15T00:00:00Z",
     "created_at": "2026-04-14T10:12:00Z", "updated_at": "2026-04-27T09:15:00Z",
     "stats": {"open_positions": 0, "total_pnl": "62.10", "total_trades": 12, "win_rate": "0.583"}}
  ],
  "next_cursor": "eyJjcmVhdGVkX2F0IjoiMjAyNi0wNC0xNFQxMDoxMjowMFoifQ"
}
"""

PAUSE_SAMPLE = """
{
"id": "strat_8f2a1b",
"name": "BTC grid 1h",
"template_id": "tpl_grid",
"params": {
"grid_levels": 8,
"upper_price": "72000",
"lower_price": "60000",
"rebalance_threshold": "0.02"
},
"symbols": ["BTCUSDT"],
"timeframe": "1h",
"capital": "10000.00",
"leverage": 3,
"status": "paused",
"deployed_at": "2026-04-29T08:00:00Z",
"created_at": "2026-04-28T15:30:00Z",
"updated_at": "2026-04-29T12:00:00Z",
"stats": {
"open_positions": 0,
"total_pnl": "184.32",
"total_trades": 47,
"win_rate": "0.638"
}
}
"""

ERROR_SAMPLE = (
    '{"code": "INVALID_SIGNATURE", "message": "Request signature did not match expected value"}'
)

WS_SAMPLES = [
    '{ "op": "subscribe", "channel": "strategy.status", "id": "strat_8f2a1b" }',
    '{ "op": "subscribe", "channel": "strategy.status", "id": "*" }',
    '{ "op": "unsubscribe", "channel": "strategy.status", "id": "strat_8f2a1b" }',
    '{ "op": "ack", "channel": "strategy.status", "id": "strat_8f2a1b", "ok": true }',
]
EVENT_SAMPLE = """
{"op": "event", "channel": "strategy.status", "id": "strat_8f2a1b", "seq": 42,
 "event": {"id": "evt_8c1f2a3b4d", "type": "paused", "created_at": "2026-04-29T12:00:00.000Z",
           "data": {"strategy_id": "strat_8f2a1b", "status": "paused", "close_positions": true}}}
"""

SECRET = "test_secret_do_not_use"
TS = 1761739200000
REST_VECTORS = [
    (
        "POST",
        "/v1/strategies/strat_8f2a1b/pause",
        b'{"close_positions":true}',
        "28c53022ca863c9a6ecf40525cbf41f8f4cef4fbb4a498480901829046c6e713",
    ),
    (
        "GET",
        "/v1/strategies/strat_8f2a1b",
        b"",
        "7545ab2ad431efae00ced5d11ae60839622e8707a0b2f79d307f52ec7b59458f",
    ),
    ("GET", "/v1/ws", b"", "81ad343a9a5816ba51dbe271e041e3ed443263840a0a9100e16b7862e14e9829"),
]
WEBHOOK_SECRET = "whsec_test_do_not_use"
WEBHOOK_BODY = (
    b'{"id":"evt_8c1f2a3b4d","type":"strategy.paused",'
    b'"created_at":"2026-04-29T12:00:00.000Z","data":{}}'
)
WEBHOOK_SIGNATURE = "0ab7e4b5b2d86db2d161a96a64fe031738e9550b29c04f3aed23efe722da0f9c"


def test_get_sample_parses_and_maps_to_documented_attrs() -> None:
    strategy = Strategy.model_validate_json(GET_SAMPLE)
    target = to_target("pipai", strategy)
    assert target.kind is TargetKind.STRATEGY
    assert (target.id, target.name, target.state, target.raw_status) == (
        "strat_8f2a1b",
        "BTC grid 1h",
        State.RUNNING,
        "deployed",
    )
    assert target.attrs == GET_SAMPLE_ATTRS
    assert Decimal(str(target.attrs["pnl"])) == Decimal("184.32")


def test_list_sample_parses_including_the_abbreviated_item() -> None:
    page = StrategyPage.model_validate_json(LIST_SAMPLE)
    assert [s.id for s in page.data] == ["strat_8f2a1b", "strat_3c91de"]
    assert page.data[0].stats is None  # abbreviated in the docs: every other field optional
    assert page.data[1].status == "paused"
    assert page.data[1].capital == "5000.00"
    assert page.next_cursor == "eyJjcmVhdGVkX2F0IjoiMjAyNi0wNC0xNFQxMDoxMjowMFoifQ"


def test_pause_sample_maps_to_paused_with_no_open_positions() -> None:
    target = to_target("pipai", Strategy.model_validate_json(PAUSE_SAMPLE))
    assert target.state is State.PAUSED
    assert target.attrs["open_positions"] == 0
    assert target.attrs["updated_at"] == "2026-04-29T12:00:00Z"


def test_error_sample_parses() -> None:
    body = ErrorBody.model_validate_json(ERROR_SAMPLE)
    assert body.code == "INVALID_SIGNATURE"
    assert body.message == "Request signature did not match expected value"


@pytest.mark.parametrize("raw", WS_SAMPLES)
def test_stream_control_samples_parse(raw: str) -> None:
    frame = StreamFrame.model_validate_json(raw)
    assert frame.channel == "strategy.status"
    assert frame.op in ("subscribe", "unsubscribe", "ack")


def test_event_envelope_sample_parses() -> None:
    frame = StreamFrame.model_validate_json(EVENT_SAMPLE)
    assert frame.seq == 42
    assert frame.event is not None
    assert frame.event.type == "paused"
    assert frame.event.data["close_positions"] is True


def test_unknown_status_and_unknown_fields_are_kept() -> None:
    raw = json.loads(GET_SAMPLE)
    raw.update(status="hibernating", risk_tier="B")
    raw["stats"]["sharpe"] = "1.2"
    strategy = Strategy.model_validate(raw)
    target = to_target("pipai", strategy)
    assert target.state is State.UNKNOWN
    assert target.raw_status == "hibernating"
    # params and created_at are never shown: kept as sent, unread (any value is fine)
    assert strategy.model_extra == {
        "risk_tier": "B",
        "params": raw["params"],
        "created_at": raw["created_at"],
    }


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("deployed", State.RUNNING),
        ("paused", State.PAUSED),
        ("stopped", State.STOPPED),
        ("draft", State.STOPPED),
        ("error", State.ERROR),
    ],
)
def test_documented_statuses_map_as_attributes_md_says(status: str, state: State) -> None:
    raw = json.loads(GET_SAMPLE) | {"status": status}
    assert to_target("pipai", Strategy.model_validate(raw)).state is state


@pytest.mark.parametrize(("method", "path", "body", "expected"), REST_VECTORS)
def test_client_signer_matches_the_vectors(
    method: str, path: str, body: bytes, expected: str
) -> None:
    assert signature(SECRET, TS, method, path, body) == expected


def test_ws_auth_frame_signs_the_ws_vector() -> None:
    frame = ws_auth_frame("pk_test", SECRET, timestamp_ms=TS)
    assert frame == {
        "op": "auth",
        "api_key": "pk_test",
        "timestamp": TS,
        "signature": REST_VECTORS[2][3],
    }


def test_webhook_vector_signs_and_verifies() -> None:
    assert webhook_signature(WEBHOOK_SECRET, TS, WEBHOOK_BODY) == WEBHOOK_SIGNATURE
    assert verify_webhook(WEBHOOK_SECRET, str(TS), WEBHOOK_BODY, WEBHOOK_SIGNATURE, now=TS + 1000)


def test_webhook_verification_refuses_stale_or_tampered_deliveries() -> None:
    stale = TS + 301_000
    assert not verify_webhook(WEBHOOK_SECRET, str(TS), WEBHOOK_BODY, WEBHOOK_SIGNATURE, now=stale)
    tampered = WEBHOOK_BODY.replace(b"paused", b"stopped")
    assert not verify_webhook(WEBHOOK_SECRET, str(TS), tampered, WEBHOOK_SIGNATURE, now=TS)
