"""Pacing under a documented limit, with a fake clock so nothing waits for real."""

from __future__ import annotations

import asyncio
import time

import pytest

from console.venues.kit.base import RateLimit
from console.venues.kit.pacing import Pacer, retry_after_seconds


async def answered(pacer: Pacer, weight: int = 1) -> None:
    """Acquire and get the answer at once (a call with no latency)."""
    pacer.settle(await pacer.acquire(weight))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_calls_within_the_limit_go_at_once(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    for _ in range(100):
        await answered(pacer)
    assert clock.now == 1000.0


async def test_the_call_over_the_limit_waits_for_the_window_plus_margin(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    for _ in range(101):
        await answered(pacer)
    waited = clock.now - 1000.0
    assert 60.0 < waited <= 60.0 * 1.05


async def test_no_window_ever_holds_more_than_the_limit(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(10, 1.0), clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(95):
        await answered(pacer)
        sent.append(clock.now)
    for i, t in enumerate(sent):
        in_window = [s for s in sent[: i + 1] if s > t - 1.0]
        assert len(in_window) <= 10


async def test_weights_count_against_the_budget(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(10, 1.0), clock=clock, sleep=clock.sleep)
    await answered(pacer, 5)
    await answered(pacer, 5)
    assert clock.now == 1000.0
    await answered(pacer, 5)
    assert clock.now > 1000.0


async def test_a_429_holds_every_caller_for_retry_after(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    pacer.observe(429, {"retry-after": "7"})
    await answered(pacer)
    assert clock.now == pytest.approx(1007.0)


async def test_waiters_are_served_in_order(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(1, 1.0), clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def call(i: int) -> None:
        await answered(pacer)
        order.append(i)

    await asyncio.gather(*(call(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]


async def test_an_urgent_call_goes_before_every_waiting_call_that_is_not(
    clock: FakeClock,
) -> None:
    """A kill's stops are urgent; a poll's list reads are not: a stop arriving behind
    queued reads takes the next slot, and the urgent keep their order."""

    go = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the window's wait ends when the test says
        await go.wait()
        clock.now += seconds

    pacer = Pacer(RateLimit(1, 1.0), clock=clock, sleep=sleep)
    await answered(pacer)  # the budget is spent: every call below waits
    order: list[str] = []

    async def call(name: str, urgent: bool) -> None:
        pacer.settle(await pacer.acquire(urgent=urgent))
        order.append(name)

    reads = [asyncio.create_task(call(f"read{i}", False)) for i in range(3)]
    await asyncio.sleep(0)  # the reads queue first: read0 waits for the window
    stops = [asyncio.create_task(call(f"stop{i}", True)) for i in range(2)]
    await asyncio.sleep(0)  # then the stops
    go.set()
    await asyncio.gather(*reads, *stops)
    assert order[:2] == ["stop0", "stop1"], order
    assert sorted(order[2:]) == ["read0", "read1", "read2"]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({}) is None


async def test_a_call_counts_from_its_answer_once_settled(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(1, 1.0), clock=clock, sleep=clock.sleep)
    slot = await pacer.acquire()
    clock.now += 0.4  # the answer took 0.4 s; the server counted the call somewhere in there
    pacer.settle(slot)
    await answered(pacer)
    assert clock.now - 1000.0 > 1.4  # the window runs from the answer, not from the send


def test_a_call_in_flight_counts_as_spent_now_until_it_settles(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(1, 1.0), clock=clock, sleep=clock.sleep)
    slot = asyncio.run(pacer.acquire())  # sent at 1000, no answer yet
    clock.now += 10  # the server may still count it now
    assert pacer.delay_for() > 1.0
    pacer.settle(slot)  # answered at 1010: one window from the answer
    assert 1.0 < pacer.delay_for() <= 1.05
    clock.now += 1.1
    assert pacer.delay_for() == 0


def test_an_exhausted_budget_we_spent_ourselves_is_paced_by_our_window(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(2, 1.0), clock=clock, sleep=clock.sleep)
    for _ in range(2):
        asyncio.run(answered(pacer))
    reset = str(int(time.time()) + 5)
    pacer.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    assert pacer.delay_for() <= 1.05  # our window, not the vendor's whole-second reset


def test_an_exhausted_budget_someone_else_spent_holds_until_the_reset(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    reset = str(int(time.time()) + 30)
    pacer.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    assert pacer.delay_for() > 25


async def test_a_slot_settles_when_its_block_ends(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(1, 1.0), clock=clock, sleep=clock.sleep)
    async with pacer.slot() as spent:
        assert not spent.settled
        clock.now += 0.5
    assert spent.settled
    assert spent.at == 1000.5


async def test_a_429_naming_no_wait_backs_off_from_a_second(clock: FakeClock) -> None:
    """1 s, then 2 s, then 4 s (as the vendors advise), never a whole window at once;
    429s of one burst (during the hold) double it once; an answer resets it."""
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    for expected in (1.0, 2.0, 4.0):
        start = clock.now
        pacer.observe(429, {})
        pacer.observe(429, {})  # the same burst: no second doubling
        await answered(pacer)
        assert clock.now - start == pytest.approx(expected)
    pacer.observe(200, {})
    start = clock.now
    pacer.observe(429, {})
    await answered(pacer)
    assert clock.now - start == pytest.approx(1.0)


async def test_the_backoff_never_outgrows_the_window_or_the_cap(clock: FakeClock) -> None:
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep, cap_s=5.0)
    for _ in range(6):
        start = clock.now
        pacer.observe(429, {})
        await answered(pacer)
    assert clock.now - start == pytest.approx(5.0)
    short = Pacer(RateLimit(10, 0.5), clock=clock, sleep=clock.sleep)
    start = clock.now
    short.observe(429, {})
    await answered(short)
    assert clock.now - start == pytest.approx(0.5)


@pytest.mark.parametrize("header", ["x-ratelimit-reset", "ratelimit-reset"])
async def test_a_429s_reset_header_is_its_wait(clock: FakeClock, header: str) -> None:
    """Seconds from now, or a UNIX time (an independent FinRadar's X-RateLimit-Reset of
    5 s was ignored for a 30 s hold)."""
    pacer = Pacer(RateLimit(100, 60.0), clock=clock, sleep=clock.sleep)
    pacer.observe(429, {header: "5"})
    await answered(pacer)
    assert clock.now == pytest.approx(1005.0)
    start = clock.now
    pacer.observe(429, {header: str(int(time.time()) + 3)})
    await answered(pacer)
    assert 2.0 <= clock.now - start <= 3.0


def test_an_http_date_retry_after_counts_from_the_end_of_its_second() -> None:
    """The date names a whole second: a retry at its start came a moment early."""
    from email.utils import formatdate

    now = time.time()
    date = formatdate(now + 2, usegmt=True)  # the second holding now + 2 s, its start
    wait = retry_after_seconds({"retry-after": date})
    assert wait is not None and wait >= 2.0
