"""Pacing under PipAI's weight budget, counting each call from when its answer came.

The shared :class:`console.venues.pacing.Pacer` stamps a call when it leaves the queue;
PipAI stamps it when it arrives, which under load (a busy event loop, a fresh
connection) can be tens or hundreds of milliseconds later. Near the edge of the budget
that difference alone produces a 429. Here a call counts as *in flight* (always inside
the window) from when it leaves until its answer (or its timeout) comes back, and is
then stamped with that later moment, which is never earlier than PipAI's own stamp.
So the client's view of the window is always at least as full as PipAI's, whatever the
delays, at the cost of one round trip of extra spacing per window.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping

from console.venues.base import RateLimit
from console.venues.pacing import retry_after_seconds

Clock = Callable[[], float]
_MARGIN_FRACTION = 0.01  # clock-rate slack between us and the venue


class CompletionPacer:
    """``limit`` weight per rolling ``window_s``, calls stamped at completion."""

    def __init__(
        self, rate: RateLimit, *, enabled: bool = True, clock: Clock = time.monotonic
    ) -> None:
        self.rate = rate
        self.enabled = enabled
        self._clock = clock
        self._window = rate.window_s * (1 + _MARGIN_FRACTION)
        self._done: deque[tuple[float, int]] = deque()
        self._done_weight = 0
        self._in_flight = 0
        self._hold_until = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    def _expire(self, now: float) -> None:
        while self._done and self._done[0][0] <= now - self._window:
            self._done_weight -= self._done.popleft()[1]

    def _wait_s(self, weight: int, now: float) -> float | None:
        """0 when a call of ``weight`` fits now; seconds to wait; None: wait for a release."""
        self._expire(now)
        if now < self._hold_until:
            return self._hold_until - now
        if self._done_weight + self._in_flight + weight <= self.rate.limit:
            return 0.0
        need = self._done_weight + self._in_flight + weight - self.rate.limit
        freed = 0
        for stamped, w in self._done:
            freed += w
            if freed >= need:
                return stamped + self._window - now
        return None  # only in-flight calls can make room: wait until one answers

    @contextlib.asynccontextmanager
    async def slot(self, weight: int) -> AsyncIterator[None]:
        """Hold a share of the budget for one call; stamped when the block exits."""
        if not self.enabled:
            yield
            return
        weight = min(weight, self.rate.limit)
        async with self._lock:
            while (wait := self._wait_s(weight, self._clock())) != 0.0:
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._released.wait()
            self._in_flight += weight
        try:
            yield
        finally:
            self._in_flight -= weight
            self._done.append((self._clock(), weight))
            self._done_weight += weight
            self._released.set()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """A 429 holds every caller until ``Retry-After`` (or one window) has passed."""
        if status != 429 or not self.enabled:
            return
        retry_after = retry_after_seconds(headers)
        delay = retry_after if retry_after is not None else self.rate.window_s
        self._hold_until = max(self._hold_until, self._clock() + delay)
