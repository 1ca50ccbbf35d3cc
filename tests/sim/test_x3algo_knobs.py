"""The x3algo simulator's hostile knobs, seen with plain httpx over loopback (never through
the console's client, so the knob is shown to do what its name says on its own)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.sim.server import SimServer
from tests.sim import x3algo_http
from tests.sim.x3algo_http import ALGOS, login
from tests.support import set_knobs, sim_admin


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("x3algo",)}


http = x3algo_http.http


async def page(http: httpx.AsyncClient, headers: dict[str, str], n: int) -> dict[str, Any]:
    r = await http.get(ALGOS, params={"page": n, "limit": 100}, headers=headers)
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


async def test_endless_pages_are_all_full_with_fresh_ids(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    set_knobs(sim, "x3algo", endless_pages=True)
    first, far = await page(http, headers, 1), await page(http, headers, 123_456)
    assert first["pagination"]["totalPages"] == far["pagination"]["totalPages"] == 10**9
    assert len(first["data"]) == len(far["data"]) == 100
    real = set(sim_admin(sim, "x3algo", "ids"))
    assert real <= {a["id"] for a in first["data"]}
    assert not {a["id"] for a in first["data"]} & {a["id"] for a in far["data"]}
    set_knobs(sim, "x3algo", endless_pages=False)
    assert (await page(http, headers, 1))["pagination"]["totalPages"] == 1


async def test_dot_ids_add_two_algorithms_at_the_end(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    set_knobs(sim, "x3algo", dot_ids=True)
    body = await page(http, headers, 1)
    assert [a["id"] for a in body["data"][-2:]] == [".", ".."]
    assert {a["status"] for a in body["data"][-2:]} == {"active"}
    assert body["pagination"]["total"] == 42


async def test_bad_row_spoils_exactly_one_row(http: httpx.AsyncClient, sim: SimServer) -> None:
    headers = await login(http, sim)
    bad = sim_admin(sim, "x3algo", "special")["bad_row"]
    set_knobs(sim, "x3algo", bad_row=True)
    rows = (await page(http, headers, 1))["data"]
    spoiled = [a for a in rows if not isinstance(a["performance"]["totalTrades"], int)]
    assert [(a["id"], a["performance"]["totalTrades"]) for a in spoiled] == [(bad, 2.5)]


async def test_escape_names_put_terminal_sequences_in_every_name(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    set_knobs(sim, "x3algo", escape_names=True)
    rows = (await page(http, headers, 1))["data"]
    assert all(a["name"].startswith("\x1b]0;") and "\x1b[2J" in a["name"] for a in rows)
    one = (await http.get(f"{ALGOS}/{rows[0]['id']}", headers=headers)).json()
    assert one["name"] == rows[0]["name"]


async def test_echo_secret_quotes_the_bearer_token_and_the_password(
    http: httpx.AsyncClient, sim: SimServer
) -> None:
    headers = await login(http, sim)
    set_knobs(sim, "x3algo", echo_secret=True)
    missing = await http.post(f"{ALGOS}/{'0' * 24}/stop", headers=headers)
    assert missing.status_code == 404
    assert headers["Authorization"] in missing.json()["error"]["message"]
    refused = await http.post(
        "/api/auth/login", json={"email": "who@example.com", "password": "guess-me-123"}
    )
    assert refused.status_code == 401
    assert "password guess-me-123 was given" in refused.json()["error"]["message"]
    fine = await http.get(ALGOS, headers=headers)
    assert fine.status_code == 200 and "request had" not in fine.text
