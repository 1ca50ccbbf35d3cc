"""Whether PipAI's signed path carries the ``?query`` is a [GAP] of its docs.

The console signs ``/v1/strategies?limit=100`` whole (the project's reading); a PipAI
that signs the path alone refused every list read with 401, so the venue was
unreadable and a kill could not plan it. A read with a query refused 401 is signed again
over the path alone, once, and the client signs so from then on. Over loopback against
the simulator's ``sign_query`` knob; fails on the code before.
"""

from __future__ import annotations

import pytest

from console.core.model import Action, ActionKind, OutcomeKind
from console.sim.server import SimServer
from console.venues.kit.base import Secret
from console.venues.kit.feeds import FeedError
from console.venues.pipai.client import PipAIClient
from tests.support import set_knobs, settings_for, sim_counters


@pytest.mark.parametrize("sign_query", [True, False])
async def test_lists_are_read_whichever_way_the_venue_signs_the_query(
    sim: SimServer, sign_query: bool
) -> None:
    set_knobs(sim, "pipai", sign_query=sign_query)
    client = PipAIClient(settings_for(sim, "pipai", options={"page_size": 10}))
    try:
        listed = await client.list_targets()
        assert len(listed) > 10  # more than one page: cursors in the query too
        refused = sim_counters(sim, "pipai").get("auth_failed", 0)
        assert refused == (0 if sign_query else 1)  # learnt once, then signed so
        await client.list_targets()
        assert sim_counters(sim, "pipai").get("auth_failed", 0) == refused
        running = next(t for t in listed if t.state.value == "running")
        outcome = await client.execute(running.id, Action(ActionKind.PAUSE))
        assert outcome.kind is OutcomeKind.APPLIED, outcome
    finally:
        await client.aclose()


async def test_a_wrong_secret_is_still_refused_once_per_read(sim: SimServer) -> None:
    credentials = {**settings_for(sim, "pipai").credentials, "api_secret": Secret("not-it")}
    client = PipAIClient(settings_for(sim, "pipai", credentials=credentials))
    try:
        with pytest.raises(FeedError):
            await client.list_targets()
        assert sim_counters(sim, "pipai").get("auth_failed", 0) == 2  # as is, then path alone
    finally:
        await client.aclose()
