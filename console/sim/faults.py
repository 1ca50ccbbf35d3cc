"""Fault knobs applied in front of a simulated vendor, as a plain ASGI middleware.

Latency, outages (503), 429 bursts, random 500s and cut-short JSON bodies are the same
for every vendor except for the error envelope, which each vendor module supplies.
Unknown status values and dropped WebSockets need the vendor's world and live there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.sim.vendor import VendorSim


class FaultMiddleware:
    def __init__(self, app: ASGIApp, vendor: VendorSim) -> None:
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
        if knobs.down:
            fault = self.vendor.error_response(503, "Service unavailable (simulated outage)")
        elif knobs.burst_429 > 0:
            knobs.burst_429 -= 1
            ctx.count("429")
            fault = self.vendor.error_response(
                429, "Rate limit exceeded", retry_after=max(0.05, knobs.rate_scale)
            )
        elif ctx.chance(knobs.error_rate):
            fault = self.vendor.error_response(500, "Internal error (simulated)")
        if fault is not None:
            await fault(scope, receive, send)
            return
        if ctx.chance(knobs.malformed_rate):
            await self.app(scope, receive, _truncating(send))
            return
        await self.app(scope, receive, send)


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
        if 200 <= start.get("status", 500) < 300 and len(body) > 1:
            body = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped
