"""FinRadar: one id on rows of two pages of a list that does not move is a twin, not a
moving list.

With the simulator's ``duplicate_id`` knob and a page size that puts the twin's first
row last on page 1 and its copy first on page 2, the read used to see "an id came back
on a later page", read the whole list three times and call it INCOMPLETE "the list
changed while it was read" — safe, but not true. Two reads alike (the same ids on the
same pages in the same states, one total) show the list did not change: the id is named
as listed twice (on pages 1 and 2), its running row kept, and the read is whole. A list
that really moves (a target created between two page reads, every read) is still read
three times, then incomplete (a scripted venue on loopback).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.core.model import State
from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.feeds import Incomplete
from tests.support import set_knobs, settings_for, sim_admin, sim_counters
from tests.venues.test_finradar_wire import make_client, row

API = "finradar"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


async def test_an_id_on_two_pages_of_a_list_read_twice_alike_is_a_twin_not_a_moving_list(
    sim: SimServer,
) -> None:
    world = sim.vendors[API].world  # type: ignore[attr-defined]
    newest = [s.target_id for s in world.primary.newest_first()]
    sim_admin(sim, API, "expire", target_id=newest[0])  # the newest ACTIVE is now 2nd
    assert sim_admin(sim, API, "target", target_id=newest[1])["status"] == "ACTIVE"
    set_knobs(sim, API, duplicate_id=True)  # its twin follows it: first row of page 2
    client = FinRadarClient(settings_for(sim, API, options={"page_size": 2}))
    try:
        before = sim_counters(sim, API).get("list", 0)
        targets = {t.id: t for t in await client.list_targets()}  # whole: no Incomplete
        assert sim_counters(sim, API)["list"] - before == 14  # two reads of 7 pages
        assert sorted(targets) == sorted(newest)  # one target per id
        assert targets[newest[1]].state is State.RUNNING  # the running row is kept
        [note] = client.skipped_rows  # named: never "all halted"
        assert note.startswith(f"{newest[1]}: FinRadar lists this id on 2 rows, on pages 1 and 2")
        assert "did not change while it was read" in note
    finally:
        await client.aclose()


def _page(rows: list[dict[str, Any]], total: int) -> httpx.Response:
    return httpx.Response(
        200, json={"targets": rows, "meta": {"slots_available": 1, "total": total}}
    )


async def test_a_list_moving_with_the_same_total_is_still_read_three_times_then_incomplete() -> (
    None
):
    # Newest first; every read, a target is created between its first and second page
    # (and the oldest deleted): the total stays 6, page 2 repeats page 1's last row.
    ids = [f"tgt_{i:012d}" for i in range(6)]
    made = [0]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        calls.append(offset)
        if offset == 2:  # a new target, between page 1 and page 2
            made[0] += 1
            ids.insert(0, f"tgt_new{made[0]:09d}")
            ids.pop()
        return _page([row(i, "ACTIVE") for i in ids[offset : offset + 2]], len(ids))

    client = make_client(handler, options={"page_size": 2})
    with pytest.raises(Incomplete, match="changed while it was read, 3 reads") as caught:
        await client.list_targets()
    assert "came back on a later page" in str(caught.value)
    assert calls == [0, 2, 4] * 3
    await client.aclose()
