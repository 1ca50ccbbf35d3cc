"""A network error's words are scrubbed before the send path cuts them.

aiohttp's error for a broken status line quotes the line the venue sent; ``send()`` cut
those words at 160 characters. A venue echoing our credential in such a line, with the
credential running across the cut, left its first characters in the outcome (the words
of "connection broke: …", since session 22 "the answer was not HTTP …") — past the venue's scrubber, which no longer saw it whole.
The client now scrubs them first (``use_scrubber``; by default the profile's configured
secrets). A raw loopback server answers the line; every padding puts the token at
another place around the cut. Failed on the code before (``'jr_admi'`` at padding 80).
"""

from __future__ import annotations

import asyncio

import pytest

from console.venues.joyride.client import JoyrideClient
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.http import CallError, send
from console.venues.kit.http_client import make_http_client

TOKEN = "jr_admin_" + "Q7" * 15
NOT_HTTP = "the answer was not HTTP this console can read ("


def leaks(secret: str, text: str) -> list[str]:
    """Every 6-character piece of ``secret`` found in ``text``."""
    return [secret[i : i + 6] for i in range(len(secret) - 5) if secret[i : i + 6] in text]


async def words_of_a_broken_status_line(padding: int, *, venue_client: bool) -> str:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        line = b"HTTP/1.1 2" + b"x" * padding + TOKEN.encode() + b" OK\r\n"
        writer.write(line + b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = VenueSettings(
        name="joyride", api="joyride", base_url=f"http://127.0.0.1:{port}",
        credentials={"admin_token": Secret(TOKEN)}, pacing=False,
    )  # fmt: skip
    try:
        if venue_client:  # the venue's own scrubber
            client = JoyrideClient(settings)
            http = client._http
        else:  # a client made without one: the profile's configured secrets
            http = make_http_client(settings)
        try:
            with pytest.raises(CallError) as caught:
                await send(http, "GET", "/v1/market/instruments")
        finally:
            await (client.aclose() if venue_client else http.aclose())
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.message.startswith(NOT_HTTP)
    return caught.value.message


@pytest.mark.parametrize("venue_client", [True, False], ids=["venue scrubber", "configured"])
async def test_a_token_echoed_across_the_cut_of_a_broken_status_line_never_shows(
    venue_client: bool,
) -> None:
    for padding in range(60, 111, 5):  # the token before, across and past the cut
        words = await words_of_a_broken_status_line(padding, venue_client=venue_client)
        assert leaks(TOKEN, words) == [], (padding, words)
        assert len(words) <= len(NOT_HTTP) + 120 + 1
