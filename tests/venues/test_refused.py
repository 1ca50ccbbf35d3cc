"""The rules of a control call refused with 429 (console/venues/kit/refused.py), one by
one, on a scripted send: what goes again, how often, for how long, and what does not."""

from __future__ import annotations

import asyncio
import time

import pytest

from console.core.turns import Turn, begin_call, may_have_landed, refused
from console.venues.kit.base import RateLimit
from console.venues.kit.http import Reply
from console.venues.kit.pacing import Pacer, PastRetryCap, acquired_by
from console.venues.kit.refused import MAX_TRIES, Refusals, tries_words


def answers(*replies: Reply) -> tuple[list[Reply], object]:
    """A send that answers ``replies`` in turn (the last one for ever)."""
    sent: list[Reply] = []

    async def send() -> Reply:
        reply = replies[min(len(sent), len(replies) - 1)]
        sent.append(reply)
        return reply

    return sent, send


def limited(retry_after: str | None = None, **kw: object) -> Reply:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    return Reply(429, headers, b"{}", 1.0, **kw)  # type: ignore[arg-type]


OK = Reply(200, {}, b"{}", 1.0)


class Clock:
    """A clock that moves only when the unpaced wait sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def unpaced(cap_s: float = 30.0) -> tuple[Refusals, Clock]:
    clock = Clock()
    return Refusals(cap_s, None, clock=clock, sleep=clock.sleep), clock


async def test_a_429_goes_again_after_the_wait_asked_until_the_call_is_taken() -> None:
    refusals, clock = unpaced()
    sent, send = answers(limited("2"), limited("3"), OK)
    reply, tries, seconds = await refusals.send(send)  # type: ignore[arg-type]
    assert (reply.status, tries, len(sent)) == (200, 3, 3)
    assert clock.slept == [2.0, 3.0] and seconds == 5.0
    assert tries_words(tries, seconds, last_refused=False) == (
        "sent 3 times: the first 2 refused with 429, over 5 s"
    )


async def test_no_wait_named_backs_off_1_2_4_s_until_the_cap() -> None:
    refusals, clock = unpaced(cap_s=10.0)
    sent, send = answers(limited())
    reply, tries, seconds = await refusals.send(send)  # type: ignore[arg-type]
    assert reply.status == 429
    assert clock.slept == [1.0, 2.0, 4.0]  # the next, 8 s, would end past 10 s
    assert (tries, len(sent), seconds) == (4, 4, 7.0)


async def test_paced_with_no_wait_named_a_call_still_backs_off_1_2_4_s() -> None:
    """The pacer's hold is the venue's, back to 1 s once any call of it is answered:
    five stops sharing a small budget spent one stop's tries a second apart. The call's
    own backoff is the least it waits (the pacer waits its part, this the rest)."""
    clock = Clock()
    pacer = Pacer(RateLimit(1000, 60.0))  # holds nothing: its budget is far off
    refusals = Refusals(10.0, pacer, clock=clock, sleep=clock.sleep, spread=lambda: 0.999999)
    sent, send = answers(limited())
    reply, tries, _ = await refusals.send(send)  # type: ignore[arg-type]
    assert reply.status == 429
    assert [round(s, 3) for s in clock.slept] == [1.0, 2.0, 4.0]  # the next, 8 s, past 10 s
    assert (tries, len(sent)) == (4, 4)
    # Calls of one burst go again spread over the upper half of their backoff.
    early = Clock()
    refusals = Refusals(10.0, pacer, clock=early, sleep=early.sleep, spread=lambda: 0.0)
    await refusals.send(answers(limited())[1])  # type: ignore[arg-type]
    assert early.slept[:3] == [0.5, 1.0, 2.0]


async def test_a_venue_asking_no_wait_for_ever_is_tried_max_tries_times() -> None:
    refusals, _ = unpaced()
    sent, send = answers(limited("0"))
    reply, tries, _ = await refusals.send(send)  # type: ignore[arg-type]
    assert (reply.status, tries, len(sent)) == (429, MAX_TRIES, MAX_TRIES)


async def test_what_is_never_sent_again() -> None:
    for first in (
        limited("3600"),  # a wait beyond the cap: failed at once, the wait in words
        limited("1", sent=False),  # the pacer's own 429: nothing left
        limited("1", resent="sent again on a fresh connection"),  # the first may have landed
    ):
        refusals, clock = unpaced()
        sent, send = answers(first, OK)
        reply, tries, _ = await refusals.send(send)  # type: ignore[arg-type]
        assert (reply, tries, len(sent), clock.slept) == (first, 1, 1, [])


async def test_a_refused_call_counts_as_not_sent_while_it_waits_to_go_again() -> None:
    seen: list[tuple[bool, bool, int]] = []
    turn: list[Turn] = []

    async def send() -> Reply:
        now = turn[0]
        seen.append((now.waiting, now.left, now.refusals))
        now.left = True  # as send()'s waiting_turn does when the request leaves
        return limited("0") if len(seen) < 3 else OK

    async def call() -> tuple[Reply, int, float]:
        turn.append(begin_call())
        refusals, _ = unpaced()
        return await refusals.send(send)

    reply, tries, _ = await asyncio.create_task(call())
    assert (reply.status, tries) == (200, 3)
    assert seen == [(False, False, 0), (True, False, 1), (True, False, 2)]


async def test_a_paced_retry_gives_up_its_turn_at_the_cap() -> None:
    """Paced, the pacer's queue is the wait: a retry whose turn would come after the cap
    is not sent (every retry spends the venue's budget, here 2 calls a minute)."""
    pacer = Pacer(RateLimit(2, 60.0), cap_s=0.3)
    refusals = Refusals(0.3, pacer)
    sent: list[Reply] = []

    async def send() -> Reply:
        slot = await pacer.acquire()
        pacer.settle(slot)
        sent.append(limited("0.05"))
        pacer.observe(429, {"retry-after": "0.05"})
        return sent[-1]

    reply, tries, _ = await refusals.send(send)
    assert reply.status == 429
    assert (tries, len(sent)) == (2, 2)  # the third would wait a minute for the budget


async def test_a_turn_not_had_by_the_deadline_is_given_up_not_waited_for() -> None:
    """The estimate cannot see calls queued ahead: the pacer's turn itself ends at the
    cap (a full budget here: the next turn is a minute away)."""
    pacer = Pacer(RateLimit(1, 60.0))
    pacer.settle(await pacer.acquire())
    started = time.monotonic()
    with pytest.raises(PastRetryCap), acquired_by(started + 0.1):
        await pacer.acquire()
    with pytest.raises(PastRetryCap), acquired_by(started - 1):
        await pacer.acquire()  # already past: not even queued
    assert pacer.delay_for() > 50  # nothing was spent by either


async def test_a_call_that_may_have_landed_never_counts_as_not_sent_again() -> None:
    """A stop whose first request timed out (it may have landed) and whose second, sent
    once more, is refused with 429: a deadline then must not say "nothing was done"."""

    async def call() -> Turn:
        turn = begin_call()
        turn.left = True  # the first request left …
        may_have_landed()  # … and had no usable answer
        refused()  # the second was refused with 429
        return turn

    turn = await asyncio.create_task(call())
    assert (turn.left, turn.waiting, turn.refusals) == (True, False, 1)
