"""The 55-tech feed: REST polling for each engine's state plus one WebSocket per key.

The client's own manual pause/stop has no stream (Project decision 1), so every key's
``GET /trading/status`` is polled each ``poll_interval_s``. Each key also holds one
``/ws/subscribe`` connection on ``orders`` and ``emergency``:

* ``orders`` broadcasts are counted per key here and, coalesced every 50 ms, added to
  the client's ``orders_seen`` and handed to the sink as one ``count_events`` and one
  patch per engine — a stream of 25,000 events/s costs a dict increment each, not a
  sink call each. The client's counters move only in that flush, together with the
  sink's event count: a poll's snapshot (which reads ``orders_seen``) never shows
  orders the sink has not been told of;
* an ``emergency`` broadcast wakes the poller for an immediate REST resync of every
  engine (the payload's shape is undocumented, so it is not trusted for state).

Health is one mark for the venue: DOWN when REST reads fail (REST is where the state
comes from; a key that fails names its engine, and the engines that did answer are
still delivered), LIVE when every stream is subscribed, RECONNECTING while one is
retrying, POLLING when a stream stays down but REST answers.

No credential reaches a health detail, an error or a log line: every text passes the
client's scrubber (the venue may echo a key, in an error frame too), and the WebSocket
library is given kit's :class:`~console.venues.kit.ws_log.ScrubbingLogger`, which logs
frames without their payload (the subscribe frame carries the key) and scrubs the rest.

The pieces are kit's: the poller is :func:`~console.venues.kit.feeds.poll_forever`
(woken early by an ``emergency`` broadcast), each stream runs under
:func:`~console.venues.kit.feeds.stream_forever`, and their health folds into one mark
in :class:`~console.venues.kit.health.HealthFold`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect

from console.core.model import Target
from console.venues.fiftyfive.wire import StreamFrame, combine_errors
from console.venues.kit.base import FeedSink, FeedStatus
from console.venues.kit.feeds import (
    FRAMES_QUEUED,
    FeedError,
    Incomplete,
    describe,
    handle_frames,
    poll_forever,
    stream_forever,
)
from console.venues.kit.health import HealthFold
from console.venues.kit.ws_log import ScrubbingLogger

if TYPE_CHECKING:
    from console.venues.fiftyfive.client import FiftyFiveClient

log = logging.getLogger(__name__)

CHANNELS = ("orders", "emergency")
PING_INTERVAL_S = 30.0  # the docs' recommended client ping
FLUSH_S = 0.05

_WS_LOG = logging.getLogger("console.venues.fiftyfive.feed.websocket")


async def run_feed(client: FiftyFiveClient, sink: FeedSink) -> None:
    await _Feed(client, sink).run()


@dataclass
class _Conn:
    """One open stream: whose key, and when it last heard anything."""

    index: int
    last_rx: float
    dead: str = ""


class _Feed:
    def __init__(self, client: FiftyFiveClient, sink: FeedSink) -> None:
        self.client = client
        self.sink = sink
        self.venue = client.name
        settings = client.settings
        self.interval = settings.poll_interval_s
        self.ping_s = float(settings.options.get("ping_interval_s", PING_INTERVAL_S))
        self.ws_url = client.ws_url() if settings.options.get("stream", True) else None
        streams = client.key_count if self.ws_url else 0
        self.health = HealthFold(sink, self.venue, streams, client.scrub, polled="engine state")
        self.ws_log = ScrubbingLogger(_WS_LOG, client.scrub)
        self.wake = asyncio.Event()
        self.pending_events = 0
        # Order events per key, not yet in the client's orders_seen (see _flush).
        self.pending_orders: dict[int, int] = {}

    async def run(self) -> None:
        self.health.set_poll(FeedStatus.CONNECTING)
        jobs: list[Callable[[], Awaitable[None]]] = [self._poll_loop, self._flush_loop]
        for index in range(self.client.key_count if self.ws_url else 0):
            jobs.append(self._stream_job(index))
        tasks = [asyncio.create_task(self._guarded(job)) for job in jobs]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._flush()

    async def _guarded(self, job: Callable[[], Awaitable[None]]) -> None:
        """A bug in one loop must not end the feed: report it and start the loop again."""
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                trace = "".join(traceback.format_exception(exc))
                log.error("55-tech feed loop failed: %s", self.client.scrub(trace))
                self.health.set_poll(FeedStatus.DOWN, f"feed error: {describe(exc)}")
                await asyncio.sleep(1.0)

    # ----- REST ---------------------------------------------------------------------------
    async def _poll_loop(self) -> None:
        await poll_forever(
            self.venue,
            self._read_every_key,
            self.health.poll_sink(),
            self.interval,
            wake=self.wake,
            words=str,  # already in words, scrubbed, per key
        )

    async def _read_every_key(self) -> list[Target]:
        """Every key's engine; when some keys fail, what did answer is still delivered
        (fresh) and the poll is :class:`Incomplete`. Each failed key's engine comes
        UNKNOWN, as a kill's list has it (:meth:`~console.venues.fiftyfive.client.
        FiftyFiveClient.failed_engines`): one read before as its last read, saying so
        (its state now is not known: the stream carries no status), one never read as
        ``key #N`` (its stop may still land). When no key answered, nothing is said of
        any engine: the rest keeps its last state under the venue's down mark."""
        targets, failures = await self.client.read_all()
        if failures:
            failed = self.client.failed_engines(failures) if targets else []
            errors = [f"{self.client.ids.row_id(i)}: {exc}" for i, exc in failures]
            raise Incomplete(combine_errors(errors, self.client.key_count), targets + failed)
        return targets

    # ----- streams ------------------------------------------------------------------------
    def _stream_job(self, index: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await stream_forever(
                self.venue,
                lambda on_live: self._stream_once(index, on_live),
                self.health.stream_sink(index),
            )

        return job

    async def _stream_once(self, index: int, on_live: Callable[[], None]) -> None:
        assert self.ws_url is not None
        client = self.client
        timeout = client.settings.request_timeout_s
        key = client.key(index).reveal()
        subscribe = {"type": "subscribe", "apiKey": key, "api_key": key, "channels": list(CHANNELS)}
        try:
            ws = await connect(
                self.ws_url,
                open_timeout=timeout,
                ping_interval=None,  # the vendor's own JSON ping is used instead
                close_timeout=1.0,
                compression=None,
                proxy=None,
                max_queue=FRAMES_QUEUED,  # a flood is held back by TCP, never buffered
                user_agent_header="trading-console/0.1",
                logger=self.ws_log,
            )
        except (OSError, TimeoutError) as exc:
            raise self._error(f"cannot open the 55-tech stream: {describe(exc)}") from None
        except Exception as exc:  # InvalidStatus, InvalidHandshake ...
            raise self._error(f"55-tech refused the stream connection: {describe(exc)}") from None
        async with ws:
            await ws.send(json.dumps(subscribe))
            async with asyncio.timeout(timeout):
                first = _frame(await ws.recv())
            if first.type == "error":
                raise self._error(
                    f"55-tech refused the stream subscription for {client.who(index)}: "
                    f"'{first.message}'"
                )
            if first.type != "subscribed":
                raise self._error(
                    f"55-tech stream for {client.who(index)} answered '{first.type}' "
                    "instead of confirming the subscription"
                )
            on_live()
            await self._resync(index)
            conn = _Conn(index, time.monotonic())
            pinger = asyncio.create_task(self._ping_loop(ws, conn))
            try:
                await handle_frames(ws, functools.partial(self._on_frame, conn))
            finally:
                pinger.cancel()
                self._flush()
            if conn.dead:
                raise self._error(conn.dead)

    def _error(self, text: str) -> FeedError:
        """A stream failure in scrubbed words (they reach health, logs and the screen)."""
        return FeedError(self.client.scrub(text))

    async def _resync(self, index: int) -> None:
        """After each (re)connect, re-read this key's engine: events may have been missed."""
        try:
            self.sink.upsert([await self.client.read_key(index)])
        except FeedError as exc:  # the poller reports REST trouble; the stream carries on
            log.info("55-tech resync after connect failed: %s", self.client.scrub(str(exc)))

    async def _ping_loop(self, ws: ClientConnection, conn: _Conn) -> None:
        while True:
            await asyncio.sleep(self.ping_s)
            silent = time.monotonic() - conn.last_rx
            if silent > 2 * self.ping_s:
                conn.dead = f"55-tech stream silent for {silent:.0f} s (no pong): reconnecting"
                await ws.close(code=1000, reason="no pong")
                return
            await ws.send('{"type":"ping"}')

    def _on_frame(self, conn: _Conn, raw: str | bytes) -> None:
        """One stream frame; the hot path of a busy stream, so plain dict access only."""
        conn.last_rx = time.monotonic()
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError):
            log.warning("55-tech stream sent malformed JSON; frame skipped")
            return
        if not isinstance(frame, dict):
            return
        kind = frame.get("type")
        if kind == "broadcast":
            self.pending_events += 1
            channel = frame.get("channel")
            if channel == "orders":
                self._count_order(conn.index)
            elif channel == "emergency":
                self.wake.set()  # global flags changed: resync every engine now
        elif kind == "error":
            raise self._error(
                f"55-tech stream error for {self.client.who(conn.index)}: '{frame.get('message')}'"
            )

    def _count_order(self, index: int) -> None:
        self.pending_orders[index] = self.pending_orders.get(index, 0) + 1

    # ----- coalesced delivery -----------------------------------------------------------
    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            self._flush()

    def _flush(self) -> None:
        """The orders counted since the last flush into the client's ``orders_seen``,
        and the sink told of them, in one step: nothing awaits in between, so no poll's
        snapshot shows a count the sink has not had. A key not read yet keeps its count
        until it has an id."""
        seen = self.client.orders_seen
        dirty: list[str] = []
        for index, n in list(self.pending_orders.items()):
            target_id = self.client.id_of(index)
            if target_id is None:
                continue
            del self.pending_orders[index]
            seen[target_id] = seen.get(target_id, 0) + n
            dirty.append(target_id)
        if self.pending_events:
            n, self.pending_events = self.pending_events, 0
            self.sink.count_events(self.venue, n)
        for target_id in dirty:
            # An order says nothing of the engine's status (polled only): not a confirmation.
            self.sink.patch(
                self.venue, target_id, attrs={"orders_seen": seen[target_id]}, confirms=False
            )


def _frame(raw: str | bytes) -> StreamFrame:
    try:
        return StreamFrame.model_validate_json(raw)
    except ValidationError:
        raise FeedError("malformed JSON on the 55-tech stream (first frame)") from None
