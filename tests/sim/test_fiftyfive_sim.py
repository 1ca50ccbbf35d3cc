"""The 55-tech simulator on its own: auth, state machine, global flags, limits, world."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from console.sim.fiftyfive.api import FiftyFiveSim
from console.sim.server import SimServer, running_sim

API = "55tech"
FROZEN = 1_771_000_000.0
STATUS = "/api/v1/trading/status"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,), "frozen_at": FROZEN}


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.base_url(API), trust_env=False, verify=False
    ) as client:
        yield client


def vendor(sim: SimServer) -> FiftyFiveSim:
    sim_vendor = sim.vendors[API]
    assert isinstance(sim_vendor, FiftyFiveSim)
    return sim_vendor


def key_of(sim: SimServer, status: str) -> str:
    """The key of the first engine the seeded world shows in ``status``."""
    world = vendor(sim).world
    return next(e.key for e in world.engines if world.status_of(e, 0.0) == status)


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def admin(http: httpx.AsyncClient, sim: SimServer, command: str, **args: Any) -> Any:
    r = await http.post(f"{sim.root_url(API)}/_sim/admin/{command}", json=args)
    r.raise_for_status()
    return r.json()


# ----- auth and plumbing -------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "not-a-uuid"},
        {"X-API-Key": str(uuid.UUID(int=42, version=4))},
        {"Authorization": "Bearer {key}"},
    ],
    ids=["missing", "not-uuid", "unknown", "wrong-header"],
)
async def test_bad_credentials_get_the_documented_401(
    sim: SimServer, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    real = key_of(sim, "live")
    r = await http.get(STATUS, headers={k: v.format(key=real) for k, v in headers.items()})
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid or missing API key"}


async def test_revoked_key_is_refused_until_restored(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    key = key_of(sim, "live")
    client = (await http.get(STATUS, headers=auth(key))).json()["client"]
    await admin(http, sim, "revoke_key", client=client)
    assert (await http.get(STATUS, headers=auth(key))).status_code == 401
    await admin(http, sim, "restore_key", client=client)
    assert (await http.get(STATUS, headers=auth(key))).status_code == 200


async def test_plain_http_on_the_websocket_path_is_426(http: httpx.AsyncClient) -> None:
    r = await http.get("/ws/subscribe")
    assert r.status_code == 426
    assert "detail" in r.json()


async def test_unknown_paths_and_methods_answer_in_fastapi_style(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    missing = await http.post("/api/v1/trading/explode", headers=auth(key_of(sim, "live")))
    wrong_method = await http.get("/api/v1/trading/stop", headers=auth(key_of(sim, "live")))
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"detail": "Method Not Allowed"},
    )


async def test_bodies_other_than_a_reason_are_422(sim: SimServer, http: httpx.AsyncClient) -> None:
    key = key_of(sim, "live")
    for body in (b"{nope", b"[1, 2]", b'{"reason": 7}'):
        r = await http.post("/api/v1/trading/pause", headers=auth(key), content=body)
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["loc"][0] == "body"
    assert (await http.get(STATUS, headers=auth(key))).json()["manualPaused"] is False


# ----- world --------------------------------------------------------------------------------
async def test_demo_world_mixes_live_paused_and_stopped(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    bodies = [
        (await http.get(STATUS, headers=auth(k))).json()
        for k in vendor(sim).credentials()["api_keys"].split(",")
    ]
    assert sorted(b["status"] for b in bodies) == [
        "live",
        "live",
        "manual_paused",
        "manual_stopped",
    ]
    paused = next(b for b in bodies if b["status"] == "manual_paused")
    stopped = next(b for b in bodies if b["status"] == "manual_stopped")
    assert paused["manualPauseReason"] and paused["manualPausedAt"].endswith("Z")
    assert stopped["manualStopReason"] and stopped["manualStoppedAt"].endswith("Z")
    assert all(b["tradingActive"] == (b["status"] == "live") for b in bodies)
    assert all(" " in b["clientName"] and b["client"].islower() for b in bodies)


async def test_frozen_clock_gives_byte_identical_answers_for_the_same_seed(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    keys = vendor(sim).credentials()["api_keys"].split(",")
    with running_sim(seed=7, motion=False, frozen_at=FROZEN, vendors=(API,)) as twin:
        assert vendor(twin).credentials()["api_keys"].split(",") == keys
        async with httpx.AsyncClient(
            base_url=twin.base_url(API), trust_env=False, verify=False
        ) as other:
            for key in keys:
                ours = await http.get(STATUS, headers=auth(key))
                theirs = await other.get(STATUS, headers=auth(key))
                assert ours.content == theirs.content
    with running_sim(seed=8, motion=False, frozen_at=FROZEN, vendors=(API,)) as stranger:
        assert vendor(stranger).credentials()["api_keys"].split(",") != keys


def test_scale_100_world_has_400_distinct_engines() -> None:
    sim = SimServer(seed=3, scale=100, motion=False, vendors=(API,))
    world = vendor(sim).world
    assert sim.vendors[API].target_count() == 400
    assert len({e.client for e in world.engines}) == 400
    assert len({e.key for e in world.engines}) == 400
    assert all(str(uuid.UUID(e.key)) == e.key for e in world.engines)
    statuses = {world.status_of(e, 0.0) for e in world.engines}
    assert statuses == {"live", "manual_paused", "manual_stopped"}


@pytest.mark.parametrize(
    "sim_options", [{"vendors": (API,), "scale": 5, "knobs": {API: {"unknown_status_rate": 0.5}}}]
)
async def test_unknown_status_rate_picks_a_seeded_share(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    first = await admin(http, sim, "engines")
    again = await admin(http, sim, "engines")
    unknown = [e["client"] for e in first if e["status"] == "hibernating"]
    assert 0 < len(unknown) < len(first)
    assert first == again


# ----- manual controls ----------------------------------------------------------------------
async def test_control_results_follow_project_decision_1(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    key = key_of(sim, "live")

    async def post(verb: str, **body: str) -> dict[str, Any]:
        r = await http.post(f"/api/v1/trading/{verb}", headers=auth(key), json=body or None)
        assert r.status_code == 200
        return dict(r.json())

    paused = await post("pause", reason="line moved")
    assert (paused["result"], paused["status"], paused["manualPauseReason"]) == (
        "pause_applied",
        "manual_paused",
        "line moved",
    )
    assert paused["manualPausedAt"] == "2026-02-13T16:26:40Z"
    assert (await post("pause", reason="again"))["manualPauseReason"] == "line moved"
    assert (await post("pause"))["result"] == "already_paused"
    resumed = await post("resume")
    assert (resumed["result"], resumed["manualPausedAt"], resumed["manualPauseReason"]) == (
        "resume_applied",
        None,
        None,
    )
    assert (await post("resume"))["result"] == "already_live"
    assert (await post("stop", reason="desk"))["manualStopReason"] == "desk"
    assert (await post("stop"))["result"] == "already_stopped"
    refused = await post("resume")
    assert (refused["result"], refused["status"]) == ("start_required", "manual_stopped")
    started = await post("start")
    assert (started["result"], started["status"], started["manualStoppedAt"]) == (
        "start_applied",
        "live",
        None,
    )
    assert (await post("start"))["result"] == "already_live"


@pytest.mark.parametrize(
    "sim_options", [{"vendors": (API,), "knobs": {API: {"conflict_mode": True}}}]
)
async def test_conflict_mode_answers_repeats_409(sim: SimServer, http: httpx.AsyncClient) -> None:
    key = key_of(sim, "manual_stopped")
    repeat = await http.post("/api/v1/trading/stop", headers=auth(key))
    resume = await http.post("/api/v1/trading/resume", headers=auth(key))
    assert repeat.status_code == 409
    assert isinstance(repeat.json()["detail"], str)
    assert (resume.status_code, resume.json()["result"]) == (200, "start_required")


# ----- global flags -------------------------------------------------------------------------
async def test_global_flags_take_precedence_and_time_their_duration(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    key = key_of(sim, "manual_paused")
    await admin(http, sim, "soft_pause", active=True, reason="Low liquidity")
    assert (await http.get(STATUS, headers=auth(key))).json()["status"] == "soft_paused"
    await admin(http, sim, "system_stop", active=True, reason="Deploy")
    await admin(http, sim, "emergency", active=True, reason="Exchange outage")
    sim.clock.frozen_at = FROZEN + 90
    body = (await http.get(STATUS, headers=auth(key))).json()
    assert (body["status"], body["systemReason"], body["systemDurationSeconds"]) == (
        "emergency",
        "Exchange outage",
        90,
    )
    assert body["systemTradingBlocked"] and body["emergencyActive"] and body["softPaused"]
    assert body["tradingActive"] is False
    await admin(http, sim, "emergency", active=False)
    body = (await http.get(STATUS, headers=auth(key))).json()
    assert (body["status"], body["systemReason"], body["emergencyActive"]) == (
        "system_stopped",
        "Deploy",
        False,
    )
    await admin(http, sim, "system_stop", active=False)
    await admin(http, sim, "soft_pause", active=False)
    body = (await http.get(STATUS, headers=auth(key))).json()
    assert (body["status"], body["systemTradingBlocked"], body["systemDurationSeconds"]) == (
        "manual_paused",
        False,
        None,
    )


# ----- rate limit -------------------------------------------------------------------------
async def test_the_2001st_request_in_a_minute_is_429_without_headers(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    key = key_of(sim, "live")
    engine = vendor(sim).world.by_key[key]
    sim.call(lambda: [engine.bucket.take() for _ in range(2000)])
    r = await http.get(STATUS, headers=auth(key))
    assert r.status_code == 429
    assert "2000 requests per minute" in r.json()["detail"]
    assert "retry-after" not in r.headers
    assert not any(h.startswith("x-ratelimit") for h in r.headers)
    other = await http.get(STATUS, headers=auth(key_of(sim, "manual_paused")))
    assert other.status_code == 200  # the limit is per key
    sim.knobs(API).rate_limits = False
    assert (await http.get(STATUS, headers=auth(key))).status_code == 200


# ----- hostile knobs (issue 11) -----------------------------------------------------------
async def knobs(http: httpx.AsyncClient, sim: SimServer, **values: Any) -> None:
    r = await http.post(f"{sim.root_url(API)}/_sim/knobs", json=values)
    r.raise_for_status()


def all_keys(sim: SimServer) -> list[str]:
    return vendor(sim).credentials()["api_keys"].split(",")


async def test_duplicate_slug_makes_every_key_answer_as_one_client_yet_control_its_own(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    await knobs(http, sim, duplicate_slug=True)
    keys = all_keys(sim)
    bodies = [(await http.get(STATUS, headers=auth(k))).json() for k in keys]
    engines = vendor(sim).world.engines
    assert {b["client"] for b in bodies} == {engines[0].client}
    assert [b["clientName"] for b in bodies] == [e.name for e in engines]
    n = next(i for i, e in enumerate(engines) if i and not e.manual_stopped)
    first_before = engines[0].manual_stopped
    stopped = await http.post("/api/v1/trading/stop", headers=auth(keys[n]))
    assert stopped.json()["client"] == engines[0].client
    assert engines[n].manual_stopped  # the key's own engine, not the slug's
    assert engines[0].manual_stopped is first_before


async def test_revoked_keys_refuse_the_first_n_keys_only(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    await knobs(http, sim, revoked_keys=2)
    codes = [(await http.get(STATUS, headers=auth(k))).status_code for k in all_keys(sim)]
    assert codes == [401, 401, 200, 200]


async def test_echo_secret_quotes_the_key_in_error_answers(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    await knobs(http, sim, echo_secret=True, revoked_keys=1)
    first, second = all_keys(sim)[:2]
    refused = await http.get(STATUS, headers=auth(first))
    assert refused.status_code == 401
    assert first in refused.json()["detail"]
    invalid = await http.post("/api/v1/trading/pause", headers=auth(second), content=b"[1]")
    assert invalid.status_code == 422
    assert second in invalid.json()["detail"][0]["msg"]
    # A good answer quotes nothing.
    assert second not in (await http.get(STATUS, headers=auth(second))).text


async def test_bad_row_and_escape_names_bend_the_answers(
    sim: SimServer, http: httpx.AsyncClient
) -> None:
    await knobs(http, sim, bad_row=True, escape_names=True)
    keys = all_keys(sim)
    bodies = [(await http.get(STATUS, headers=auth(k))).json() for k in keys]
    assert [b["manualStopped"] == "perhaps" for b in bodies] == [False, False, False, True]
    for body, engine in zip(bodies, vendor(sim).world.engines, strict=True):
        assert body["clientName"] == f"\x1b[2J\x1b]0;pwned\x07\x1b[31m{engine.name}\x1b[0m"
