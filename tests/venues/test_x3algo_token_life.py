"""What x3algo says of its access token's life is taken with care.

A login answering ``expiresIn: 30`` (a venue with short-lived tokens) made every call
refresh first — the refresh margin was a fixed minute — so five calls spent x3algo's
whole budget of five logins and refreshes per 15 minutes and the sixth failed: a kill
could stop five algorithms, then no more. ``0``, a negative number, NaN or ``null`` did
the same. Now the margin is at most a quarter of the life said, and a life that is not a
positive number of seconds is taken as the documented 15 minutes (a 401 still renews a
token that dies sooner).
"""

from __future__ import annotations

import pytest

from console.core.model import Action, ActionKind, OutcomeKind
from console.sim.server import SimServer
from console.venues.x3algo.auth import AUTH_RATE, DOCUMENTED_LIFE_S, token_life
from console.venues.x3algo.client import X3AlgoClient
from console.venues.x3algo.wire import LoginReply
from tests.support import set_knobs, settings_for, sim_admin, sim_counters

STOP = Action(ActionKind.STOP)


@pytest.mark.parametrize("said", ["30", "0", "-5", "null", "1e-9", '"soon"'])
async def test_a_short_or_senseless_token_life_does_not_spend_the_login_budget(
    sim: SimServer, said: str
) -> None:
    set_knobs(sim, "x3algo", expires_in=said)
    client = X3AlgoClient(settings_for(sim, "x3algo"))
    try:
        await client.list_targets()
        active = sim_admin(sim, "x3algo", "ids", status="active")
        assert len(active) >= 8
        for algo in active[:8]:
            outcome = await client.execute(algo, STOP)
            assert outcome.kind is OutcomeKind.APPLIED, outcome
        for _ in range(3):
            await client.list_targets()
        counts = sim_counters(sim, "x3algo")
        assert counts.get("logins", 0) + counts.get("refreshes", 0) <= 2, counts
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("said", "life"),
    [(900, 900.0), ("900", 900.0), (3600.5, 3600.5), (240, 240.0), (239, DOCUMENTED_LIFE_S),
     (30, DOCUMENTED_LIFE_S), (0, DOCUMENTED_LIFE_S), (-5, DOCUMENTED_LIFE_S),
     (float("nan"), DOCUMENTED_LIFE_S), (float("inf"), DOCUMENTED_LIFE_S),
     ("1e400", DOCUMENTED_LIFE_S), (10**400, DOCUMENTED_LIFE_S), (True, DOCUMENTED_LIFE_S),
     (None, DOCUMENTED_LIFE_S), ("soon", DOCUMENTED_LIFE_S), ([900], DOCUMENTED_LIFE_S)],
)  # fmt: skip
def test_token_life_takes_what_the_budget_can_keep_up_with(said: object, life: float) -> None:
    assert token_life(said, AUTH_RATE) == life


@pytest.mark.parametrize(
    "body",
    [{"accessToken": "t0ken-a", "expiresIn": 900},
     {"access_token": "t0ken-a", "expires_in": 900},
     {"token": "t0ken-a"},
     {"success": True, "data": {"accessToken": "t0ken-a", "expiresIn": 900}},
     {"data": {"access_token": "t0ken-a"}, "message": "ok"}],
)  # fmt: skip
def test_a_login_answer_in_any_plausible_shape_gives_its_token(body: dict[str, object]) -> None:
    """The login body is a [GAP] of the docs: an implementation of the same docs may
    name or wrap the token otherwise; each such shape reads the token."""
    reply = LoginReply.model_validate(body)
    assert reply.access_token == "t0ken-a"
    assert token_life(reply.expires_in, AUTH_RATE) == DOCUMENTED_LIFE_S


def test_a_login_answer_without_a_token_is_refused() -> None:
    with pytest.raises(ValueError):
        LoginReply.model_validate({"data": {"user": "x"}})
