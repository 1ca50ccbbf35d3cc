"""An answer that is not HTTP a client can read is said so — never as an HTTP 400.

aiohttp raises a status line that is not one, a header line past 8,190 bytes, a broken
chunk or two Content-Lengths as ``ClientResponseError`` with its own code 400; the words
of a kill's line were "connection broke: 400, message=…", read by an operator as "the
venue answered 400". A raw loopback server sends each; the error names what it was,
says the call may have reached the venue, and is not worth reading again within the
kill's retry window (the same request meets the same answer). Failed on the code before.
"""

from __future__ import annotations

import asyncio

import pytest

from console.venues.kit.http import CallError, send
from tests.venues.raw_venue import raw_venue

BODY = b'{"targets": []}'
ANSWERS = {
    "not a status line": b"HELLO THERE\r\n\r\n",
    "a header past 8,190 bytes": b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n",
    "a broken chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 15\r\n\r\n" + BODY,
    "no status line at all": BODY,
}


async def error_of(raw: bytes, method: str) -> CallError:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        writer.close()

    async with raw_venue(answer) as http:
        with pytest.raises(CallError) as caught:
            await send(http, method, "/api/v1/sniper/targets")
    return caught.value


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("raw", ANSWERS.values(), ids=ANSWERS.keys())
async def test_an_answer_that_is_not_http_is_named_as_such_and_not_read_again(
    raw: bytes, method: str
) -> None:
    error = await error_of(raw, method)
    assert error.message.startswith("the answer was not HTTP this console can read ("), error
    assert "400" not in error.message and "message=" not in error.message
    assert "\n" not in error.message
    assert error.kind == "protocol" and error.maybe_sent  # it reached something there
    assert not error.transient
