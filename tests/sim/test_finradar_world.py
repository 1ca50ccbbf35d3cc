"""The simulated FinRadar world on its own: seeding, scale, lifecycle and motion."""

from __future__ import annotations

import json

from console.sim.finradar.api import FinRadarSim
from console.sim.finradar.world import ACTIVE, CREATED, STOPPED, Sniper
from console.sim.kit.context import SimClock, VendorContext

FROZEN = 1_781_985_600.0  # 2026-06-20T20:00:00Z


def make(seed: int = 7, scale: int = 1) -> FinRadarSim:
    return FinRadarSim(
        VendorContext(name="finradar", seed=seed, scale=scale, clock=SimClock(FROZEN))
    )


def dump(sim: FinRadarSim) -> str:
    world = sim.world
    return json.dumps([world.row(s) for s in world.primary.newest_first()])


def count(sim: FinRadarSim, status: str) -> int:
    return sum(1 for s in sim.world.primary.by_id.values() if s.status == status)


def tick(sim: FinRadarSim, at: float, dt: float = 0.0) -> None:
    """Move the clock to ``at`` and tick (dt=0: no random filings or creations)."""
    sim.ctx.clock.frozen_at = at
    sim.world.tick(at, dt)


def first(sim: FinRadarSim, status: str) -> Sniper:
    return next(s for s in sim.world.primary.newest_first() if s.status == status)


def test_same_seed_and_frozen_clock_give_identical_worlds() -> None:
    assert dump(make()) == dump(make())
    assert make().credentials() == make().credentials()
    assert dump(make(seed=8)) != dump(make())
    assert make(seed=8).credentials() != make().credentials()


def test_demo_world_has_every_state_and_reason() -> None:
    sim = make()
    assert sim.target_count() == 12
    assert (count(sim, ACTIVE), count(sim, CREATED), count(sim, STOPPED)) == (3, 2, 7)
    reasons = {s.resolution_reason for s in sim.world.primary.by_id.values() if s.status == STOPPED}
    assert reasons == {"window_expired", "manual_stop", "filing_hit"}
    for s in sim.world.primary.by_id.values():
        if s.status == STOPPED:
            assert s.stopped_at is not None and s.stopped_at <= FROZEN
        if s.resolution_reason == "filing_hit":
            assert s.filing_uuid and s.last_event and s.last_event["accession_number"]
        if s.status == CREATED:
            assert s.start_time > FROZEN


def test_scale_multiplies_schedule_and_history_but_never_slots() -> None:
    sim = make(scale=100)
    assert (count(sim, ACTIVE), count(sim, CREATED), count(sim, STOPPED)) == (5, 200, 700)
    assert sim.world.primary.slots_available == 0
    assert len(sim.world.primary.live) == 205


def test_created_becomes_active_at_start_only_when_a_slot_is_free() -> None:
    sim = make(scale=3)  # 5 ACTIVE: every slot used
    account = sim.world.primary
    # starts in a minute; every seeded ACTIVE window lasts at least another 30 minutes
    waiting = sim.world.create(
        account, FROZEN, ticker="TSLA", start=FROZEN + 60, end=None, duration_min=60,
        form_types=None, webhook_url=None,
    )  # fmt: skip
    assert waiting.status == CREATED
    tick(sim, waiting.start_time + 1)
    assert waiting.status == CREATED  # no free slot: it waits
    sim.world.stop(account, first(sim, ACTIVE).target_id, waiting.start_time + 2)
    tick(sim, waiting.start_time + 3)
    assert waiting.status == ACTIVE
    assert account.slots_available == 0


def test_active_expires_at_end_time_and_frees_its_slot() -> None:
    sim = make()
    account = sim.world.primary
    active = min((s for s in account.live.values() if s.status == ACTIVE), key=lambda s: s.end_time)
    tick(sim, active.end_time + 5)
    assert (active.status, active.resolution_reason) == (STOPPED, "window_expired")
    assert active.stopped_at == active.end_time
    assert account.slots_available >= 3


def test_motion_fires_filings_and_fills_free_slots() -> None:
    sim = make()
    before = set(sim.world.primary.by_id)
    tick(sim, FROZEN + 1, dt=1000.0)  # rates x dt >= 1: every draw happens
    hits = [s for s in sim.world.primary.by_id.values() if s.resolution_reason == "filing_hit"]
    assert len(hits) >= 3 + 1  # the three ACTIVE ones, plus the seeded history
    new = set(sim.world.primary.by_id) - before
    assert len(new) == 1
    assert sim.world.primary.by_id[new.pop()].status == ACTIVE


def test_stop_frees_a_slot_and_keeps_its_body_on_repeat() -> None:
    sim = make()
    account = sim.world.primary
    active = first(sim, ACTIVE)
    sim.world.stop(account, active.target_id, FROZEN + 10)
    body = sim.world.stop_body(account, active)
    assert account.slots_available == 3
    assert sim.world.stop(account, active.target_id, FROZEN + 99) is active
    assert sim.world.stop_body(account, active) == body
    assert sim.world.stop(account, "tgt_000000000000", FROZEN) is None
    other = sim.world.other.newest_first()[0].target_id
    assert sim.world.stop(account, other, FROZEN) is None  # another user's: not found
