"""The completion-stamped pacer PipAI's client uses, on a hand-driven clock."""

from __future__ import annotations

import httpx

from console.venues.base import RateLimit
from console.venues.pipai_pacing import CompletionPacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def pacer(clock: Clock, limit: int = 10, window_s: float = 100.0) -> CompletionPacer:
    return CompletionPacer(RateLimit(limit, window_s), clock=clock)


async def test_a_call_counts_while_in_flight_and_from_its_answer_on() -> None:
    clock = Clock()
    p = pacer(clock)
    async with p.slot(6):
        assert p._wait_s(4, clock()) == 0.0
        assert p._wait_s(5, clock()) is None  # only an answer can make room
        clock.now = 30.0  # the answer comes 30 s after the call left
    clock.now = 100.0
    # Stamped at 30 s, so still inside the window at 100 s although it left at 0 s.
    wait = p._wait_s(5, clock())
    assert wait is not None
    assert 30.0 < wait <= 31.0 + 1e-9
    clock.now = 132.0
    assert p._wait_s(10, clock()) == 0.0


async def test_a_429_holds_every_caller_for_retry_after() -> None:
    clock = Clock()
    p = pacer(clock)
    p.observe(429, httpx.Headers({"Retry-After": "2.5"}))
    assert p._wait_s(1, clock()) == 2.5
    clock.now = 2.5
    assert p._wait_s(1, clock()) == 0.0


async def test_disabled_pacer_counts_nothing() -> None:
    clock = Clock()
    p = CompletionPacer(RateLimit(1, 100.0), enabled=False, clock=clock)
    for _ in range(5):
        async with p.slot(1):
            pass
    p.observe(429, httpx.Headers({"Retry-After": "60"}))
    assert p._wait_s(1, clock()) == 0.0
