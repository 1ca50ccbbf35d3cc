"""A venue that answers in raw bytes, on loopback: for answers no HTTP server would send
(a broken status line, an answer that never finishes). The client is a venue's own
(:func:`~console.venues.kit.http_client.make_http_client`): the production send path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx

from console.venues.kit.base import VenueSettings
from console.venues.kit.http_client import make_http_client

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_venue(answer: Answer) -> AsyncIterator[httpx.AsyncClient]:
    """A loopback server running ``answer`` for each connection, and a FinRadar client of it."""
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = VenueSettings(
        name="finradar", api="finradar", base_url=f"http://127.0.0.1:{port}", pacing=False
    )
    http = make_http_client(settings)
    try:
        yield http
    finally:
        await http.aclose()
        server.close()
        await server.wait_closed()
