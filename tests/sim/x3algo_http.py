"""Plain httpx on the x3algo simulator, shared by its contract tests (test_x3algo_sim.py)
and its knob tests (test_x3algo_knobs.py), which had copied it.

Never the console's client: a misreading shared by both sides cannot hide. A module takes
the fixture by assignment, ``http = x3algo_http.http``, under the name its tests ask for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from console.sim.server import SimServer

ALGOS = "/api/trading/algorithms"


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sim.base_url("x3algo"), trust_env=False, verify=False
    ) as client:
        yield client


async def login(http: httpx.AsyncClient, sim: SimServer) -> dict[str, str]:
    """Logs in with the simulator's credentials: the headers that carry the token."""
    r = await http.post("/api/auth/login", json=sim.vendors["x3algo"].credentials())
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}
