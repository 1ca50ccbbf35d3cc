"""The keep-alive race, made deterministic: a kept-alive connection closed as a request
arrives on it, without a byte of an answer (the ``stale_keepalive`` knob).

Venues close idle connections — a load balancer after 60–600 s, a small API on
gunicorn or uvicorn after 2–5 s — and a client that writes a request on one just as it
closes meets no answer at all ("Server disconnected", or a reset). Every pooled
connection idles together, so the first calls after a quiet spell can all meet it.
The race cannot be reproduced with timers reliably; this reproduces its outcome: while
the knob is non-zero, a request other than a GET (a control call) arriving on a
connection that has already been answered (a kept-alive one) is not read, not
answered, and the connection is closed. The first request of a fresh connection is
always served, and so are GETs: aiohttp re-sends an idempotent request itself (once,
perhaps on another pooled connection), and a world where every read of a kill also
broke would test that, not the halting calls' resend this knob is for.

It lives at the connection, below the ASGI app (which only ever sees whole requests and
must answer them): uvicorn takes the vendor's own subclass of its httptools protocol
(:func:`keepalive_protocol`, ``http=`` in ``console/sim/server.py``). Such a request is
counted as ``requests`` (it arrived) and ``stale_keepalive``; ``/_sim`` requests are
never closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from console.sim.kit.context import VendorContext


def keepalive_protocol(ctx: VendorContext) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol for one vendor, closing kept-alive connections as a
    request other than a GET arrives while ``ctx.knobs.stale_keepalive`` says so (N: the
    next N such requests, counting down; -1: every one)."""

    class StaleKeepAlive(HttpToolsProtocol):
        def data_received(self, data: bytes) -> None:
            if ctx.knobs.stale_keepalive and self._idle_kept_alive() and _aimed(data):
                knobs = ctx.knobs
                knobs.stale_keepalive -= 1 if knobs.stale_keepalive > 0 else 0
                ctx.count("requests")
                ctx.count("stale_keepalive")
                self.transport.close()  # nothing read, nothing answered
                return
            super().data_received(data)

        def _idle_kept_alive(self) -> bool:
            """Whether this connection has answered a request and waits for the next."""
            cycle = self.cycle
            return cycle is not None and cycle.response_complete and not self.pipeline

    StaleKeepAlive.__name__ = StaleKeepAlive.__qualname__ = f"StaleKeepAlive_{ctx.name}"
    return StaleKeepAlive


def _aimed(data: bytes) -> bool:
    """Whether ``data`` starts a request the knob closes: not a GET, not ``/_sim``."""
    parts = data.split(b" ", 2)
    if len(parts) < 2:
        return False
    return parts[0] != b"GET" and not parts[1].startswith(b"/_sim")
