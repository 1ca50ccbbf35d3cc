"""A scripted venue on a real socket, below the venue clients' one send path.

Production sends every request through aiohttp (``console/venues/kit/http.py``); unit
tests used to swap that for httpx's ``MockTransport``, so they ran an httpx path that
production never ran. :class:`LoopbackVenue` keeps the tests' handlers — a function
``httpx.Request -> httpx.Response`` (or an awaitable of one), as ``MockTransport`` took
— but serves them from an aiohttp server on 127.0.0.1 (port 0), so the client's request
building, headers, timeouts, body cap and error mapping are the production ones.

How the client gets here without changing its base URL: it is the client's seam
(``transport=``, :class:`console.venues.kit.http_client.Seam`). Its connector is production's
but for an aiohttp resolver that sends every host name to this server. Base URLs are
``http://`` (no TLS on loopback; the venue's host name is kept, the handler sees it)
and name a host: aiohttp connects to an IP address (``http://127.0.0.1:8401``) without
asking any resolver, so such a client would bypass the seam.

The server starts lazily, in the running loop, on the client's first request (tests
still build clients synchronously), keeps connections alive as a venue does (about
four times faster per request than a connection each), and closes with the last of its
clients (``aclose``) or, for clients a test leaves open, after the test
(``tests/venues/conftest.py``).

The two kinds of "no answer":

- a handler raising ``httpx.TimeoutException`` (``ReadTimeout``): the venue got the
  request and never answers. The server holds the answer until the client gives up
  and hangs up (its own timeout; tests keep it short).
- a refused connection — nothing sent — cannot come from a handler, which only runs
  once the request has arrived: the test calls :meth:`LoopbackVenue.refuse` before the
  call, and from then on connections go to a loopback port that is bound but not
  listening, so the client's connect really fails (``CallError`` "connect", unsent).
  A connection kept alive from an earlier answer would carry the call instead, so a
  test that refuses after the venue has answered builds it with ``keep_alive=False``
  (every answer then says ``Connection: close``); :meth:`refuse` checks.

A handler raising another ``httpx.TransportError`` (``ReadError``, ``RemoteProtocolError``)
makes the venue hang up without an answer (the client: "connection broke"). Any other
exception — a bug in the test's handler, or ``ConnectError`` raised after the request
arrived — hangs up too and fails the test (``tests/venues/conftest.py``), as it would
have surfaced through ``MockTransport``.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
from aiohttp import web
from multidict import CIMultiDict

from console.venues.kit.loopback import LOOPBACK, ToLoopback

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

_OPEN: set[LoopbackVenue] = set()
_UNEXPECTED: list[BaseException] = []


class LoopbackVenue:
    """A test's handler served on 127.0.0.1; the seam a venue client is given."""

    def __init__(self, handler: Handler, *, keep_alive: bool = True) -> None:
        self.handler = handler
        self.keep_alive = keep_alive
        self.answered = 0
        self.refusing = False
        self.refused = 0
        """Connections refused so far: one per request the client tried to send."""
        self.errors: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start: asyncio.Task[None] | None = None
        self._runner: web.ServerRunner | None = None
        self._listening: socket.socket | None = None
        self._closed_port: socket.socket | None = None
        self._connectors: list[aiohttp.BaseConnector] = []
        self._sessions: list[aiohttp.ClientSession] = []

    # -- the seam ---------------------------------------------------------------------

    def connector(self, limit: int) -> aiohttp.BaseConnector:
        """Production's connector, but every name resolves here (and is not cached, so
        :meth:`refuse` takes effect at once)."""
        connector = _VenueConnector(self, limit)
        self._connectors.append(connector)
        return connector

    def opened(self, session: aiohttp.ClientSession) -> None:
        """Kept until the venue closes, which closes it (a test may never close its client)."""
        self._sessions.append(session)
        self._loop = self._loop or asyncio.get_running_loop()
        _OPEN.add(self)

    def refuse(self) -> None:
        """From now on, connections are refused: nothing more reaches the handler."""
        if self.keep_alive and self.answered:
            raise RuntimeError(
                "a connection kept alive would carry the next request past the refusal: "
                "build this LoopbackVenue with keep_alive=False"
            )
        self.refusing = True

    # -- the server -------------------------------------------------------------------

    async def port(self) -> int:
        """The port a connection goes to now: the server's, or a closed one when refusing."""
        if self.refusing:
            self.refused += 1
            return self._refusing_port()
        loop = asyncio.get_running_loop()
        if self._start is None or self._loop is not loop:
            if self._loop is not None and self._loop is not loop:
                await self._abandon()
            self._loop = loop
            self._start = loop.create_task(self._serve())
            _OPEN.add(self)
        await asyncio.shield(self._start)
        assert self._listening is not None
        return int(self._listening.getsockname()[1])

    def _refusing_port(self) -> int:
        if self._closed_port is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))  # bound, never listening: a connect is refused
            self._closed_port = sock
        return int(self._closed_port.getsockname()[1])

    async def _serve(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        self._listening = sock
        server = web.Server(self._answer, handler_cancellation=True, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def _answer(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        asked = httpx.Request(
            request.method,
            f"http://{request.host}{request.raw_path}",
            headers=list(request.raw_headers),
            content=body,
        )
        try:
            answer = self.handler(asked)
            if inspect.isawaitable(answer):
                answer = await answer
            self.answered += 1
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The request has arrived: too late to refuse it (LoopbackVenue.refuse).
            return self._unexpected(request, exc)
        except httpx.TimeoutException:
            # The venue got it and never answers: hold until the client hangs up (which
            # cancels this handler) or the venue closes.
            await asyncio.Event().wait()
            raise
        except httpx.TransportError:
            return _hang_up(request)
        except Exception as exc:
            return self._unexpected(request, exc)
        return await _reply(request, answer, self.keep_alive)

    def _unexpected(self, request: web.BaseRequest, exc: Exception) -> web.StreamResponse:
        self.errors.append(exc)
        _UNEXPECTED.append(exc)
        return _hang_up(request)

    async def _client_closed(self, connector: aiohttp.BaseConnector) -> None:
        """A client closed (``aclose``): the venue closes with the last of its clients."""
        if connector in self._connectors:
            self._connectors.remove(connector)
            self._sessions = [s for s in self._sessions if not s.closed]
            if not self._connectors and self._loop is asyncio.get_running_loop():
                await self.aclose()

    async def aclose(self) -> None:
        """Stop the server and the clients' connectors it made (their sessions close)."""
        _OPEN.discard(self)
        connectors, self._connectors = self._connectors, []
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            await session.close()
        for connector in connectors:
            await connector.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._start = None
        self._loop = None
        for sock in (self._listening, self._closed_port):
            if sock is not None:
                sock.close()
        self._listening = self._closed_port = None

    async def _abandon(self) -> None:
        """A new loop (a property test's runner per example): the old server is dead."""
        for sock in (self._listening,):
            if sock is not None:
                sock.close()
        self._runner = None
        self._listening = None
        self._connectors.clear()
        self._sessions.clear()


def handler_errors() -> list[BaseException]:
    """The exceptions handlers raised unexpectedly since the last call (and forget them)."""
    errors = list(_UNEXPECTED)
    _UNEXPECTED.clear()
    return errors


async def close_open_venues() -> None:
    """Close every venue started in the running loop (``tests/venues/conftest.py``)."""
    loop = asyncio.get_running_loop()
    for venue in list(_OPEN):
        if venue._loop is loop:
            await venue.aclose()
        elif venue._loop is None or venue._loop.is_closed():
            _OPEN.discard(venue)


async def _reply(
    request: web.BaseRequest, answer: httpx.Response, keep_alive: bool
) -> web.StreamResponse:
    """The handler's httpx answer as aiohttp's: status, headers (repeats kept), body.
    A 1xx is no final answer on the wire: the client reads on for one, so the server
    hangs up after it (kept alive, the client would wait out its timeout)."""
    try:
        content = await answer.aread()
    except RuntimeError:  # a synchronous stream
        content = answer.read()
    headers: CIMultiDict[str] = CIMultiDict(
        (k, v) for k, v in answer.headers.multi_items() if k.lower() not in _HOP_BY_HOP
    )
    if "content-length" in answer.headers or not content:
        reply = web.Response(status=answer.status_code, body=content, headers=headers)
        if not keep_alive or answer.status_code < 200:
            reply.force_close()
        return reply
    streamed = web.StreamResponse(status=answer.status_code, headers=headers)
    if not keep_alive or answer.status_code < 200:
        streamed.force_close()
    streamed.enable_chunked_encoding()
    await streamed.prepare(request)
    await streamed.write(content)
    await streamed.write_eof()
    return streamed


def _hang_up(request: web.BaseRequest) -> web.StreamResponse:
    """No answer at all: the connection is closed under the request."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


class _VenueConnector(aiohttp.TCPConnector):
    """Production's connector (same pool limit) but for two things: names resolve to the
    venue and are not cached (:meth:`LoopbackVenue.refuse` applies at once), and closing
    it — the client's ``aclose`` — tells the venue."""

    def __init__(self, venue: LoopbackVenue, limit: int) -> None:
        super().__init__(limit=limit, resolver=ToLoopback(venue.port), use_dns_cache=False)
        self._venue = venue

    async def close(self, *, abort_ssl: bool = False) -> None:
        await super().close(abort_ssl=abort_ssl)
        await self._venue._client_closed(self)
