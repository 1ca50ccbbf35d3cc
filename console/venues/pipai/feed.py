"""PipAI's feed: the Strategy Status WebSocket, backed by a slow REST resync.

On every (re)connect: authenticate with a first ``auth`` frame (so no credential ever
lands in a URL or a proxy log), subscribe to ``strategy.status`` / ``"*"``, report LIVE,
then wake the poller for a full resync from REST. Lifecycle events (deployed, paused,
error) patch the row's state at once and queue a re-fetch of that strategy (the docs
advise a GET after any lifecycle event); position events patch
``open_positions``/``pnl``; order events are only counted. A gap in ``seq`` [INF], a
(re)connect or the slow timer (10 × poll interval) triggers a full resync, which catches
anything the stream missed.

The pieces are kit's, wired as 55-tech's feed: the resync is
:func:`~console.venues.kit.feeds.poll_forever` (woken early by a connect or a ``seq``
gap), the stream runs under :func:`~console.venues.kit.feeds.stream_forever`, and their
health folds into one mark in :class:`~console.venues.kit.health.HealthFold`: DOWN when
the list cannot be read (in PipAI's words), LIVE when the stream is subscribed,
RECONNECTING while it retries, POLLING when it stays down but the list still reads.

Everything this module writes — FeedError texts (hence health details), log lines at
every level — passes through the venue's scrubber first
(:class:`~console.venues.kit.scrubber.VenueScrubber`): PipAI's stream frames may quote
the key or the signature of the auth frame back at us; the WebSocket library logs
through kit's :class:`~console.venues.kit.ws_log.ScrubbingLogger`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from console.core.model import Target
from console.venues.kit.base import FeedSink, VenueSettings
from console.venues.kit.feeds import (
    FRAMES_QUEUED,
    Backoff,
    FeedError,
    Incomplete,
    handle_frames,
    poll_forever,
    stream_forever,
)
from console.venues.kit.health import HealthFold
from console.venues.kit.scrubber import VenueScrubber
from console.venues.kit.ws_log import ScrubbingLogger
from console.venues.pipai.mapping import (
    LIFECYCLE_STATUS,
    attrs_from_position_event,
    event_kind,
    state_for,
)
from console.venues.pipai.outcomes import code_words
from console.venues.pipai.wire import StreamFrame

log = logging.getLogger(__name__)
# The websockets library logs through kit's ScrubbingLogger: frames by kind and size
# only (the auth frame carries the key), every other line scrubbed.
_ws_log = logging.getLogger(__name__ + ".websocket")

CHANNEL = "strategy.status"
SLOW_RESYNC_FACTOR = 10
FAST_RESYNC_AT_MOST = 200
"""Strategies a list may hold to be read at the poll interval while the stream is down:
two pages of the documented maximum (100), weight 4 a read, 120 a minute at the 2 s
poll — a tenth of the 1,200-a-minute budget."""
UNLISTED_AT_MOST = 32
"""Strategies the last list did not hold (a new deployment, say) re-fetched one by one
at most this many at a time; beyond, a lifecycle event naming one more wakes a read of
the whole list instead. A stream naming ids by the thousand (a hostile or broken venue)
once queued one GET per id without bound: memory and the read budget both ran out."""


class StatusStream:
    """One venue's status stream plus its resync and re-fetch helpers."""

    def __init__(
        self,
        settings: VenueSettings,
        sink: FeedSink,
        *,
        list_all: Callable[[], Awaitable[list[Target]]],
        read_one: Callable[[str], Awaitable[Target | None]],
        auth_frame: Callable[[], Mapping[str, str | int]],
        scrubber: VenueScrubber,
    ) -> None:
        if not settings.ws_url:
            raise ValueError("StatusStream needs settings.ws_url")
        self.settings = settings
        self.ws_url = settings.ws_url
        self.venue = settings.name
        self.sink = sink
        self._list_all = list_all
        self._read_one = read_one
        self._auth_frame = auth_frame
        self.scrubber = scrubber
        self._ws_log = ScrubbingLogger(_ws_log, scrubber.scrub)
        self.health = HealthFold(sink, self.venue, 1, scrubber.scrub, polled=self._polled)
        self._seq: int | None = None
        self._resync_soon = asyncio.Event()  # wakes the poller: resync from REST now
        self._refetch_ids: set[str] = set()
        self._refetch_wake = asyncio.Event()
        self._listed: set[str] = set()  # the ids of the last list read (or re-fetched)
        self._unlisted: set[str] = set()  # queued for a re-fetch, not in that list

    async def run(self) -> None:
        """Stream, slow resync and re-fetches side by side until cancelled."""
        backoff = Backoff(base_s=min(0.5, self.settings.poll_interval_s), cap_s=30.0)
        interval = self.resync_interval_s(live=True)
        async with asyncio.TaskGroup() as group:
            group.create_task(
                stream_forever(
                    self.venue, self._connect_and_run, self.health.stream_sink(0), backoff=backoff
                )
            )
            group.create_task(
                poll_forever(
                    self.venue,
                    self._list_and_note,
                    self.health.poll_sink(),
                    lambda: self.resync_interval_s(live=self.health.stream_live()),
                    # a failed read is retried sooner, never later than the next resync
                    backoff=Backoff(base_s=min(interval, 1.0), cap_s=interval),
                    wake=self._resync_soon,
                    words=_words,  # PipAI's words, already scrubbed (the fold scrubs again)
                )
            )
            group.create_task(self._refetch_forever())

    def _polled(self) -> str:
        return f"strategy status (read every {self.resync_interval_s(live=False):g} s)"

    def resync_interval_s(self, *, live: bool) -> float:
        """How long between two reads of the whole list: slow (10 × the poll interval)
        while the stream carries the state; while it does not, the poll interval for a
        list of up to :data:`FAST_RESYNC_AT_MOST` strategies — a stream that never came up
        (refused, or speaking another protocol) left even a short list read every 20 s
        while the mark said POLLING (session 16). A longer list keeps the slow cadence,
        which the mark then names: its pages, read every 2 s, would spend the weight
        budget a kill's pauses need."""
        poll = self.settings.poll_interval_s
        if live or len(self._listed) > FAST_RESYNC_AT_MOST:
            return poll * SLOW_RESYNC_FACTOR
        return poll

    # ----- the stream ---------------------------------------------------------------
    async def _connect_and_run(self, on_live: Callable[[], None]) -> None:
        try:
            await self._connect_and_read(on_live)
        except FeedError as exc:
            if len(self._listed) <= FAST_RESYNC_AT_MOST:
                # What the stream would have told is read instead — for a short list only:
                # a stream that drops as soon as it is up (its backoff reset each time)
                # would have a long list read back to back, spending the weight budget.
                self._resync_soon.set()
            raise self.scrubber.error(exc) from None  # the venue's words may quote our key

    async def _connect_and_read(self, on_live: Callable[[], None]) -> None:
        timeout = self.settings.request_timeout_s
        try:
            async with connect(
                self.ws_url,
                open_timeout=timeout,
                close_timeout=1,
                max_queue=FRAMES_QUEUED,  # a flood is held back by TCP, never buffered
                proxy=None,
                compression=None,
                user_agent_header="trading-console/0.1",
                logger=self._ws_log,
            ) as ws:
                await self._handshake(ws, timeout)
                self._seq = None
                on_live()
                self._resync_soon.set()  # events may have been missed while not subscribed
                await handle_frames(ws, self._on_frame)
        except InvalidStatus as exc:
            code = exc.response.status_code
            raise FeedError(
                f"PipAI stream refused the connection (HTTP {code}); "
                "the venue may be down; retrying with backoff"
            ) from None
        except ConnectionClosed as exc:
            raise FeedError(f"PipAI stream dropped ({_close_words(exc)}); reconnecting") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise FeedError(
                f"cannot reach PipAI stream at {self.ws_url}: {type(exc).__name__} {exc}"
            ) from None

    async def _handshake(self, ws: ClientConnection, timeout: float) -> None:
        await ws.send(json.dumps(self._auth_frame()))
        reply = await self._expect(ws, "auth", timeout)
        if not reply.ok:
            raise FeedError(
                self.scrubber.scrub(
                    f"PipAI stream refused our credentials: {_said(reply)}; "
                    "check api_key/api_secret in the profile and this machine's clock"
                )
            )
        await ws.send(json.dumps({"op": "subscribe", "channel": CHANNEL, "id": "*"}))
        ack = await self._expect(ws, "ack", timeout)
        if not ack.ok:
            raise FeedError(f"PipAI refused the subscription to {CHANNEL}: {_said(ack)}")

    async def _expect(self, ws: ClientConnection, op: str, timeout: float) -> StreamFrame:
        """The next frame with ``op`` (others are handled as usual meanwhile)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    frame = _parse(await ws.recv())
                    if frame is not None and frame.op == op:
                        return frame
                    if frame is not None:
                        self._handle(frame)
        except TimeoutError:
            raise FeedError(f"PipAI stream sent no {op} reply within {timeout:g} s") from None

    def _on_frame(self, raw: str | bytes) -> None:
        frame = _parse(raw)
        if frame is None:
            log.warning("%s: ignoring a malformed stream frame", self.venue)
            return
        self._handle(frame)

    def _handle(self, frame: StreamFrame) -> None:
        if frame.op != "event" or frame.event is None:
            if frame.op in ("ack", "error") and frame.ok is not True:
                said = f"{frame.op} {_said(frame)}"
                log.warning("%s stream: %s", self.venue, self.scrubber.scrub(said))
            return
        self.sink.count_events(self.venue)
        if frame.seq is not None:
            if self._seq is not None and frame.seq != self._seq + 1:
                self._resync_soon.set()  # we missed something: resync from REST
            self._seq = frame.seq
        event = frame.event
        data: dict[str, Any] = event.data
        strategy_id = frame.id or data.get("strategy_id")
        if not isinstance(strategy_id, str) or strategy_id == "*":
            return
        kind = event_kind(event.type)
        if kind in LIFECYCLE_STATUS:
            status = data.get("status")
            raw = status if isinstance(status, str) else LIFECYCLE_STATUS[kind]
            self.sink.patch(self.venue, strategy_id, state=state_for(raw), raw_status=raw)
            self._queue_refetch(strategy_id)
        elif kind in ("position_opened", "position_closed"):
            attrs = attrs_from_position_event(data)
            if attrs:
                self.sink.patch(self.venue, strategy_id, attrs=attrs)

    # ----- re-fetches ---------------------------------------------------------------
    async def _list_and_note(self) -> list[Target]:
        """The whole list (the resync), its ids noted: a lifecycle event naming one of
        them is re-fetched; one naming an id it did not hold, within bounds."""
        try:
            targets = await self._list_all()
        except Incomplete as exc:
            self._listed = {t.id for t in exc.partial}  # (never a union: bounded by a read)
            raise
        self._listed = {t.id for t in targets}
        return targets

    def _queue_refetch(self, strategy_id: str) -> None:
        """A re-fetch of ``strategy_id``, coalesced per id; past :data:`UNLISTED_AT_MOST`
        unlisted ids waiting, a read of the whole list instead."""
        if strategy_id in self._refetch_ids:
            return
        if strategy_id not in self._listed:
            if len(self._unlisted) >= UNLISTED_AT_MOST:
                self._resync_soon.set()  # the whole list holds every one of them
                return
            self._unlisted.add(strategy_id)
        self._refetch_ids.add(strategy_id)
        self._refetch_wake.set()

    async def _refetch_forever(self) -> None:
        """Re-read strategies named by lifecycle events, coalesced per id."""
        while True:
            await self._refetch_wake.wait()
            self._refetch_wake.clear()
            while self._refetch_ids:
                strategy_id = self._refetch_ids.pop()
                self._unlisted.discard(strategy_id)
                try:
                    target = await self._read_one(strategy_id)
                    if target is not None:
                        self._listed.add(strategy_id)
                        self.sink.upsert([target])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the next resync brings it back in line
                    said = self.scrubber.scrub(f"re-fetch of {strategy_id} failed: {_words(exc)}")
                    log.info("%s: %s", self.venue, said)


def _said(frame: StreamFrame) -> str:
    """A refusal's ``code: "message"``, the code alone when its message is null."""
    return code_words(frame.code, frame.message) or "no code or message"


def _parse(raw: str | bytes) -> StreamFrame | None:
    try:
        return StreamFrame.model_validate_json(raw)
    except ValidationError:
        return None


def _close_words(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "connection lost without a close frame"
    return f"close code {close.code}" + (f": {close.reason}" if close.reason else "")


def _words(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
