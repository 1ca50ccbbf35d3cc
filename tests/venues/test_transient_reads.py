"""Each venue marks a failed list read worth trying again (``FeedError.transient``) as
the kit's one rule says (``console/venues/kit/transient.py``), over loopback.

A kill's planning read keeps trying a venue that says it is briefly in trouble and gives
up soon on one whose answer will not change; the verdict is the venue's to give, since
only it knows what its answers mean. Each of the five is held to it here: a 503 and a
refused connection are worth trying again; a 429 asking a wait past the cap, and an
answer past the body cap, are not.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from console.sim.server import SimServer
from console.venues.kit.feeds import FeedError
from console.venues.kit.http import Reply
from console.venues.kit.transient import transient_reply
from console.venues.registry import client_class
from tests.support import set_knobs, settings_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": APIS, "knobs": {api: {"rate_scale": 0.01} for api in APIS}}


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def list_failure(sim: SimServer, api: str, **overrides: Any) -> FeedError:
    client = client_class(api)(settings_for(sim, api, **overrides))
    try:
        with pytest.raises(FeedError) as caught:
            await client.list_targets()
    finally:
        await client.aclose()
    return caught.value


@pytest.mark.parametrize("api", APIS)
async def test_a_list_answered_503_is_worth_trying_again(sim: SimServer, api: str) -> None:
    set_knobs(sim, api, list_503=-1)
    failure = await list_failure(sim, api)
    assert failure.transient, failure
    assert "503" in str(failure)


@pytest.mark.parametrize("api", APIS)
async def test_a_venue_refusing_connections_is_worth_trying_again(sim: SimServer, api: str) -> None:
    """A venue restarting refuses connections for a moment (x3algo's login meets the
    closed port first: a login that never reached it counts against no budget)."""
    failure = await list_failure(sim, api, base_url=f"http://127.0.0.1:{closed_port()}")
    assert failure.transient, failure


async def test_an_x3algo_login_answered_503_is_not_tried_again_soon(sim: SimServer) -> None:
    """A login that reached x3algo may count against its 5 logins per 15 minutes:
    hammering it for a kill's planning could lock the account out."""
    set_knobs(sim, "x3algo", error_rate=1.0)
    failure = await list_failure(sim, "x3algo")
    assert not failure.transient, failure
    assert "log in" in str(failure)


@pytest.mark.parametrize("api", APIS)
async def test_a_429_asking_an_hour_is_not_tried_again_soon(sim: SimServer, api: str) -> None:
    set_knobs(sim, api, list_429=-1, retry_after="3600")
    failure = await list_failure(sim, api)
    assert not failure.transient, failure


@pytest.mark.parametrize("api", APIS)
async def test_an_answer_past_the_body_cap_is_not_tried_again_soon(
    sim: SimServer, api: str
) -> None:
    set_knobs(sim, api, huge_list_mb=2)
    failure = await list_failure(sim, api, max_body_bytes=1_048_576)
    assert not failure.transient, failure
    assert "larger than" in str(failure)


def test_a_503_asking_an_hour_is_not_tried_again_soon() -> None:
    """Maintenance for an hour: said at once, in the venue's words, not tried for 10 s."""
    assert transient_reply(Reply(503, {}, b"", 1.0), 30.0)
    assert transient_reply(Reply(503, {"retry-after": "5"}, b"", 1.0), 30.0)
    assert not transient_reply(Reply(503, {"retry-after": "3600"}, b"", 1.0), 30.0)
    assert transient_reply(Reply(429, {"retry-after": "1"}, b"", 1.0), 30.0)
    assert not transient_reply(Reply(429, {}, b"", 1.0, sent=False), 30.0)
    assert not transient_reply(Reply(404, {}, b"", 1.0), 30.0)
    assert transient_reply(Reply(408, {}, b"", 1.0), 30.0)
