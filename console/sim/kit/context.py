"""What each simulated vendor is given: its RNG, the world clock, knobs, rate buckets.

The simulator is an independent implementation of the documented contracts: nothing
here or in the vendor modules imports ``console.venues``.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.websockets import WebSocket

from console.sim.kit.knobs import Knobs


class SimClock:
    """Wall-clock time, or a frozen instant for snapshot tests and screenshots."""

    def __init__(self, frozen_at: float | None = None) -> None:
        self.frozen_at = frozen_at

    def now(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time()

    def iso(self, at: float | None = None, *, ms: bool = False) -> str:
        """ISO-8601 UTC with a Z, as the vendors write it."""
        return _iso(self.now() if at is None else at, ms)


@functools.lru_cache(maxsize=1 << 18)
def _iso(at: float, ms: bool) -> str:
    """An instant as ISO text, remembered: a list answer writes each row's timestamps
    (a ~25,000-algorithm x3algo list, 50,000 of them), and most are the same instants
    as the last answer's (strftime was ~30% of the simulator's CPU serving a list)."""
    moment = datetime.fromtimestamp(at, UTC)
    if moment.year < 1000:  # strftime does not pad such a year to four digits
        if ms:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # isoformat: the same text (milliseconds cut, not rounded), ~30% cheaper than strftime
    if ms:
        return moment.isoformat(timespec="milliseconds")[:23] + "Z"
    return moment.isoformat(timespec="seconds")[:19] + "Z"


class SimRateLimit:
    """A vendor's rate bucket: ``limit`` units per rolling window, scaled by the knobs."""

    def __init__(self, knobs: Knobs, limit: int, window_s: float) -> None:
        self.knobs = knobs
        self.limit = limit
        self.window_s = window_s
        self._spent: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self.rejected = 0

    @property
    def window(self) -> float:
        return self.window_s * self.knobs.rate_scale

    def take(self, weight: int = 1) -> float | None:
        """Spend ``weight`` now; None when allowed, else seconds until it would fit."""
        if not self.knobs.rate_limits:
            return None
        now = time.monotonic()
        window = self.window
        while self._spent and self._spent[0][0] <= now - window:
            self._in_window -= self._spent.popleft()[1]
        if self._in_window + weight > self.limit:
            self.rejected += 1
            oldest = self._spent[0][0] if self._spent else now
            return max(0.001, oldest + window - now)
        self._spent.append((now, weight))
        self._in_window += weight
        return None

    def remaining(self) -> int:
        return max(0, self.limit - self._in_window)

    def reset_at(self) -> float:
        """UNIX seconds when the oldest spent unit leaves the window."""
        if not self._spent:
            return time.time()
        return time.time() + (self._spent[0][0] + self.window - time.monotonic())


@dataclass
class VendorContext:
    """One simulated vendor's share of the world."""

    name: str
    seed: int
    scale: int
    clock: SimClock
    knobs: Knobs = field(default_factory=Knobs)
    websockets: set[WebSocket] = field(default_factory=set)
    rng: random.Random = field(init=False)
    fault_rng: random.Random = field(init=False)
    counters: dict[str, int] = field(default_factory=dict)
    # Set each time the knobs change over /_sim/knobs (what waits on a knob wakes then).
    knobs_changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"{self.seed}:{self.name}:world")
        self.fault_rng = random.Random(f"{self.seed}:{self.name}:faults")

    def rate_limit(self, limit: int, window_s: float) -> SimRateLimit:
        return SimRateLimit(self.knobs, limit, window_s)

    def chance(self, probability: float) -> bool:
        """A seeded coin flip for fault knobs."""
        return probability > 0 and self.fault_rng.random() < probability

    async def until(self, released: Callable[[Knobs], bool]) -> None:
        """Wait until ``released(knobs)`` holds (knobs change over /_sim/knobs)."""
        while not released(self.knobs):
            self.knobs_changed.clear()
            await self.knobs_changed.wait()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n

    def track(self, ws: WebSocket) -> None:
        """Register an accepted WebSocket so ``/_sim/drop-websockets`` and the drop knob reach it."""
        ws.scope["sim_opened_at"] = time.monotonic()
        self.websockets.add(ws)

    def untrack(self, ws: WebSocket) -> None:
        self.websockets.discard(ws)
