"""Fault knobs applied in front of a simulated vendor, as a plain ASGI middleware.

Latency, outages (503), 429 bursts, random 500s and cut-short JSON bodies are the same
for every vendor except for the error envelope, which each vendor module supplies. So are
the hostile answers any venue could give (issue 11): 429s with any ``Retry-After``, list
bodies that are not lists, huge or deeply nested, compression bombs (``list_bomb_mb``,
``control_bomb_mb``: gzip or deflate that inflates a thousandfold), a list key named
twice (``duplicate_keys``), control calls refused 400 (``control_400``), control calls
carried out and answered with a bare status nobody documents (``control_status``: 202,
204, a redirect, a gateway's 502 / 504), answers behind a byte order mark (``bom``) and
control answers or single reads naming another target (``echo_other``, ``read_other``)
and reads echoing the caller's credential into names and tickers (``key_in_names``) or
numbers no venue could mean (``huge_numbers``), and error answers too large to read
(``huge_errors_mb``: their status line still says what happened).
Unknown status values and dropped WebSockets need the vendor's world and live there.
A kept-alive connection closed as a request arrives (``stale_keepalive``) happens below
any ASGI app, at the connection: ``console/sim/kit/keepalive.py``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.sim.kit.vendor import VendorSim
from console.sim.kit.world import World


class FaultMiddleware:
    def __init__(self, app: ASGIApp, vendor: VendorSim[World]) -> None:
        self.app = app
        self.vendor = vendor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        ctx = self.vendor.ctx
        knobs = ctx.knobs
        if scope["type"] == "websocket":
            if knobs.down:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1013, "reason": "simulated outage"})
                return
            await self.app(scope, receive, send)
            return
        ctx.count("requests")
        if knobs.latency_ms > 0:
            # Read the request first, then be slow: a caller that gives up waiting has
            # still delivered its call, which the vendor then carries out — as a real
            # server does, and what makes a timed-out control call truly uncertain.
            receive = await _buffered(receive)
            await asyncio.sleep(knobs.latency_ms / 1000)
        fault = None
        if knobs.huge_errors_mb > 0:
            send = _padding_errors(send, knobs.huge_errors_mb)
        listing = scope["method"] == "GET" and scope["path"] in self.vendor.list_paths
        if listing and knobs.hold_lists:
            ctx.count("held_lists")
            await ctx.until(lambda k: not k.hold_lists)  # released over /_sim/knobs
        if listing and await self._hostile_list(scope, receive, send):
            return
        control = scope["method"] != "GET" and scope["path"] not in self.vendor.auth_paths
        if control and knobs.hold_controls:
            receive = await _buffered(receive)
            ctx.count("held")
            await ctx.until(lambda k: not k.hold_controls)  # released over /_sim/knobs
        if knobs.down:
            fault = self.vendor.error_response(503, "Service unavailable (simulated outage)")
        elif control and knobs.control_bomb_mb > 0:
            ctx.count("bomb")  # answered before the app: nothing was done
            fault = _bomb(knobs.control_bomb_mb, knobs.bomb_encoding)
        elif control and knobs.control_400:
            knobs.control_400 -= 1 if knobs.control_400 > 0 else 0
            ctx.count("400")
            fault = self.vendor.error_response(400, "Bad Request (simulated)")
        elif control and knobs.control_429:
            knobs.control_429 -= 1 if knobs.control_429 > 0 else 0
            ctx.count("429")
            fault = self._429()
        elif knobs.burst_429 > 0:
            knobs.burst_429 -= 1
            ctx.count("429")
            fault = self._429()
        elif ctx.chance(knobs.error_rate):
            fault = self.vendor.error_response(500, "Internal error (simulated)")
        if fault is not None:
            await fault(scope, receive, send)
            return
        if ctx.chance(knobs.malformed_rate):
            await self.app(scope, receive, _truncating(send))
            return
        if listing and knobs.duplicate_keys:
            send = _repeating_list_key(send)
        reading_one = scope["method"] == "GET" and not listing
        if (control and knobs.echo_other) or (reading_one and knobs.read_other):
            send = _naming_another(send, scope["path"])
        if control and knobs.control_status:
            ctx.count(str(knobs.control_status))
            send = _status_only(send, knobs.control_status)
        if scope["method"] == "GET" and knobs.huge_numbers:
            send = _rewriting(send, _huge_numbers)
        if scope["method"] == "GET" and knobs.key_in_names:
            send = _naming_the_key(send, _credential(scope))
        if knobs.bom:
            send = _with_bom(send)
        await self.app(scope, receive, send)

    def _429(self) -> Response:
        knobs = self.vendor.ctx.knobs
        response = self.vendor.error_response(
            429, "Rate limit exceeded", retry_after=max(0.05, knobs.rate_scale)
        )
        if knobs.retry_after:
            response.headers["Retry-After"] = knobs.retry_after
        return response

    async def _hostile_list(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer a list read the way a hostile venue does, when a knob says so."""
        ctx = self.vendor.ctx
        knobs = ctx.knobs
        response: Response | None = None
        if knobs.list_429:
            knobs.list_429 -= 1 if knobs.list_429 > 0 else 0
            ctx.count("429")
            response = self._429()
        elif knobs.list_503:  # a venue restarting, or its gateway with no backend
            knobs.list_503 -= 1 if knobs.list_503 > 0 else 0
            ctx.count("503")
            response = self.vendor.error_response(503, "Service temporarily unavailable")
        elif knobs.list_body:
            body = b"" if knobs.list_body == "EMPTY" else knobs.list_body.encode()
            response = Response(body, 200, media_type="application/json")
        elif knobs.deep_nesting > 0:
            response = Response(b"[" * knobs.deep_nesting, 200, media_type="application/json")
        elif knobs.huge_list_mb > 0:
            size = int(knobs.huge_list_mb * 1_048_576)
            response = _Padded(size)
        elif knobs.list_bomb_mb > 0:
            response = _bomb(knobs.list_bomb_mb, knobs.bomb_encoding)
        if response is None:
            return False
        ctx.count("hostile_list")
        await response(scope, receive, send)
        return True


class _Padded(Response):
    """A valid JSON body of ``size`` bytes (``[]`` after whitespace), streamed in chunks
    without a Content-Length, so only a reader that counts can refuse it in time."""

    def __init__(self, size: int) -> None:
        super().__init__(None, 200, media_type="application/json")
        self.size = size
        del self.headers["content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        chunk = b" " * 65536
        left = self.size
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"[]", "more_body": False})


@functools.lru_cache(maxsize=4)
def _compressed_zeros(mb: float, encoding: str) -> bytes:
    """A body that starts like a JSON answer and inflates to ``mb`` MB (of zero bytes):
    about a thousandth of that on the wire. Made once per size."""
    wbits = 31 if encoding == "gzip" else 15  # gzip framing, or zlib's (HTTP "deflate")
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [packer.compress(b'{"data": [], "x": "')]
    left = int(mb * 1_048_576)
    zeros = b"\0" * 1_048_576
    while left > 0:
        out.append(packer.compress(zeros[: min(left, len(zeros))]))
        left -= len(zeros)
    out.append(packer.flush())
    return b"".join(out)


def _bomb(mb: float, encoding: str) -> Response:
    """A 200 whose body, compressed with ``encoding``, inflates to ``mb`` MB: a declared
    length of the wire bytes says nothing of what a reader ends up holding."""
    if encoding not in ("gzip", "deflate"):
        raise ValueError(f"bomb_encoding must be gzip or deflate, not {encoding!r}")
    body = _compressed_zeros(mb, encoding)
    return Response(body, 200, media_type="application/json",
                    headers={"Content-Encoding": encoding})  # fmt: skip


def _rewriting(send: Send, rewrite: Callable[[bytes], bytes], *, any_status: bool = False) -> Send:
    """Wrap ``send`` so a successful (2xx; ``any_status``: any) answer's whole body goes
    out as ``rewrite(body)``, its Content-Length set to match."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        if any_status or 200 <= start.get("status", 500) < 300:
            body = rewrite(body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _status_only(send: Send, status: int) -> Send:
    """Wrap ``send`` so the answer, whatever the app made of the call, goes out as
    ``status`` with no body (a redirect's Location is a closed loopback port)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(b"content-length", b"0")]
            if 300 <= status < 400:
                headers.append((b"location", b"http://127.0.0.1:9/elsewhere"))
            await send({**message, "status": status, "headers": headers})
        elif message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})
        else:
            await send(message)

    return wrapped


def _naming_another(send: Send, path: str) -> Send:
    """Wrap ``send`` so a successful answer names another target: every segment of the
    call's path (longer than 4 characters) quoted as a JSON string in the answer becomes
    itself + ``-other``."""
    segments = [unquote(s) for s in path.split("/") if len(s) > 4]

    def rename(body: bytes) -> bytes:
        for segment in segments:
            quoted = json.dumps(segment).encode()
            body = body.replace(quoted, json.dumps(segment + "-other").encode())
        return body

    return _rewriting(send, rename)


_HUGE_KEYS = frozenset({"totalTrades", "totalProfit", "winRate", "profitFactor",
                        "open_positions", "total_trades"})  # fmt: skip


def _huge_numbers(body: bytes) -> bytes:
    """Every number under one of :data:`_HUGE_KEYS`: an integer becomes 10**400, a
    float 1e300 (the rest of the answer, paging and all, is left as it was)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: _huge(v) if k in _HUGE_KEYS else walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return json.dumps(walk(parsed)).encode()


def _huge(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return 10**400 if isinstance(value, int) else 1e300


_KEY_HEADERS = (b"x-api-key", b"x-pipai-api-key", b"authorization")


def _credential(scope: Scope) -> bytes:
    """What the caller authenticated with: its key header's value, or its bearer token."""
    for name, value in scope.get("headers", []):
        if name.lower() in _KEY_HEADERS:
            last: bytes = value.split(b" ")[-1]
            return last
    return b""


def _naming_the_key(send: Send, key: bytes) -> Send:
    """Wrap ``send`` so every ``"name"`` and ``"ticker"`` of a successful answer begins
    with ``key`` (a venue echoing the caller's credential into what it lists)."""

    def rename(body: bytes) -> bytes:
        if not key:
            return body
        for field in (b'"name":"', b'"name": "', b'"ticker":"', b'"ticker": "'):
            body = body.replace(field, field + key + b" ")
        return body

    return _rewriting(send, rename)


def _padding_errors(send: Send, mb: float) -> Send:
    """Wrap ``send`` so every error answer (4xx, 5xx) ends in ``mb`` MB of blanks (still
    the same JSON): its status line says what happened, its body is too large to read."""
    padding = b" " * int(mb * 1_048_576)
    start: dict[str, Any] = {}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            if message.get("status", 200) < 400:
                await send(message)
            return
        if start.get("status", 200) < 400 or message["type"] != "http.response.body":
            await send(message)
            return
        if message.get("more_body", False):
            start.setdefault("chunks", []).append(message.get("body", b""))
            return
        body = b"".join([*start.pop("chunks", []), message.get("body", b""), padding])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _with_bom(send: Send) -> Send:
    """Wrap ``send`` so every answer's body begins with a UTF-8 byte order mark."""
    return _rewriting(send, lambda body: b"\xef\xbb\xbf" + body, any_status=True)


def _repeating_list_key(send: Send) -> Send:
    """Wrap ``send`` so a successful JSON object's first list key is named once more,
    last, with ``[]``: ``{"data": [...], …, "data": []}`` (a reader that keeps the last
    of a repeated key sees no targets)."""

    def repeat(body: bytes) -> bytes:
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        if not isinstance(parsed, dict):
            return body
        key = next((k for k, v in parsed.items() if isinstance(v, list)), None)
        if key is None:
            return body
        return body.rstrip()[:-1] + b"," + json.dumps(key).encode() + b":[]}"

    return _rewriting(send, repeat)


async def _buffered(receive: Receive) -> Receive:
    """Read the whole request body now and hand it to the app later, as if just received."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay


def _truncating(send: Send) -> Send:
    """Wrap ``send`` so a successful body is cut in half (invalid JSON, right length)."""
    return _rewriting(send, lambda body: body[: len(body) // 2] if len(body) > 1 else body)
