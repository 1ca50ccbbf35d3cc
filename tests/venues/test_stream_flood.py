"""A stream flooding the console is held back by TCP, never buffered without bound.

A venue may send stream frames faster than the console handles them (a hostile or broken
venue, a replay gone wrong). Without flow control the websocket library read them all
into memory: against a loopback flood PipAI's stream grew the console by ~60 MB a second
(480 MB in 8 s). Both streams now keep at most ``FRAMES_QUEUED`` frames received and not
handled; above that they stop reading the socket, the venue's writes back up, and memory
stays flat.

Here the console's frame handling is stopped (the screen's input-first hold, made long)
while a loopback venue sends as fast as its socket takes frames: with flow control the
venue's writes back up (the test sees its write buffer grow past 4 MB, never having sent
everything); without it the console reads every frame into memory and the venue sends
all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from console.core.input_first import INPUT_FIRST
from console.core.model import State, Target, TargetKind
from console.core.ports import VenueSettings
from console.venues.kit.feeds import stream_forever
from console.venues.kit.scrubber import VenueScrubber
from console.venues.pipai.feed import CHANNEL, UNLISTED_AT_MOST, StatusStream
from tests.support import RecordingSink

TOTAL = 300_000  # frames the venue tries to send (~75 MB); far more than any buffer holds
BACKED_UP = 4 * 2**20  # bytes waiting in the venue's own write buffer: it is held back

FRAME = (
    '{"op":"event","channel":"' + CHANNEL + '","id":"strat_0001","seq":%d,"event":{"id":'
    '"evt_%010x","type":"order_placed","created_at":"2026-12-05T23:00:00.000Z","data":'
    '{"strategy_id":"strat_0001","order_id":"ord_%09d","symbol":"BTCUSDT","side":"buy"}}}'
)


class Flood:
    """A PipAI stream that accepts the console, then sends events until it has sent
    :data:`TOTAL` or its write buffer holds :data:`BACKED_UP` bytes."""

    def __init__(self) -> None:
        self.sent = 0
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(self, ws: ServerConnection) -> None:
        await ws.recv()  # auth
        await ws.send(json.dumps({"op": "auth", "ok": True}))
        await ws.recv()  # subscribe
        await ws.send(json.dumps({"op": "ack", "channel": CHANNEL, "id": "*", "ok": True}))
        transport = ws.transport
        while self.sent < TOTAL:
            for _ in range(100):
                self.sent += 1
                transport.write(_frame(self.sent))  # as fast as the socket takes them
            if transport.get_write_buffer_size() >= BACKED_UP:
                self.ended.set_result("held back")
                await ws.wait_closed()  # open until the test ends
            await asyncio.sleep(0)  # the console's loop reads meanwhile (same loop)
        self.ended.set_result("sent everything")
        await ws.wait_closed()


def _frame(n: int) -> bytes:
    """One unmasked server text frame (the websocket framing, by hand: the library's
    send() would wait for its own buffer to drain, which hides the back-up)."""
    payload = (FRAME % (n, n, n)).encode()
    size = len(payload)
    head = bytes([0x81, size]) if size < 126 else bytes([0x81, 126]) + size.to_bytes(2, "big")
    return head + payload


class HoldingSink(RecordingSink):
    """Holds the console's frame handling at the first event (the screen's hold)."""

    def count_events(self, venue: str, n: int = 1) -> None:
        if not INPUT_FIRST.holding:
            INPUT_FIRST.hold()
        super().count_events(venue, n)


@contextlib.asynccontextmanager
async def flood_server() -> AsyncIterator[tuple[Flood, str]]:
    flood = Flood()
    async with serve(flood.handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield flood, f"ws://127.0.0.1:{port}/v1/ws"


async def test_a_flooding_stream_is_held_back_not_read_into_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(INPUT_FIRST, "at_most_s", 120.0)  # held until the test ends
    async with flood_server() as (flood, url):
        settings = VenueSettings(name="pipai", api="pipai", base_url="http://127.0.0.1:9",
                                 ws_url=url, request_timeout_s=10.0)  # fmt: skip

        async def nothing() -> list[Target]:
            return []

        async def none(_: str) -> Target | None:
            return None

        sink = HoldingSink()
        stream = StatusStream(settings, sink, list_all=nothing, read_one=none,
                              auth_frame=lambda: {"op": "auth"}, scrubber=VenueScrubber("pipai"))  # fmt: skip
        task = asyncio.create_task(stream_forever("pipai", stream._connect_and_run, sink))
        try:
            ended = await asyncio.wait_for(flood.ended, 60)
        finally:
            INPUT_FIRST.release()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert ended == "held back", f"the console read all {flood.sent:,} frames into memory"
    assert flood.sent < TOTAL


def _lifecycle(n: int, strategy_id: str) -> str:
    return json.dumps({"op": "event", "channel": CHANNEL, "id": strategy_id, "seq": n,
                       "event": {"id": f"evt_{n}", "type": "paused", "created_at": "2026-12-05T23:00:00Z",
                                 "data": {"strategy_id": strategy_id, "status": "paused"}}})  # fmt: skip


async def test_a_stream_naming_thousands_of_unlisted_ids_reads_the_list_not_each_id() -> None:
    """Each lifecycle event asks for a GET of its strategy (PipAI's docs advise it). A
    stream naming 10,000 ids the list never held queued 10,000 GETs (and kept every id
    in memory until each was read): now 32 at most wait, and one read of the whole list
    covers the rest. A listed strategy's event is still re-fetched, past that bound."""
    fetched: list[str] = []
    all_read = asyncio.Event()

    async def listed() -> list[Target]:
        return [Target("pipai", TargetKind.STRATEGY, "strat_listed", "s", State.RUNNING,
                       "deployed", {}, 0.0)]  # fmt: skip

    async def read_one(strategy_id: str) -> Target | None:
        fetched.append(strategy_id)
        if len(fetched) == UNLISTED_AT_MOST + 1:
            all_read.set()
        return None

    settings = VenueSettings(name="pipai", api="pipai", base_url="http://127.0.0.1:9",
                             ws_url="ws://127.0.0.1:9/v1/ws")  # fmt: skip
    stream = StatusStream(settings, RecordingSink(), list_all=listed, read_one=read_one,
                          auth_frame=lambda: {"op": "auth"}, scrubber=VenueScrubber("pipai"))  # fmt: skip
    await stream._list_and_note()  # the resync: strat_listed is known
    for n in range(10_000):
        stream._on_frame(_lifecycle(n, f"strat_ghost_{n:05d}"))
    stream._on_frame(_lifecycle(10_000, "strat_listed"))
    assert stream._resync_soon.is_set()  # the whole list is read again instead
    task = asyncio.create_task(stream._refetch_forever())
    try:
        await asyncio.wait_for(all_read.wait(), 30)
        assert not stream._refetch_ids  # nothing more waits: no GET after these
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(fetched) == UNLISTED_AT_MOST + 1
    assert "strat_listed" in fetched
    assert sum(1 for f in fetched if f.startswith("strat_ghost_")) == UNLISTED_AT_MOST
