"""The one send path's resend of a halting call (``send(..., resend_on_stale=True)``),
at the socket: when it happens, what it says, and when it must not happen.

A raw venue on 127.0.0.1 (an asyncio server, reached through a seam as production's
connector would reach it) writes exactly the bytes each test needs: nothing before
closing, or a part of an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest

from console.core.model import Outcome, OutcomeKind
from console.venues.kit.base import VenueSettings
from console.venues.kit.control import ControlStep, NoAnswer
from console.venues.kit.http import CallError, Reply, send
from console.venues.kit.http_client import make_http_client
from console.venues.kit.loopback import LOOPBACK, ToLoopback
from tests.venues.loopback import LoopbackVenue

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class RawVenue:
    """Answers the n-th request (one per connection) with ``answers[n]``, then closes.
    A seam: every host name connects here."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = list(answers)
        self.requests = 0
        self.server: asyncio.Server | None = None
        self.sessions: list[aiohttp.ClientSession] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, LOOPBACK, 0)

    async def _port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the requests here carry no body
        answer = self.answers[min(self.requests, len(self.answers) - 1)]
        self.requests += 1
        writer.write(answer)
        await writer.drain()
        writer.close()

    def connector(self, limit: int) -> aiohttp.BaseConnector:
        return aiohttp.TCPConnector(limit=limit, resolver=ToLoopback(self._port))

    def opened(self, session: aiohttp.ClientSession) -> None:
        self.sessions.append(session)


@pytest.fixture
async def raw() -> AsyncIterator[list[RawVenue]]:
    venues: list[RawVenue] = []
    yield venues
    for venue in venues:
        for session in venue.sessions:
            await session.close()
        if venue.server is not None:
            venue.server.close()
            await venue.server.wait_closed()


async def client_on(venues: list[RawVenue], *answers: bytes) -> tuple[RawVenue, httpx.AsyncClient]:
    venue = RawVenue(*answers)
    await venue.start()
    venues.append(venue)
    settings = VenueSettings(name="v", api="joyride", base_url="http://venue.test")
    return venue, make_http_client(settings, transport=venue)


async def test_a_halting_call_that_broke_before_any_answer_is_answered_the_second_time(
    raw: list[RawVenue],
) -> None:
    venue, client = await client_on(raw, b"", OK)
    reply = await send(client, "POST", "/pause", resend_on_stale=True)
    assert reply.status == 200
    assert reply.resent.startswith("sent again on a fresh connection")
    assert venue.requests == 2


@pytest.mark.parametrize(
    "partial",
    [
        b"HTTP/1.1 200 O",  # a part of a status line
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",  # part of the headers
        b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{",  # a part of the body
    ],
)
async def test_a_connection_that_broke_after_answer_bytes_is_not_sent_again(
    raw: list[RawVenue], partial: bytes
) -> None:
    venue, client = await client_on(raw, partial, OK)
    with pytest.raises(CallError) as caught:
        await send(client, "POST", "/pause", resend_on_stale=True)
    assert caught.value.maybe_sent
    assert "sent" not in caught.value.message
    assert venue.requests == 1


async def test_a_read_that_broke_before_any_answer_is_read_again_on_a_fresh_connection(
    raw: list[RawVenue],
) -> None:
    """aiohttp retries a GET once by itself, on whatever connection it gets next (after
    a quiet spell, as stale as the first); ours then goes on a fresh one."""
    venue, client = await client_on(raw, b"", b"", OK)
    reply = await send(client, "GET", "/list")
    assert reply.status == 200
    assert venue.requests == 3


async def test_a_read_that_breaks_every_time_goes_again_once_and_says_so(
    raw: list[RawVenue],
) -> None:
    venue, client = await client_on(raw, b"", b"", b"", b"", b"", OK)
    with pytest.raises(CallError) as caught:
        await send(client, "GET", "/list")
    assert "sent twice" in caught.value.message
    assert venue.requests == 4  # aiohttp's retry of each of our two: never more


async def test_a_call_not_halting_is_never_sent_again(raw: list[RawVenue]) -> None:
    venue, client = await client_on(raw, b"", OK)
    with pytest.raises(CallError) as caught:
        await send(client, "POST", "/resume")
    assert caught.value.maybe_sent
    assert caught.value.message == "connection broke: Server disconnected"
    assert venue.requests == 1


async def test_a_resend_that_breaks_too_is_uncertain_and_says_both_left() -> None:
    arrived: list[str] = []

    def hang_up(request: httpx.Request) -> httpx.Response:
        arrived.append(request.url.path)
        raise httpx.ReadError("hung up", request=request)

    venue = LoopbackVenue(hang_up)
    settings = VenueSettings(name="v", api="joyride", base_url="http://venue.test")
    client = make_http_client(settings, transport=venue)

    def judge(no_answer: NoAnswer, seen: str) -> Outcome:
        return no_answer.outcome(OutcomeKind.UNCERTAIN, f"{no_answer.what}; re-read: {seen}")

    async def reread() -> str:
        return "still running"

    async def translate(reply: Reply) -> Outcome:
        raise AssertionError(f"an answer came: {reply.status}")

    step: ControlStep[str] = ControlStep(
        refusals=None, reread=reread, judge=judge, reread_failed=lambda n, why: judge(n, why)
    )
    try:
        outcome = await step.run(
            lambda: send(client, "POST", "/pause", resend_on_stale=True),
            translate=translate,
            unreached=lambda err: Outcome(OutcomeKind.FAILED, err.message),
            unanswered=lambda err: f"no answer to the pause ({err.message})",
        )
    finally:
        await client.aclose()
        await venue.aclose()
    assert outcome.kind is OutcomeKind.UNCERTAIN
    assert "sent twice: the first broke before any answer (Server disconnected)" in outcome.message
    assert "the second, on a fresh connection, got no answer either" in outcome.message
    assert arrived == ["/pause", "/pause"]
    assert venue.errors == []


async def test_a_resend_answered_already_is_applied_by_the_first(raw: list[RawVenue]) -> None:
    """The venue paused on the first request, then its connection broke before any
    answer; the second finds it paused. The target was running when the call left, so
    the first did it: APPLIED, saying so — not ALREADY (an independent PipAI's journal
    said *already*, and ``audit --outcome applied`` missed the pause)."""
    venue, client = await client_on(raw, b"", OK)

    async def translate(reply: Reply) -> Outcome:
        return Outcome(OutcomeKind.ALREADY, "was already paused", reply.status)

    def never(no_answer: NoAnswer, seen: str) -> Outcome:
        raise AssertionError("an answer came: nothing to settle")

    async def reread() -> str:
        raise AssertionError("an answer came: nothing to re-read")

    step: ControlStep[str] = ControlStep(
        refusals=None, reread=reread, judge=never, reread_failed=never
    )
    outcome = await step.run(
        lambda: send(client, "POST", "/pause", resend_on_stale=True),
        translate=translate,
        unreached=lambda err: Outcome(OutcomeKind.FAILED, err.message),
        unanswered=lambda err: f"no answer to the pause ({err.message})",
    )
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.message.startswith("was already paused — the second request found it done")
    assert "most likely did it (sent again on a fresh connection" in outcome.message
    assert venue.requests == 2


async def test_an_answer_cut_short_says_so_in_words(raw: list[RawVenue]) -> None:
    """aiohttp's own words quoted an exception code (400) that read like HTTP's."""
    _, client = await client_on(raw, b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{")
    with pytest.raises(CallError) as caught:
        await send(client, "POST", "/pause", resend_on_stale=True)
    assert caught.value.message == (
        "connection broke: the answer was cut short (its body ended before the length it announced)"
    )


async def test_a_refused_connection_says_where_and_why_in_plain_words() -> None:
    """aiohttp's words quoted ``ssl:<ssl.SSLContext object at 0x…>`` for a plain http URL."""
    import socket

    with socket.socket() as closed:  # a port nothing listens on, once closed
        closed.bind((LOOPBACK, 0))
        port = closed.getsockname()[1]
    settings = VenueSettings(name="v", api="joyride", base_url=f"http://{LOOPBACK}:{port}")
    client = make_http_client(settings)
    try:
        with pytest.raises(CallError) as caught:
            await send(client, "GET", "/list")
    finally:
        await client.aclose()
    assert caught.value.message == f"cannot connect: {LOOPBACK}:{port}: connection refused"
    assert not caught.value.maybe_sent
