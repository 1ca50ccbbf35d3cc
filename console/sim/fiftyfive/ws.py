"""The simulated 55-tech WebSocket `/ws/subscribe`.

No auth on connect; the API key comes in the subscribe frame (either spelling,
``apiKey`` or ``api_key``), within 30 s. Each subscription gets one outbound queue
drained by one sender task, so world broadcasts, heartbeats and the ``event_rate``
generator never write to the socket concurrently. Error frames use the [INF] envelope
``{"type": "error", "message": ...}`` with the documented strings, then close (1008).

Hostile knobs: ``revoked_keys`` refuses the first N keys' subscriptions like a revoked
key; ``echo_secret`` makes error frames quote the key they concern.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from console.sim.fiftyfive.world import Engine, FiftyFiveWorld
from console.sim.kit.context import VendorContext

CHANNELS = ("orders", "bets", "accounts", "scores", "emergency")
SUBSCRIBE_WITHIN_S = 30.0
HEARTBEAT_S = 60.0
MAX_CONNECTIONS_PER_KEY = 5
# A subscriber that cannot keep up loses events past this backlog (counted, not fatal).
_MAX_BACKLOG = 50_000
# The event_rate generator emits one batch per this many seconds.
_BATCH_S = 0.01

API_KEY_REQUIRED = "apiKey required"
BAD_KEY_FORMAT = "Invalid apiKey format"
BAD_KEY = "Invalid API key"
TOO_MANY = "Connection limit exceeded"


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def _key_in(raw: str) -> str | None:
    """The key a subscribe frame carries, if it carries a string one."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(frame, dict):
        return None
    key = frame.get("apiKey") or frame.get("api_key")
    return key if isinstance(key, str) else None


@dataclass(eq=False)
class Subscription:
    """One subscribed connection: whose it is, what it wants, what waits to be sent."""

    id: int
    engine: Engine
    channels: frozenset[str]
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def offer(self, frame: str, ctx: VendorContext) -> None:
        if self.queue.qsize() >= _MAX_BACKLOG:
            ctx.count("ws_overflow")
            return
        self.queue.put_nowait(frame)


class Hub:
    """Every live subscription, by client, and the broadcasts the world produces."""

    def __init__(self, ctx: VendorContext, world: FiftyFiveWorld) -> None:
        self.ctx = ctx
        self.world = world
        self.by_client: dict[str, set[Subscription]] = {}
        self._ids = itertools.count(1)
        self._synthetic = itertools.count(900_000_000)

    def all(self) -> list[Subscription]:
        return [s for subs in self.by_client.values() for s in subs]

    def broadcast_orders(
        self, engine: Engine, event: str, payload: dict[str, Any], old: dict[str, Any]
    ) -> None:
        subs = [s for s in self.by_client.get(engine.client, ()) if "orders" in s.channels]
        if not subs:
            return
        frame = dumps(
            {
                "type": "broadcast",
                "channel": "orders",
                "event": event,
                "payload": payload,
                "old": old,
            }
        )
        for sub in subs:
            sub.offer(frame, self.ctx)
        self.ctx.count("ws_events", len(subs))

    def broadcast_emergency(self, old: dict[str, Any]) -> None:
        """The global flags changed: tell every `emergency` subscriber (payload is [INF])."""
        payload = {
            **self.world.flags.fields(self.world.clock.now()),
            "changedAt": self.world.clock.iso(),
        }
        frame = dumps(
            {
                "type": "broadcast",
                "channel": "emergency",
                "event": "UPDATE",
                "payload": payload,
                "old": old,
            }
        )
        for sub in self.all():
            if "emergency" in sub.channels:
                sub.offer(frame, self.ctx)
                self.ctx.count("ws_events")

    # ----- one connection ----------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        self.ctx.track(ws)
        self.ctx.count("ws_connections")
        sub: Subscription | None = None
        tasks: list[asyncio.Task[None]] = []
        try:
            async with asyncio.timeout(SUBSCRIBE_WITHIN_S):
                first = await ws.receive_text()
            sub, error = self._subscribe(first)
            if sub is None:
                echoed = self._echo(error, _key_in(first))
                await ws.send_text(dumps({"type": "error", "message": echoed}))
                await ws.close(code=1008, reason=error)
                return
            self.by_client.setdefault(sub.engine.client, set()).add(sub)
            sub.offer(self._subscribed_frame(sub), self.ctx)
            tasks = [
                asyncio.create_task(self._send_loop(ws, sub)),
                asyncio.create_task(self._heartbeat_loop(sub)),
                asyncio.create_task(self._event_rate_loop(sub)),
                asyncio.create_task(self._read_loop(ws, sub)),
            ]
            # Ends when the client goes, the socket is closed from outside, or a send fails.
            await asyncio.wait([tasks[0], tasks[3]], return_when=asyncio.FIRST_COMPLETED)
            with contextlib.suppress(Exception):
                await ws.close(code=1000)
        except TimeoutError:
            with contextlib.suppress(Exception):
                await ws.close(code=1008, reason="no subscribe frame within 30 s")
        except Exception:  # closed from outside, client gone: nothing left to do
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if sub is not None:
                self.by_client.get(sub.engine.client, set()).discard(sub)
            self.ctx.untrack(ws)

    def _subscribe(self, raw: str) -> tuple[Subscription | None, str]:
        try:
            frame = json.loads(raw)
        except ValueError:
            return None, "Invalid JSON"
        if not isinstance(frame, dict) or frame.get("type") != "subscribe":
            return None, "Expected a subscribe frame"
        key = frame.get("apiKey") or frame.get("api_key")
        if not isinstance(key, str) or not key:
            return None, API_KEY_REQUIRED
        try:
            canonical = str(uuid.UUID(key))
        except ValueError:
            return None, BAD_KEY_FORMAT
        engine = self.world.by_key.get(canonical)
        if engine is None or engine.revoked or engine.index < self.ctx.knobs.revoked_keys:
            return None, BAD_KEY
        if len(self.by_client.get(engine.client, ())) >= MAX_CONNECTIONS_PER_KEY:
            return None, TOO_MANY
        wanted = frame.get("channels")
        if not isinstance(wanted, list):
            wanted = list(CHANNELS)  # [INF] no channels listed: everything
        channels = frozenset(c for c in wanted if c in CHANNELS)
        return Subscription(next(self._ids), engine, channels), ""

    @staticmethod
    def _subscribed_frame(sub: Subscription) -> str:
        channels = [c for c in CHANNELS if c in sub.channels]
        return dumps({"type": "subscribed", "subscriptionId": sub.id, "channels": channels})

    async def _read_loop(self, ws: WebSocket, sub: Subscription) -> None:
        while True:
            raw = await ws.receive_text()
            try:
                frame = json.loads(raw)
                kind = frame.get("type") if isinstance(frame, dict) else None
            except ValueError:
                kind = None
            if kind == "ping":
                sub.offer(dumps({"type": "pong"}), self.ctx)
            elif kind == "unsubscribe":
                sub.offer(dumps({"type": "unsubscribed", "subscriptionId": sub.id}), self.ctx)
                sub.channels = frozenset()
            elif kind == "subscribe":
                wanted = frame.get("channels")
                sub.channels = frozenset(
                    c for c in (wanted if isinstance(wanted, list) else CHANNELS) if c in CHANNELS
                )
                sub.offer(self._subscribed_frame(sub), self.ctx)
            else:
                message = self._echo("Unknown message type", sub.engine.key)
                sub.offer(dumps({"type": "error", "message": message}), self.ctx)

    def _echo(self, message: str, key: str | None) -> str:
        """``message``, quoting ``key`` under the ``echo_secret`` knob."""
        if self.ctx.knobs.echo_secret and key:
            return f"{message} (apiKey {key})"
        return message

    @staticmethod
    async def _send_loop(ws: WebSocket, sub: Subscription) -> None:
        queue = sub.queue
        while True:
            frame = await queue.get()
            await ws.send_text(frame)
            while not queue.empty():  # drain a batch without a scheduler round-trip each
                await ws.send_text(queue.get_nowait())

    async def _heartbeat_loop(self, sub: Subscription) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            sub.offer(dumps({"type": "heartbeat"}), self.ctx)

    async def _event_rate_loop(self, sub: Subscription) -> None:
        """Extra `orders` UPDATE events at `knobs.event_rate` per second, in small batches."""
        carry = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(_BATCH_S)
            now = time.monotonic()
            rate = self.ctx.knobs.event_rate
            elapsed, last = now - last, now
            if rate <= 0 or "orders" not in sub.channels:
                carry = 0.0
                continue
            carry += rate * elapsed
            n, carry = int(carry), carry - int(carry)
            if n:
                self._synthetic_batch(sub, n)

    def _synthetic_batch(self, sub: Subscription, n: int) -> None:
        stamp = self.world.clock.iso()
        prefix = '{"type":"broadcast","channel":"orders","event":"UPDATE","payload":{"orderId":'
        rest = (
            f',"orderStatus":"FILLED","matchedStake":25.0,"matchedAt":"{stamp}"}},'
            '"old":{"orderStatus":"PLACED","matchedStake":0}}'
        )
        for _ in range(n):
            sub.offer(f"{prefix}{next(self._synthetic)}{rest}", self.ctx)
        self.ctx.count("ws_events", n)
