"""A read answered by a redirect says so, and where, at every venue.

A venue behind a load balancer answers ``http://`` with ``301``/``307`` to ``https://``:
the console never follows a redirect (a call goes to the profile's base URL only), and
each venue's read failed with the status and the body's words — ``307: "(empty body)"``,
which told the operator nothing they could act on. Now the words say it was a redirect,
not followed, that base_url is the thing to check, and the scheme, host and port it
pointed to — never its path or query, which may carry a token. A raw loopback server
answers every request so (found by session 23's raw probe; fails on the code before).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.core.journal import Journal
from console.core.session import SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
LOCATION = b"https://127.0.0.1:9/login?session=TOKEN-IN-THE-PATH"


@pytest.fixture
async def redirecting() -> AsyncIterator[str]:
    """A loopback server answering every request ``307`` to :data:`LOCATION`."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + LOCATION
                             + b"\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n"
                             + b"<h1>Moved</h1>")  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_redirected_read_names_the_redirect_at_every_venue(
    sim: SimServer, tmp_path: Path, redirecting: str
) -> None:
    settings = [
        dataclasses.replace(settings_for(sim, api), base_url=redirecting, ws_url=None)
        for api in APIS
    ]
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    session = session_for(SessionOptions(profile="sim", label="SIM"), settings, journal)
    try:
        failures = await session.refresh()
    finally:
        await session.aclose()
    assert set(failures) == set(APIS)
    for api, why in failures.items():
        words = str(why)
        assert "a redirect, not followed: check this venue's base_url" in words, (api, words)
        assert "https://127.0.0.1:9" in words, (api, words)
        assert "TOKEN" not in words and "/login" not in words, (api, words)
