"""FinRadar's list as its docs show it: ``meta`` holds ``slots_available`` and no total.

The console read a short page as the end of such a list. An implementation that serves
fewer rows a page than asked (its own cap: 2 here, whatever ``limit`` says) was read as
a list of one page: the other targets were never listed, so a kill never stopped them
and its re-read, as short, called the venue halted. Over loopback against the
simulator's ``documented_meta`` and ``page_cap`` knobs; fails on the code before.
"""

from __future__ import annotations

import pytest

from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from tests.support import set_knobs, settings_for, sim_counters


@pytest.mark.parametrize("cap", [0, 2])
async def test_a_list_without_a_total_is_read_to_its_end(sim: SimServer, cap: int) -> None:
    client = FinRadarClient(settings_for(sim, "finradar"))
    try:
        whole = {t.id for t in await client.list_targets()}
        assert len(whole) > 2
        set_knobs(sim, "finradar", documented_meta=True, page_cap=cap)
        before = sim_counters(sim, "finradar")["requests"]
        assert {t.id for t in await client.list_targets()} == whole
        pages = sim_counters(sim, "finradar")["requests"] - before
        # every page, then the empty one past the end (the only end a list without a
        # total has); with no cap, one page and the empty one
        assert pages == (-(-len(whole) // cap) + 1 if cap else 2)
    finally:
        await client.aclose()
