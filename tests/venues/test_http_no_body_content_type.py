"""A request without a body carries no Content-Type (aiohttp would label it
``application/octet-stream``, which a strict venue may refuse)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from console.venues.kit.base import VenueSettings
from console.venues.kit.http import send
from console.venues.kit.http_client import make_http_client

Seen = list[dict[str, str]]


@pytest.fixture
async def venue() -> AsyncIterator[tuple[str, Seen]]:
    """A tiny server on 127.0.0.1 that records each request's headers."""
    seen: Seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_post_without_a_body_sends_no_content_type(venue: tuple[str, Seen]) -> None:
    base_url, seen = venue
    client = make_http_client(VenueSettings(name="v", api="x3algo", base_url=base_url))
    try:
        reply = await send(client, "POST", "/algos/1/stop")
    finally:
        await client.aclose()
    assert reply.status == 200
    assert "content-type" not in seen[0], seen[0]


async def test_a_post_with_a_body_still_says_json(venue: tuple[str, Seen]) -> None:
    base_url, seen = venue
    client = make_http_client(VenueSettings(name="v", api="x3algo", base_url=base_url))
    try:
        await send(client, "POST", "/algos/1/stop", content=b'{"reason": "r"}')
    finally:
        await client.aclose()
    assert seen[0]["content-type"] == "application/json"
