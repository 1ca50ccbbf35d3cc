"""The two feed shapes every venue uses: REST polling, and a stream that reconnects.

Both loops run until cancelled, report their health to the sink with the venue's own
words, and never let a venue error escape (a console must not exit because a venue is
down). Reconnects use capped exponential backoff with full jitter, and a stream resyncs
from REST each time it (re)connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from console.core.input_first import INPUT_FIRST
from console.core.model import Target
from console.core.ports import FeedError, FeedSink, FeedStatus, Incomplete, Unreadable, describe

__all__ = [
    "FRAMES_QUEUED",
    "Backoff",
    "FeedError",
    "Incomplete",
    "Unreadable",
    "describe",
    "handle_frames",
    "poll_forever",
    "stream_forever",
]

log = logging.getLogger(__name__)

F = TypeVar("F")

FRAMES_PER_TURN = 200
"""Stream frames a feed handles before it lets the loop run anything else.

A stream's library hands over frames already received without giving the loop back
(websockets' ``recv`` returns at once while frames are queued), so one turn of a feed's
loop handled every frame one socket read brought: at 20,000 events/s ~2,500 frames,
~35 ms in which a key, a redraw or a control call's answer waited. 200 frames (~3 ms)
a turn keeps the console answering keys while it ingests; a turn given back costs
~20 µs, 100 times a second at 20,000 events/s."""

FRAMES_QUEUED = 4096
"""The most frames a stream holds received but not yet handled (websockets'
``max_queue``); above it the library stops reading the socket until 1,024 are left, so
a venue sending faster than the console can handle is held back by TCP, never buffered
here. Without a bound (PipAI's stream had none until session 15) a hostile stream sending
as fast as loopback carries grew the console by ~60 MB a second (480 MB in 8 s, while
the console handled 50,000 events a second): out of memory in minutes. 4,096 frames is
~0.1 s at 40,000 events a second; closing with a full queue waits at most the stream's
``close_timeout`` for the venue's close frame."""


async def handle_frames(
    frames: AsyncIterable[F], handle: Callable[[F], None], per_turn: int = FRAMES_PER_TURN
) -> None:
    """``handle(frame)`` for each frame of a stream until it ends, giving the loop back
    after every ``per_turn`` frames handled in one go (:data:`FRAMES_PER_TURN`)."""
    count = 0
    async for frame in frames:
        if INPUT_FIRST.holding:  # a key being answered goes first (bounded)
            await INPUT_FIRST.turn()
            count = 0
        handle(frame)
        count += 1
        if count >= per_turn:
            count = 0
            await asyncio.sleep(0)


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter: 0 .. min(cap, base * 2**n)."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2**self.attempts))
        self.attempts += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0


async def poll_forever(
    venue: str,
    fetch: Callable[[], Awaitable[list[Target]]],
    sink: FeedSink,
    interval_s: float | Callable[[], float],
    *,
    backoff: Backoff | None = None,
    wake: asyncio.Event | None = None,
    words: Callable[[Exception], str] = describe,
) -> None:
    """Poll ``fetch`` every ``interval_s``; on failure report DOWN and retry with backoff.

    ``interval_s`` may be a function, asked after each read (a venue whose stream carries
    its state polls slowly only while that stream is live).

    ``wake``, when given, cuts any wait short (a stream that heard the state change asks
    for a read now). ``words`` says a failure on the venue's panel (:func:`describe` by
    default; a venue whose errors are already worded and scrubbed passes ``str``).
    An :class:`Incomplete` failure still delivers what it read.
    """
    every = interval_s if callable(interval_s) else lambda: interval_s
    if backoff is None:
        first = every()
        backoff = Backoff(base_s=min(first, 1.0), cap_s=max(first * 8, 10.0))
    sink.health(venue, FeedStatus.CONNECTING)
    while True:
        if wake is not None:
            wake.clear()
        try:
            targets = await fetch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a feed must survive anything the venue does
            if isinstance(exc, Incomplete) and exc.partial:
                sink.upsert(exc.partial)  # what was read is true; what was not is not gone
            sink.health(venue, FeedStatus.DOWN, words(exc))
            await _rest(backoff.next_delay(), wake)
            continue
        backoff.reset()
        await INPUT_FIRST.turn()  # a key being answered goes before the list is stored
        sink.snapshot(venue, targets)
        sink.health(venue, FeedStatus.POLLING)
        await _rest(every(), wake)


async def _rest(delay: float, wake: asyncio.Event | None) -> None:
    """Sleep ``delay`` seconds, or less when ``wake`` is set."""
    if wake is None:
        await asyncio.sleep(delay)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await wake.wait()


async def stream_forever(
    venue: str,
    connect_and_run: Callable[[Callable[[], None]], Awaitable[None]],
    sink: FeedSink,
    *,
    backoff: Backoff | None = None,
) -> None:
    """Run ``connect_and_run`` (which returns or raises when the stream ends), forever.

    ``connect_and_run(on_live)`` connects, subscribes, calls ``on_live()`` (which reports
    LIVE and resets the backoff), resyncs from REST and reads events until the stream
    ends. Between attempts this loop reports RECONNECTING, then DOWN, and backs off.
    """
    backoff = backoff or Backoff()
    sink.health(venue, FeedStatus.CONNECTING)

    def on_live() -> None:
        backoff.reset()
        sink.health(venue, FeedStatus.LIVE)

    while True:
        try:
            await connect_and_run(on_live)
            detail = "stream closed by the venue"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            detail = describe(exc)
        status = FeedStatus.RECONNECTING if backoff.attempts < 3 else FeedStatus.DOWN
        sink.health(venue, status, detail)
        delay = backoff.next_delay()
        log.info("%s stream: %s; reconnecting in %.1f s", venue, detail, delay)
        await asyncio.sleep(delay)
