"""A halting call that meets a kept-alive connection the venue just closed is sent once
more on a fresh connection; nothing else is (docs/EMERGENCY.md, "A stale connection").

Every venue on the simulator, its ``stale_keepalive`` knob on: the next request arriving
on a kept-alive connection finds it closed without an answer (the idle-close race a kill
meets after a quiet spell), while a fresh connection is served.
"""

from __future__ import annotations

from typing import Any

import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.core.ports import VenueClient
from console.sim.server import SimServer
from console.venues.registry import make_client
from tests.support import set_knobs, settings_for, sim_counters

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
HALTED = (State.PAUSED, State.STOPPED)
RESENT = "sent again on a fresh connection: the first broke before any answer"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"scale": 1}


def pick(client: VenueClient, targets: list[Target], *, halting: bool) -> tuple[Target, Action]:
    """A target not halted and its halting action, or a target offering a non-halting one."""
    for target in targets:
        if halting:
            action = client.kill_action(target)
            if action is not None and target.state not in HALTED:
                return target, action
            continue
        for spec in client.actions_for(target):
            if not spec.kind.destructive:
                return target, Action(spec.kind)
    raise AssertionError(f"no target to {'halt' if halting else 're-arm'} at {client.api}")


@pytest.mark.parametrize("api", APIS)
async def test_a_halting_call_on_a_stale_connection_is_sent_again_and_applies(
    sim: SimServer, api: str
) -> None:
    client = make_client(settings_for(sim, api))
    try:
        target, action = pick(client, await client.list_targets(), halting=True)
        set_knobs(sim, api, stale_keepalive=1)  # the list's connection is now stale
        before = sim_counters(sim, api)["requests"]
        outcome = await client.execute(target.id, action)
        after = sim_counters(sim, api)
    finally:
        await client.aclose()
    assert outcome.kind is OutcomeKind.APPLIED, outcome.message
    assert RESENT in outcome.message
    assert "(Server disconnected)" in outcome.message
    assert after["stale_keepalive"] == 1
    assert after["requests"] - before == 2  # the one closed unanswered, and the resend


@pytest.mark.parametrize("api", ["55tech", "x3algo", "pipai", "joyride"])
async def test_a_call_that_re_arms_is_never_sent_again(sim: SimServer, api: str) -> None:
    client = make_client(settings_for(sim, api))
    try:
        target, action = pick(client, await client.list_targets(), halting=False)
        set_knobs(sim, api, stale_keepalive=1)
        outcome = await client.execute(target.id, action)
        counted = sim_counters(sim, api)
        again = await client.read_target(target.id)
    finally:
        await client.aclose()
    assert action.kind in (ActionKind.RESUME, ActionKind.START)
    assert outcome.kind is OutcomeKind.UNCERTAIN, outcome.message
    assert "connection broke" in outcome.message
    assert "sent again" not in outcome.message
    assert "sent twice" not in outcome.message
    assert counted["stale_keepalive"] == 1
    assert again is not None and again.raw_status == target.raw_status  # it never arrived


async def test_a_fresh_connection_is_always_served(sim: SimServer) -> None:
    """Every kept-alive connection closes (-1): the first pause meets the list's and goes
    again on a fresh one; the next opens a pooled connection of its own, served first
    time (the broken one was dropped, the fresh one closed after its one request)."""
    api = "joyride"
    client = make_client(settings_for(sim, api))
    try:
        targets = await client.list_targets()
        set_knobs(sim, api, stale_keepalive=-1)
        running = [t for t in targets if t.state not in HALTED][:2]
        outcomes = [await client.execute(t.id, Action(ActionKind.PAUSE)) for t in running]
    finally:
        await client.aclose()
    assert [o.kind for o in outcomes] == [OutcomeKind.APPLIED, OutcomeKind.APPLIED]
    assert RESENT in outcomes[0].message
    assert "sent again" not in outcomes[1].message
    assert sim_counters(sim, api)["stale_keepalive"] == 1
