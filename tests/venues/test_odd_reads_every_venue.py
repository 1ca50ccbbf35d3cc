"""Odd answers to a read, said in words an operator can act on, at every venue.

A raw loopback server answers every request of all five venues' clients the same odd
way (found by session 23's raw probe; each test fails on the code before):

* **a redirect** — a venue behind a load balancer answers ``http://`` with ``307`` to
  ``https://``. The console never follows one (a call goes to the profile's base URL
  only), and each venue's read failed with the status and the body's words —
  ``307: "(empty body)"`` — which told the operator nothing to act on. Now the words say
  it was a redirect, not followed, that base_url is the thing to check, and the scheme,
  host and port it pointed to — never its path or query, which may carry a token.
* **a JSON list where an object belongs** — pydantic's words named our own classes
  ("Input should be a valid dictionary or instance of ListPage"): now "an object was
  expected, not a list" (``console/venues/kit/shape.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from console.core.journal import Journal
from console.core.session import SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
LOCATION = b"https://127.0.0.1:9/login?session=TOKEN-IN-THE-PATH"
REDIRECT = (b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + LOCATION
            + b"\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n<h1>Moved</h1>")  # fmt: skip
A_LIST = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n[1,2,3]"


async def serving(raw: bytes) -> AsyncIterator[str]:
    """A loopback server answering every request with ``raw``; yields its base URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(raw)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def redirecting() -> AsyncIterator[str]:
    async for url in serving(REDIRECT):
        yield url


@pytest.fixture
async def listing() -> AsyncIterator[str]:
    async for url in serving(A_LIST):
        yield url


async def read_failures(sim: SimServer, tmp_path: Path, base_url: str) -> dict[str, str]:
    """Every venue's list read, each venue's client pointed at ``base_url``."""
    settings = [
        dataclasses.replace(settings_for(sim, api), base_url=base_url, ws_url=None) for api in APIS
    ]
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    session = session_for(SessionOptions(profile="sim", label="SIM"), settings, journal)
    try:
        failures = await session.refresh()
    finally:
        await session.aclose()
    assert set(failures) == set(APIS)
    return {api: str(why) for api, why in failures.items()}


def each(failures: dict[str, str], check: Callable[[str], bool]) -> None:
    for api, words in failures.items():
        assert check(words), (api, words)


async def test_a_redirected_read_names_the_redirect_at_every_venue(
    sim: SimServer, tmp_path: Path, redirecting: str
) -> None:
    failures = await read_failures(sim, tmp_path, redirecting)
    each(failures, lambda w: "a redirect, not followed: check this venue's base_url" in w)
    each(failures, lambda w: "https://127.0.0.1:9" in w)
    each(failures, lambda w: "TOKEN" not in w and "/login" not in w)


async def test_a_list_where_an_object_belongs_is_said_in_the_venues_words(
    sim: SimServer, tmp_path: Path, listing: str
) -> None:
    failures = await read_failures(sim, tmp_path, listing)
    each(failures, lambda w: "instance of" not in w and "valid dictionary" not in w)
    each(failures, lambda w: "list" in w)
