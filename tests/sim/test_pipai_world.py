"""The PipAI simulator's own pieces: its signature verifier and its seeded world."""

from __future__ import annotations

import base64
import json
import re

import pytest

from console.sim.kit.context import SimClock, VendorContext
from console.sim.pipai.api import PipAISim
from console.sim.pipai.auth import (
    ApiKey,
    AuthFailure,
    Keyring,
    canonical_request,
    expected_signature,
    webhook_signature,
)
from console.sim.pipai.world import ParamError, PipAIWorld, StateError, decode_cursor

SECRET = "test_secret_do_not_use"
TS = "1761739200000"
VECTORS = [
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
FROZEN = 1_777_464_000.0  # 2026-04-29T12:00:00Z

# Documented field table of the strategy object (CONTRACTS.md section 3).
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


def ctx(seed: int = 7, scale: int = 1) -> VendorContext:
    return VendorContext(name="pipai", seed=seed, scale=scale, clock=SimClock(FROZEN))


@pytest.mark.parametrize(("method", "path", "body", "expected"), VECTORS)
def test_sim_verifier_computes_the_vectors(
    method: str, path: str, body: bytes, expected: str
) -> None:
    assert expected_signature(SECRET, canonical_request(TS, method, path, body)) == expected


@pytest.mark.parametrize(("method", "path", "body", "expected"), VECTORS)
def test_sim_keyring_accepts_the_vectors_inside_its_window(
    method: str, path: str, body: bytes, expected: str
) -> None:
    ring = Keyring(window_s=1e12)  # the vectors are dated 2025: widen the replay window
    ring.add(ApiKey("pk_vec", SECRET))
    assert ring.verify("pk_vec", TS, expected, method, path, body).key == "pk_vec"
    with pytest.raises(AuthFailure) as refused:
        ring.verify("pk_vec", TS, expected, method, path, body + b" ")
    assert (refused.value.status, refused.value.code) == (401, "INVALID_SIGNATURE")


def test_sim_webhook_signer_matches_the_vector() -> None:
    body = (
        b'{"id":"evt_8c1f2a3b4d","type":"strategy.paused",'
        b'"created_at":"2026-04-29T12:00:00.000Z","data":{}}'
    )
    assert (
        webhook_signature("whsec_test_do_not_use", TS, body)
        == "0ab7e4b5b2d86db2d161a96a64fe031738e9550b29c04f3aed23efe722da0f9c"
    )


def test_stale_timestamp_is_refused_with_the_configured_code() -> None:
    ring = Keyring()
    ring.add(ApiKey("pk_vec", SECRET))
    with pytest.raises(AuthFailure) as refused:
        ring.verify("pk_vec", TS, VECTORS[1][3], "GET", VECTORS[1][1], b"")
    assert refused.value.code == "INVALID_SIGNATURE"
    assert "window" in refused.value.message
    ring.stale_code = "TIMESTAMP_EXPIRED"
    with pytest.raises(AuthFailure) as refused:
        ring.verify("pk_vec", TS, VECTORS[1][3], "GET", VECTORS[1][1], b"")
    assert refused.value.code == "TIMESTAMP_EXPIRED"


def test_world_has_every_status_and_documented_shapes() -> None:
    world = PipAIWorld.from_context(ctx())
    items = [s.as_json(0.0) for s in world.newest_first]
    assert len(items) == 30
    statuses = [i["status"] for i in items]
    assert {statuses.count(s) for s in ("draft", "stopped", "error")} == {1}
    assert statuses.count("deployed") > statuses.count("paused") > 1
    for item in items:
        assert set(item) == STRATEGY_FIELDS
        assert set(item["stats"]) == STATS_FIELDS
        assert re.fullmatch(r"strat_[0-9a-f]{6,8}", item["id"])
        assert 1 <= len(item["name"]) <= 64
        assert item["template_id"] in ("tpl_grid", "tpl_dca", "tpl_momentum", "tpl_meanrev")
        assert re.fullmatch(r"\d+\.\d{2}", item["capital"])
        assert re.fullmatch(r"-?\d+\.\d{2}", item["stats"]["total_pnl"])
        assert re.fullmatch(r"[01]\.\d{3}", item["stats"]["win_rate"])
        assert all(re.fullmatch(r"[A-Z]+USDT", sym) for sym in item["symbols"])
        assert (item["deployed_at"] is None) == (item["status"] == "draft")
    assert len({i["name"] for i in items}) == 30


def test_same_seed_and_frozen_clock_give_identical_worlds() -> None:
    def dump(seed: int) -> str:
        return json.dumps([s.as_json(0.0) for s in PipAIWorld.from_context(ctx(seed)).newest_first])

    assert dump(7) == dump(7)
    assert dump(7) != dump(8)


def test_scale_100_world_is_unique_and_ordered() -> None:
    world = PipAIWorld.from_context(ctx(scale=100))
    assert len(world.strategies) == 3000
    names = {s.name for s in world.newest_first}
    assert len(names) == 3000
    created = [s.created_at for s in world.newest_first]
    assert created == sorted(created, reverse=True)
    assert len(set(created)) == 3000


def test_pages_walk_every_strategy_newest_first() -> None:
    world = PipAIWorld.from_context(ctx())
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = world.page(
            limit=7, cursor=cursor, status=None, template_id=None, unknown_status_rate=0.0
        )
        seen.extend(item["id"] for item in page)
        if cursor is None:
            break
        assert decode_cursor(cursor) == page[-1]["created_at"]
    assert seen == [s.id for s in world.newest_first]


def test_cursor_encoding_matches_the_documented_example() -> None:
    documented = "eyJjcmVhdGVkX2F0IjoiMjAyNi0wNC0xNFQxMDoxMjowMFoifQ"
    assert decode_cursor(documented) == "2026-04-14T10:12:00Z"
    padded = documented + "=" * (-len(documented) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == {"created_at": "2026-04-14T10:12:00Z"}
    with pytest.raises(ParamError):
        decode_cursor("not-a-cursor!")


def test_pause_with_close_emits_closes_before_paused() -> None:
    events: list[tuple[str, str, dict[str, object]]] = []
    world = PipAIWorld.from_context(ctx())
    world.emit = lambda sid, kind, data: events.append((sid, kind, data))
    s = next(s for s in world.newest_first if s.status == "deployed")
    world.set_positions(s.id, 3)
    events.clear()
    world.pause(s.id, close_positions=True)
    kinds = [k for _, k, _ in events]
    assert kinds.count("position_closed") == 3
    assert kinds[-1] == "paused"
    assert s.as_json(0.0)["stats"]["open_positions"] == 0
    with pytest.raises(StateError):
        world.pause(s.id, close_positions=False)


def test_unknown_status_rate_reports_an_unknown_word() -> None:
    world = PipAIWorld.from_context(ctx())
    assert {s.as_json(1.0)["status"] for s in world.newest_first} == {"hibernating"}
    assert "hibernating" not in {s.as_json(0.0)["status"] for s in world.newest_first}


def test_motion_moves_positions_and_emits_events() -> None:
    events: list[str] = []
    world = PipAIWorld.from_context(ctx())
    world.emit = lambda sid, kind, data: events.append(kind)
    before = json.dumps([s.as_json(0.0) for s in world.newest_first])
    for _ in range(20):
        world.tick(FROZEN, 5.0)
    assert json.dumps([s.as_json(0.0) for s in world.newest_first]) != before
    assert {"order_placed", "order_filled"} <= set(events)
    assert {"position_opened", "position_closed"} & set(events)


def test_demo_credentials_derive_from_the_seed() -> None:
    first = PipAISim(ctx(seed=7)).credentials()
    assert first == PipAISim(ctx(seed=7)).credentials()
    assert first != PipAISim(ctx(seed=8)).credentials()
    assert set(first) == {"api_key", "api_secret"}
