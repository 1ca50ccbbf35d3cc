"""PipAI's weight budget with scaled windows: a paced client never sees a 429.

Windows are scaled by 0.01 on both sides (1,200 weight per 0.6 s), and the calls below
spend more than one window's budget, so pacing has to hold some of them back.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, Outcome, OutcomeKind
from console.sim.server import SimServer
from console.venues.pipai.client import PipAIClient
from tests.support import set_knobs, settings_for, sim_admin, sim_counters

CYCLES = 4  # pause (5) + resume (10) per cycle: 22 strategies × 4 × 15 = 1,320 weight


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"knobs": {"pipai": {"rate_scale": 0.01}}, "vendors": ("pipai",)}


async def cycle(client: PipAIClient, sid: str) -> list[Outcome]:
    outcomes = []
    for _ in range(CYCLES):
        outcomes.append(await client.execute(sid, Action(ActionKind.PAUSE)))
        outcomes.append(await client.execute(sid, Action(ActionKind.RESUME)))
    return outcomes


async def run_cycles(sim: SimServer, client: PipAIClient) -> list[Outcome]:
    ids = [s["id"] for s in sim_admin(sim, "pipai", "strategies", status="deployed")]
    assert len(ids) * CYCLES * 15 > 1200  # more than one window allows
    results = await asyncio.gather(*(cycle(client, sid) for sid in ids))
    return [o for batch in results for o in batch]


async def test_paced_client_spends_past_the_budget_without_a_429(sim: SimServer) -> None:
    client = PipAIClient(settings_for(sim, "pipai"))
    outcomes = await run_cycles(sim, client)
    targets = await client.list_targets()
    await client.aclose()
    assert {o.kind for o in outcomes} == {OutcomeKind.APPLIED}
    assert len(targets) == 30
    counters = sim_counters(sim, "pipai")
    assert counters.get("429", 0) == 0
    assert counters["pause"] + counters["deploy"] == len(outcomes)


async def test_unpaced_client_does_hit_the_limit(sim: SimServer) -> None:
    """The limit is real: the same burst without pacing is refused by the simulator."""
    set_knobs(sim, "pipai", rate_scale=1.0)  # a full 60 s window: the burst cannot fit
    client = PipAIClient(settings_for(sim, "pipai", pacing=False))
    outcomes = await run_cycles(sim, client)
    await client.aclose()
    assert sim_counters(sim, "pipai").get("429", 0) > 0
    kinds = [o.kind for o in outcomes]
    assert OutcomeKind.APPLIED in kinds
    assert OutcomeKind.FAILED in kinds  # Retry-After too long to hold an operator for
    assert all("rate limited" in o.message for o in outcomes if o.kind is OutcomeKind.FAILED)
