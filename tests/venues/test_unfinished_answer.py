"""An answer begun and never finished is said so, with its status — not "no answer".

A venue (or a proxy in front of it) that sends its status line and headers, then trickles
its body or stops half-way, was reported "no answer within 5 s": on a stop, an operator
reads that as "the venue never saw it". It did, and began to answer: the words now say
its status and that the answer did not finish; the call may have landed either way
(found by session 23's raw probe; fails on the code before).
"""

from __future__ import annotations

import asyncio

import pytest

from console.venues.kit.http import CallError, send
from tests.venues.raw_venue import raw_venue


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_answer_that_never_finishes_names_its_status(method: str) -> None:
    done = asyncio.Event()

    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"targets\": [")  # fmt: skip
        await writer.drain()
        await done.wait()  # the rest never comes while the client waits
        writer.close()

    async with raw_venue(half) as http:
        try:
            with pytest.raises(CallError) as caught:
                await send(http, method, "/api/v1/sniper/targets", timeout_s=0.3)
        finally:
            done.set()  # (before the server closes: a server may wait for its handlers)
    error = caught.value
    assert error.message == "its answer (HTTP 200) did not finish within 0.3 s; not read"
    assert error.kind == "timeout" and error.maybe_sent
