"""PipAI against the answers an independent tester's hostile venue gave (issue 11, second
round), reproduced by the simulator's knobs over real loopback HTTP.

Each test failed on the code before its fix: a deflate bomb inflated past the body cap
(``list_bomb_mb`` + ``bomb_encoding``), fresh cursors on the same rows paged until the
planning deadline (``repeat_pages``), a strategy listed twice merged silently
(``duplicate_id``), and a list naming ``data`` twice, the second time empty, read as no
strategies (``duplicate_keys``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from tests.support import set_knobs, sim_admin, sim_counters
from tests.venues.test_pipai_hostile import client_of, world

pytestmark = pytest.mark.timeout(60)  # a hang is a failure, never a wait

PAUSE = Action(ActionKind.PAUSE, {"close_positions": False})
TWO_MB = 2 * 1_048_576


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"knobs": {"pipai": {"rate_scale": 0.05}}, "vendors": ("pipai",)}


async def test_a_deflate_bomb_list_answer_is_refused_at_the_inflated_cap(sim: SimServer) -> None:
    set_knobs(sim, "pipai", list_bomb_mb=48, bomb_encoding="deflate")
    async with client_of(sim, max_body_bytes=TWO_MB) as client, asyncio.timeout(20):
        with pytest.raises(FeedError, match=r"larger than 2 MB \(max_body_bytes\)") as err:
            await client.list_targets()
    assert not isinstance(err.value, Unreadable)


async def test_fresh_cursors_on_the_same_rows_stop_at_the_second_page_with_the_first_kept(
    sim: SimServer,
) -> None:
    set_knobs(sim, "pipai", repeat_pages=True)
    async with client_of(sim, options={"page_size": 10}) as client:
        with pytest.raises(
            Incomplete, match=r"page 2 brought no strategy .* does not advance"
        ) as err:
            await client.list_targets()
    assert [t.id for t in err.value.partial] == world(sim)[:10]  # kept, for a kill to halt
    assert sim_counters(sim, "pipai")["list"] == 2


async def test_a_strategy_listed_twice_is_named_and_its_running_twin_never_verified(
    sim: SimServer,
) -> None:
    twin = world(sim)[0]  # the newest strategy: the knob lists it twice
    sim_admin(sim, "pipai", "set_status", id=twin, status="deployed")
    set_knobs(sim, "pipai", duplicate_id=True)
    async with client_of(sim) as client:
        targets = await client.list_targets()
        assert [t.id for t in targets].count(twin) == 1  # one id, one call
        assert any(row.startswith(f"{twin}: listed twice") for row in client.skipped_rows)
        outcome = await client.execute(twin, PAUSE)
        assert outcome.kind is OutcomeKind.APPLIED  # PipAI paused the one it knows
        after = {t.id: t for t in await client.list_targets()}
        # The twin row still runs: the id stays running (a kill's re-read never
        # verifies it) and is named again.
        assert after[twin].state is State.RUNNING
        assert any(row.startswith(f"{twin}: listed twice") for row in client.skipped_rows)


async def test_a_list_naming_data_twice_is_unreadable_not_empty(sim: SimServer) -> None:
    set_knobs(sim, "pipai", duplicate_keys=True)
    async with client_of(sim) as client:
        with pytest.raises(Unreadable, match="'data' appears twice in one object"):
            await client.list_targets()
