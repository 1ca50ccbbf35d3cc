"""Joyride client against the simulator over real HTTP on loopback: reads and actions."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.model import Action, ActionKind, OutcomeKind, State, TargetKind
from console.sim.server import SimServer
from console.venues.joyride.client import JoyrideClient
from console.venues.kit.base import Secret
from tests.support import settings_for, sim_admin, sim_counters

API = "joyride"
PAUSE = Action(ActionKind.PAUSE)
RESUME = Action(ActionKind.RESUME)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[JoyrideClient]:
    c = JoyrideClient(settings_for(sim, API))
    yield c
    await c.aclose()


def expirations(sim: SimServer) -> list[int]:
    return list(sim_admin(sim, API, "expirations")["expirations"])


def peek(sim: SimServer, expiration: int) -> dict[str, Any]:
    return dict(sim_admin(sim, API, "peek", expiration=expiration))


async def test_one_target_per_expiration_with_instrument_counts(client: JoyrideClient) -> None:
    targets = await client.list_targets()
    assert len(targets) == 4
    assert [t.id for t in targets] == sorted(t.id for t in targets)
    for t in targets:
        assert t.kind is TargetKind.EXPIRATION
        assert re.fullmatch(r"\d\d [A-Z]{3} \d\d 08:00 UTC", t.name)
        assert t.state is State.UNKNOWN
        assert t.attrs["pause_source"] == "unknown"
        assert t.attrs["expiration"] == int(t.id)
        assert t.attrs["instruments"] == 48
        assert (t.attrs["calls"], t.attrs["puts"]) == (24, 24)
        assert t.attrs["assets"] == ("BTC", "ETH", "SOL")
        assert t.attrs["by_asset"] == "BTC 8C/8P · ETH 8C/8P · SOL 8C/8P"


@pytest.mark.parametrize("sim_options", [{"vendors": (API,), "scale": 3}])
async def test_scale_multiplies_strikes_per_round(client: JoyrideClient) -> None:
    targets = await client.list_targets()
    assert len(targets) == 4
    assert {t.attrs["instruments"] for t in targets} == {144}
    assert targets[0].attrs["by_asset"] == "BTC 24C/24P · ETH 24C/24P · SOL 24C/24P"


async def test_pause_applies_and_the_next_read_says_set_here(
    sim: SimServer, client: JoyrideClient
) -> None:
    exp = expirations(sim)[1]
    outcome = await client.execute(str(exp), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED, outcome.message
    assert outcome.state_after is State.PAUSED
    assert outcome.warning is None
    assert "48 instruments" in outcome.message
    assert peek(sim, exp)["db_paused"] == 48
    assert peek(sim, exp)["engine_paused"] == 48
    target = await client.read_target(str(exp))
    assert target is not None
    assert target.state is State.PAUSED
    assert target.attrs["pause_source"] == "set here"
    assert str(target.attrs["set_at"]).endswith("Z")
    others = [t for t in await client.list_targets() if t.id != str(exp)]
    assert {t.state for t in others} == {State.UNKNOWN}


async def test_pause_twice_reports_already_paused(sim: SimServer, client: JoyrideClient) -> None:
    exp = expirations(sim)[0]
    await client.execute(str(exp), PAUSE)
    again = await client.execute(str(exp), PAUSE)
    assert again.kind is OutcomeKind.ALREADY
    assert "already paused" in again.message
    assert again.state_after is State.PAUSED


async def test_a_repeat_pause_that_flips_engine_instruments_left_behind_is_applied(
    sim: SimServer, client: JoyrideClient
) -> None:
    """A pause whose engine phase failed leaves the database paused and engine instruments
    live; the repeat answers ``db_updated`` 0 and ``engine_updated`` 12: applied (the drift
    corrected now), never "already paused — Joyride changed no instrument"."""
    exp = expirations(sim)[0]
    assert (await client.execute(str(exp), PAUSE)).kind is OutcomeKind.APPLIED
    sim_admin(sim, API, "drift", expiration=exp, missing=0, engine_already=12)
    assert peek(sim, exp)["engine_paused"] == 48 - 12  # the engine phase "failed" for 12
    again = await client.execute(str(exp), PAUSE)
    assert again.kind is OutcomeKind.APPLIED, again.message
    assert again.state_after is State.PAUSED
    assert "(db_updated 0), but its engine flipped 12 instruments now" in again.message
    assert again.warning is not None
    assert "the engine flipped 12 more instruments than the database changed" in again.warning
    assert peek(sim, exp)["engine_paused"] == 48
    third = await client.execute(str(exp), PAUSE)
    assert third.kind is OutcomeKind.ALREADY  # all zeros now
    target = await client.read_target(str(exp))
    assert target is not None
    assert target.attrs["drift"] == again.warning  # zeros say nothing of the engine: kept


async def test_a_base_url_ending_in_api_v1_reaches_the_same_routes(sim: SimServer) -> None:
    """The vendor documents ``https://joyride.exchange/api/v1`` as its REST base."""
    client = JoyrideClient(settings_for(sim, API, base_url=f"{sim.base_url(API)}/v1/"))
    try:
        targets = await client.list_targets()
        outcome = await client.execute(targets[0].id, PAUSE)
    finally:
        await client.aclose()
    assert len(targets) == 4
    assert outcome.kind is OutcomeKind.APPLIED, outcome.message
    assert peek(sim, int(targets[0].id))["db_paused"] == 48


async def test_resume_after_pause_applies_then_reports_already_live(
    sim: SimServer, client: JoyrideClient
) -> None:
    exp = expirations(sim)[2]
    await client.execute(str(exp), PAUSE)
    resumed = await client.execute(str(exp), RESUME)
    assert resumed.kind is OutcomeKind.APPLIED
    assert resumed.state_after is State.RUNNING
    assert peek(sim, exp)["db_paused"] == 0
    again = await client.execute(str(exp), RESUME)
    assert again.kind is OutcomeKind.ALREADY
    assert "already live" in again.message
    target = await client.read_target(str(exp))
    assert target is not None
    assert target.state is State.RUNNING


async def test_resume_of_a_round_never_paused_is_already_live(
    sim: SimServer, client: JoyrideClient
) -> None:
    outcome = await client.execute(str(expirations(sim)[3]), RESUME)
    assert outcome.kind is OutcomeKind.ALREADY


async def test_engine_missing_instruments_are_a_warning_and_a_drift_attr(
    sim: SimServer, client: JoyrideClient
) -> None:
    exp = expirations(sim)[0]
    drift = sim_admin(sim, API, "drift", expiration=exp, missing=3, engine_already=0)
    outcome = await client.execute(str(exp), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.warning is not None
    assert "3 instruments changed in the DB but missing from the matching engine" in outcome.warning
    assert drift["missing"][0] in outcome.warning
    target = await client.read_target(str(exp))
    assert target is not None
    assert target.attrs["drift"] == outcome.warning


async def test_engine_already_at_target_is_a_warning(sim: SimServer, client: JoyrideClient) -> None:
    exp = expirations(sim)[0]
    sim_admin(sim, API, "drift", expiration=exp, missing=0, engine_already=4)
    outcome = await client.execute(str(exp), PAUSE)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.warning is not None
    assert "already at the target for 4 of 48" in outcome.warning


async def test_an_expiration_nobody_lists_is_rejected(
    sim: SimServer, client: JoyrideClient
) -> None:
    future = expirations(sim)[-1] + 30 * 86_400
    outcome = await client.execute(str(future), PAUSE)
    assert outcome.kind is OutcomeKind.REJECTED
    assert "no instrument" in outcome.message
    assert await client.read_target(str(future)) is None


async def test_read_target_of_garbage_id_is_none(client: JoyrideClient) -> None:
    assert await client.read_target("SOL_USDC-28FEB26-150-C") is None


async def test_live_round_offers_pause_and_resume_and_kill_pauses(
    sim: SimServer, client: JoyrideClient
) -> None:
    target = (await client.list_targets())[0]
    specs = client.actions_for(target)
    assert [s.kind for s in specs] == [ActionKind.PAUSE, ActionKind.RESUME]
    assert "positions stay open" in specs[0].leaves_behind
    assert "resting orders stay" in specs[0].leaves_behind
    kill = client.kill_action(target)
    assert kill is not None
    assert kill.kind is ActionKind.PAUSE


async def test_an_expired_round_is_shown_stopped_without_actions(
    sim: SimServer, client: JoyrideClient
) -> None:
    past = (int(time.time()) // 86_400 - 1) * 86_400 + 8 * 3600
    token = settings_for(sim, API).secret("admin_token").reveal()
    async with httpx.AsyncClient(trust_env=False, verify=False) as http:
        r = await http.post(
            f"{sim.base_url(API)}/v1/admin/create-instruments",
            json={"asset": "SOL", "expiration": past, "spot_price": 150},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200
    assert r.json()["created"] == 16
    target = await client.read_target(str(past))
    assert target is not None
    assert target.state is State.STOPPED
    assert target.raw_status == "expired"
    assert client.actions_for(target) == []
    assert client.kill_action(target) is None
    calls_before = sim_counters(sim, API).get("pause_by_expiration", 0)
    outcome = await client.execute(str(past), PAUSE)
    assert outcome.kind is OutcomeKind.ALREADY  # a closed market takes no orders
    assert (await client.execute(str(past), RESUME)).kind is OutcomeKind.REJECTED
    assert sim_counters(sim, API).get("pause_by_expiration", 0) == calls_before


def test_the_cli_pause_of_an_expired_round_says_already_and_resume_is_refused(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pause joyride <expired> --yes`` printed "REJECTED … Nothing was sent" and exited
    0 (the re-read's STOPPED satisfies a pause); now its words agree with its exit code."""
    past = (int(time.time()) // 86_400 - 1) * 86_400 + 8 * 3600
    token = settings_for(sim, API).secret("admin_token").reveal()
    r = httpx.post(
        f"{sim.base_url(API)}/v1/admin/create-instruments",
        json={"asset": "SOL", "expiration": past, "spot_price": 150},
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )
    assert r.status_code == 200
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    calls_before = sim_counters(sim, API).get("pause_by_expiration", 0)
    code = main(["--config", str(path), "pause", API, str(past), "--yes"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert ": ALREADY — " in out.out
    assert "needs no pause. Nothing was sent." in out.out
    assert "REJECTED" not in out.out
    assert "re-read: stopped (confirmed)" in out.out
    code = main(["--config", str(path), "resume", API, str(past), "--yes"])
    out = capsys.readouterr()
    assert code == 2
    assert "does not offer resume" in out.err
    assert sim_counters(sim, API).get("pause_by_expiration", 0) == calls_before


async def test_wrong_token_is_rejected_and_never_shown(sim: SimServer) -> None:
    wrong = "jr_admin_this_is_not_the_token_0000"
    real = settings_for(sim, API).secret("admin_token").reveal()
    client = JoyrideClient(settings_for(sim, API, credentials={"admin_token": Secret(wrong)}))
    try:
        outcome = await client.execute(str(expirations(sim)[0]), PAUSE)
    finally:
        await client.aclose()
    assert outcome.kind is OutcomeKind.REJECTED
    assert outcome.http_status == 401
    assert outcome.vendor_code == "unauthorized"
    assert "admin_token" in outcome.message
    assert wrong not in outcome.message
    assert real not in outcome.message
    assert peek(sim, expirations(sim)[0])["db_paused"] == 0


async def test_missing_token_is_rejected_with_advice(sim: SimServer) -> None:
    client = JoyrideClient(settings_for(sim, API, credentials={}))
    try:
        outcome = await client.execute(str(expirations(sim)[0]), PAUSE)
    finally:
        await client.aclose()
    assert outcome.kind is OutcomeKind.REJECTED
    assert "no admin_token is configured" in outcome.message.lower()


async def test_open_admin_mode_accepts_calls_without_a_token(sim: SimServer) -> None:
    sim_admin(sim, API, "open_admin", open=True)
    client = JoyrideClient(settings_for(sim, API, credentials={}))
    try:
        outcome = await client.execute(str(expirations(sim)[0]), PAUSE)
    finally:
        await client.aclose()
    assert outcome.kind is OutcomeKind.APPLIED
