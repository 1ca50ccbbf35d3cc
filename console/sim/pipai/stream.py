"""PipAI's Strategy Status WebSocket (``/v1/ws``) as the simulator serves it.

Auth by signed URL query or by a first ``{"op": "auth", ...}`` frame (same canonical
string ``timestamp + "GET" + "/v1/ws"``); the auth reply ``{"op": "auth", "ok": ...}``
is our choice for the [GAP]. Unauthenticated connections are closed after 5 s.
Subscriptions are per strategy id or ``"*"``; events use the [INF] envelope of
CONTRACTS.md with a per-connection ``seq``.

Each connection has an outgoing queue drained by one writer task, so world events,
acks and the ``event_rate`` load never interleave writes; :meth:`Hub.flush` lets the
pause handler wait until its ``position_closed`` events are written before it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import deque
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from console.sim.kit.context import VendorContext
from console.sim.pipai.auth import WS_PATH, AuthFailure, Keyring
from console.sim.pipai.hostile import echoed
from console.sim.pipai.world import PipAIWorld

CHANNEL = "strategy.status"
_BATCH_INTERVAL_S = 0.02
_PROGRESS_EVERY = 64
_MAX_QUEUE = 200_000  # beyond this the client is too slow and gets dropped
_LOAD_QUEUE_CAP = 20_000  # event_rate load is not generated past this backlog


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class Subscriber:
    """One authenticated connection: what it subscribed to and what is queued for it."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.ids: set[str] = set()
        self.all = False
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.progress = asyncio.Event()
        self.seq = 0
        self.enqueued = 0
        self.sent = 0
        self.overflow = False

    def wants(self, strategy_id: str) -> bool:
        return self.all or strategy_id in self.ids

    def push(self, text: str) -> None:
        if len(self.queue) >= _MAX_QUEUE:
            self.overflow = True
        else:
            self.queue.append(text)
            self.enqueued += 1
        self.wake.set()

    def push_event(self, strategy_id: str, event_json: str) -> None:
        self.seq += 1
        self.push(
            f'{{"op":"event","channel":"{CHANNEL}","id":{_dumps(strategy_id)},'
            f'"seq":{self.seq},"event":{event_json}}}'
        )

    async def write_forever(self) -> None:
        """Drain the queue onto the socket until it closes (or the client is too slow)."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self._write()

    async def _write(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.overflow:
                await self.ws.close(code=1013, reason="client too slow: event backlog overflow")
                return
            n = 0
            while self.queue:
                await self.ws.send_text(self.queue.popleft())
                self.sent += 1
                n += 1
                if n % _PROGRESS_EVERY == 0:
                    self.progress.set()
            self.progress.set()

    async def flushed(self, upto: int) -> None:
        while self.sent < upto:
            self.progress.clear()
            await self.progress.wait()


class Hub:
    """Every live subscriber of one simulated vendor, and the event ids they share."""

    def __init__(self, ctx: VendorContext, world: PipAIWorld, keyring: Keyring) -> None:
        self.ctx = ctx
        self.world = world
        self.keyring = keyring
        self.subscribers: set[Subscriber] = set()
        self.auth_timeout_s = 5.0
        self._rng = random.Random(f"{ctx.seed}:pipai:events")

    def event_id(self) -> str:
        return f"evt_{self._rng.getrandbits(40):010x}"

    def publish(self, strategy_id: str, kind: str, data: dict[str, Any]) -> None:
        """Queue one event for every connection subscribed to ``strategy_id`` or ``*``."""
        if not self.subscribers:
            return
        listeners = [s for s in self.subscribers if s.wants(strategy_id)]
        if not listeners:
            return
        event = {
            "id": self.event_id(),
            "type": kind,
            "created_at": self.ctx.clock.iso(ms=True),
            "data": data,
        }
        text = _dumps(event)
        for sub in listeners:
            sub.push_event(strategy_id, text)
        self.ctx.count("ws_events", len(listeners))

    async def flush(self, timeout_s: float = 5.0) -> None:
        """Wait until everything queued so far has been written (bounded: slow clients)."""
        marks = [(sub, sub.enqueued) for sub in self.subscribers]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                for sub, upto in marks:
                    await sub.flushed(upto)

    # ----- one connection -----------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        self.ctx.track(ws)
        sub = Subscriber(ws)
        tasks: list[asyncio.Task[None]] = []
        try:
            if not await self._authenticate(ws):
                return
            self.subscribers.add(sub)
            tasks = [
                asyncio.create_task(sub.write_forever()),
                asyncio.create_task(self._load_forever(sub)),
            ]
            while True:
                self._handle(sub, await ws.receive_text())
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # closed by the client, by /_sim/drop-websockets or by the drop knob
        finally:
            self.subscribers.discard(sub)
            for task in tasks:
                task.cancel()
            self.ctx.untrack(ws)
            with contextlib.suppress(Exception):
                await ws.close()

    async def _authenticate(self, ws: WebSocket) -> bool:
        query = ws.query_params
        sent_key, sent_signature = query.get("api_key") or "", query.get("signature") or ""
        try:
            if "signature" in query:
                self.keyring.verify(
                    query.get("api_key"),
                    query.get("timestamp"),
                    query.get("signature"),
                    "GET",
                    WS_PATH,
                    b"",
                )
                return True
            try:
                async with asyncio.timeout(self.auth_timeout_s):
                    first = await ws.receive_text()
            except TimeoutError:
                await ws.close(code=1008, reason="authentication timeout")
                return False
            frame = _parse(first)
            sent_key = str(frame.get("api_key") or "")
            sent_signature = str(frame.get("signature") or "")
            if frame.get("op") != "auth":
                raise AuthFailure(400, "INVALID_PARAMETER", "first frame must be an auth frame")
            timestamp = frame.get("timestamp")
            self.keyring.verify(
                _str_or_none(frame.get("api_key")),
                str(timestamp) if isinstance(timestamp, int | str) else None,
                _str_or_none(frame.get("signature")),
                "GET",
                WS_PATH,
                b"",
            )
        except AuthFailure as exc:
            message = exc.message
            if self.ctx.knobs.echo_secret:
                message = echoed(message, sent_key, sent_signature, self.keyring)
            reply = {"op": "auth", "ok": False, "code": exc.code, "message": message}
            await ws.send_text(_dumps(reply))
            await ws.close(code=1008, reason=exc.code)
            return False
        await ws.send_text(_dumps({"op": "auth", "ok": True}))
        if self.ctx.knobs.echo_secret:
            # A careless server's notice quoting the credentials it was just sent.
            notice = echoed("Session opened", sent_key, sent_signature, self.keyring)
            await ws.send_text(_dumps({"op": "error", "code": "NOTICE", "message": notice}))
            self.ctx.count("ws_echo")
        return True

    def _handle(self, sub: Subscriber, text: str) -> None:
        frame = _parse(text)
        op = frame.get("op")
        channel = frame.get("channel")
        target = frame.get("id")
        if op == "ping":
            sub.push(_dumps({"op": "pong"}))
            return
        if op not in ("subscribe", "unsubscribe"):
            sub.push(_dumps({"op": "error", "code": "INVALID_PARAMETER", "message": "unknown op"}))
            return
        ack: dict[str, Any] = {"op": "ack", "channel": channel, "id": target, "ok": True}
        if channel != CHANNEL:
            ack.update(ok=False, code="INVALID_PARAMETER", message=f"unknown channel {channel!r}")
        elif target != "*" and (not isinstance(target, str) or target not in self.world.strategies):
            ack.update(ok=False, code="NOT_FOUND", message="strategy not found")
        elif op == "subscribe":
            if target == "*":
                sub.all = True
            else:
                sub.ids.add(str(target))
        elif target == "*":
            sub.all = False
            sub.ids.clear()
        else:
            sub.ids.discard(str(target))
        sub.push(_dumps(ack))

    async def _load_forever(self, sub: Subscriber) -> None:
        """``event_rate`` knob: extra order events to ``*`` subscribers, in short batches."""
        carry = 0.0
        last = time.monotonic()
        order = 0
        while True:
            await asyncio.sleep(_BATCH_INTERVAL_S)
            now = time.monotonic()
            rate, dt, last = self.ctx.knobs.event_rate, now - last, now
            ids = self.world.deployed_ids() if rate > 0 and sub.all else []
            if not ids or len(sub.queue) > _LOAD_QUEUE_CAP:
                carry = 0.0
                continue
            carry += rate * dt
            n, carry = int(carry), carry - int(carry)
            created = self.ctx.clock.iso(ms=True)
            for _ in range(n):
                order += 1
                sid = ids[order % len(ids)]
                kind = "order_placed" if order % 2 else "order_filled"
                symbol = self.world.strategies[sid].symbols[0]
                sub.push_event(
                    sid,
                    f'{{"id":"evt_{self._rng.getrandbits(40):010x}","type":"{kind}",'
                    f'"created_at":"{created}","data":{{"strategy_id":"{sid}",'
                    f'"order_id":"ord_load_{order:09d}","symbol":"{symbol}","side":"buy"}}}}',
                )
            self.ctx.count("ws_events", n)


def _parse(text: str) -> dict[str, Any]:
    try:
        frame = json.loads(text)
    except ValueError:
        return {}
    return frame if isinstance(frame, dict) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
