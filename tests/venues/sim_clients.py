"""Clients on the simulator, shared by the venue tests that run over loopback
(``test_<venue>_{client,faults,hostile,loopback}.py``).

Each venue's modules make their clients the same way (and close them the same way, even
when a test fails); the hostile modules had copied that from the older ones, so it lives
here once. The simulator each module starts stays in the module (its ``sim_options``),
next to the tests that depend on it.

A module takes a fixture by assignment, under the name its tests ask for::

    client = sim_clients.finradar_client

(pytest finds a fixture by the module attribute's name; an imported fixture would be
shadowed, for the linter, by the test argument of the same name.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.finradar.client import FinRadarClient
from console.venues.joyride.client import JoyrideClient
from console.venues.kit.base import VenueSettings
from console.venues.x3algo.client import X3AlgoClient
from tests.support import RecordingSink, settings_for

# ----- 55-tech: take both, as ``clients`` and ``make_client`` -------------------------------
FiftyFiveMaker = Callable[..., FiftyFiveClient]


@pytest.fixture
async def fiftyfive_clients() -> AsyncIterator[list[FiftyFiveClient]]:
    """Every client a test makes, closed at teardown even when the test fails."""
    made: list[FiftyFiveClient] = []
    yield made
    for client in made:
        await client.aclose()


@pytest.fixture
def fiftyfive_maker(sim: SimServer, clients: list[FiftyFiveClient]) -> FiftyFiveMaker:
    """Makes a 55-tech client on the simulator (``settings_for`` overrides as keywords)."""

    def make(**overrides: Any) -> FiftyFiveClient:
        client = FiftyFiveClient(settings_for(sim, "55tech", **overrides))
        clients.append(client)
        return client

    return make


# ----- FinRadar -------------------------------------------------------------------------------
@pytest.fixture
async def finradar_client(sim: SimServer) -> AsyncIterator[FinRadarClient]:
    c = FinRadarClient(settings_for(sim, "finradar"))
    yield c
    await c.aclose()


# ----- x3algo ---------------------------------------------------------------------------------
@pytest.fixture
async def x3algo_client(sim: SimServer) -> AsyncIterator[X3AlgoClient]:
    c = X3AlgoClient(settings_for(sim, "x3algo"))
    yield c
    await c.aclose()


@pytest.fixture
async def x3algo_logged_in(sim: SimServer) -> AsyncIterator[X3AlgoClient]:
    """An x3algo client logged in, and the names known, before any knob is switched on."""
    c = X3AlgoClient(settings_for(sim, "x3algo"))
    await c.list_targets()
    yield c
    await c.aclose()


# ----- Joyride (plain helpers: import them) ---------------------------------------------------
@contextlib.asynccontextmanager
async def joyride(settings: VenueSettings) -> AsyncIterator[JoyrideClient]:
    client = JoyrideClient(settings)
    try:
        yield client
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def feeding(client: JoyrideClient, sink: RecordingSink) -> AsyncIterator[None]:
    """The client's feed running into ``sink`` for the block, cancelled after it."""
    task = asyncio.create_task(client.run_feed(sink))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
