"""Client-side pacing under a vendor's documented rate limit.

A sliding-window log: a call may go when the units spent in the last ``window_s``
plus its own weight stay within ``limit``. Waiters are served in order, so a burst of
2,000 stops drains at exactly the rate the vendor allows and no faster. A small safety
margin on the window absorbs the delay between our clock and the server's.

The server counts a call when it arrives, somewhere between our send and its answer.
So a call still in flight counts as spent *now*, and once its answer arrives it counts
from that moment (:meth:`Pacer.settle`): the window can only err on the safe side,
whatever the latency or the load on this machine. Waiters wake when a call settles.
A call never settled (a caller's bug) stops counting as "now" after ``_IN_FLIGHT_CAP_S``.

The vendor can also tell us to wait (``Retry-After``, ``X-RateLimit-Remaining: 0`` with
``X-RateLimit-Reset``; on a 429 without ``Retry-After``, its ``X-RateLimit-Reset`` or
``RateLimit-Reset``): ``hold_until`` makes every waiter respect that — up to the
pacer's ``cap_s`` (the profile's ``retry_after_cap``, 30 s by default). A 429 that names
no wait at all is backed off as the vendors advise (55-tech: "1 s, 2 s, 4 s …"; FinRadar:
"retry with backoff"): 1 s, doubling with each further 429 after a hold has run out, up
to one window and ``cap_s`` — not a whole window at once, which held a stop and then its
re-read 30 s each, silently (an independent FinRadar, session 18). An HTTP-date
``Retry-After`` counts from the end of its second (the date has no finer precision: a
retry at the start of it came a moment early and met a second 429). A venue asking
for an hour, ``inf`` or a date in year 9999 never freezes a kill: the pacer holds at
most ``cap_s``, and the call that was told so is *failed* with the vendor's wait in
words (:func:`wait_words`), for the operator to retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from email.utils import parsedate_to_datetime

from console.venues.kit.base import RateLimit

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Fraction of a window kept as slack between our clock and the server's.
_MARGIN_FRACTION = 0.03
_MARGIN_MIN_S = 0.004
# After this long an unsettled call is assumed answered at send + cap (never a deadlock).
_IN_FLIGHT_CAP_S = 60.0
# The longest wait a vendor can impose on us by default (profile: retry_after_cap).
DEFAULT_CAP_S = 30.0
# The first hold after a 429 that names no wait; doubled by each further one.
BACKOFF_FIRST_S = 1.0
# A reset header this large is a UNIX time, smaller ones are seconds from now.
_EPOCH_FROM = 1e9


class VendorAskedWait(Exception):
    """The vendor asked for a wait beyond the cap a moment ago: the call is not sent.

    For ``cap_s`` after a 429 whose ``Retry-After`` was too long, calls fail at once
    (with the vendor's wait in words) rather than queue behind a hold: a kill of 100
    algorithms on a venue that said "come back in an hour" ends in seconds, every call
    reported *failed*, instead of probing the venue every ``cap_s``. After ``cap_s`` the
    next call is sent again (the operator's retry).
    """

    def __init__(self, asked_s: float) -> None:
        super().__init__(f"the vendor asked to wait {wait_words(asked_s)}")
        self.asked_s = asked_s


class PastRetryCap(Exception):
    """A call going again after a 429 would wait for its turn past the end of its retries
    (:func:`acquired_by`): it is not sent (``console/venues/kit/refused.py``)."""


_acquire_by: ContextVar[float | None] = ContextVar("pacer_acquire_by", default=None)


@contextlib.contextmanager
def acquired_by(deadline: float) -> Iterator[None]:
    """Inside, a pacer's turn not had by ``deadline`` (``time.monotonic``) raises
    :class:`PastRetryCap` instead of waiting on: the retries of a call the venue refused
    end within their cap, however long the pacer's queue (every retry spends its budget)."""
    token = _acquire_by.set(deadline)
    try:
        yield
    finally:
        _acquire_by.reset(token)


class Slot:
    """One spent call: when it was sent (then answered), its weight, whether answered."""

    __slots__ = ("at", "settled", "weight")

    def __init__(self, at: float, weight: int) -> None:
        self.at = at
        self.weight = weight
        self.settled = False

    def counts_from(self, now: float) -> float:
        """When the server may have counted it, at the latest we can know."""
        if self.settled:
            return self.at
        return min(now, self.at + _IN_FLIGHT_CAP_S)


class Pacer:
    """Paces calls under ``limit`` units per rolling ``window_s`` seconds."""

    def __init__(
        self,
        rate: RateLimit,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        cap_s: float = DEFAULT_CAP_S,
    ) -> None:
        self.rate = rate
        self.cap_s = cap_s
        self._clock = clock
        self._sleep = sleep
        self._spent: deque[Slot] = deque()
        self._in_window = 0
        self._lock = asyncio.Lock()
        self._urgent = 0  # urgent calls waiting for their slot (acquire)
        self._no_urgent = asyncio.Event()
        self._no_urgent.set()
        self._settled = asyncio.Event()
        self._hold_until = 0.0
        self._refuse_until = 0.0  # calls fail at once until then (a too-long Retry-After)
        self._asked_until = 0.0  # when the vendor said it would take calls again
        self._backoff = BACKOFF_FIRST_S  # the next hold after a 429 naming no wait
        self._window = rate.window_s + max(rate.window_s * _MARGIN_FRACTION, _MARGIN_MIN_S)

    def _expire(self, now: float) -> None:
        # Slots settle out of order: stopping at the first slot still counting can only
        # over-count, never under-count.
        while self._spent and self._spent[0].counts_from(now) <= now - self._window:
            self._in_window -= self._spent.popleft().weight

    def delay_for(self, weight: int = 1) -> float:
        """Seconds a call of ``weight`` would wait if it asked now (0 when it can go)."""
        now = self._clock()
        self._expire(now)
        wait = max(0.0, self._hold_until - now)
        if self._in_window + weight > self.rate.limit and self._spent:
            need = self._in_window + weight - self.rate.limit
            freed = 0
            latest = 0.0
            for slot in self._spent:
                freed += slot.weight
                latest = max(latest, slot.counts_from(now))
                if freed >= need:
                    wait = max(wait, latest + self._window - now)
                    break
        return wait

    async def acquire(self, weight: int = 1, *, urgent: bool = False) -> Slot:
        """Wait until a call of ``weight`` fits, then count it as spent (from now).

        ``urgent`` (a control call: a stop, a pause) goes before every call that is not
        and has not taken its slot yet: a venue's 2-second poll shares a budget with its
        stops (PipAI's weights, FinRadar's requests), and a stop waiting behind a list
        read during a kill waited for nothing the operator asked for. Urgent calls keep
        their order among themselves. Inside :func:`acquired_by` the wait ends at its
        deadline: :class:`PastRetryCap`, nothing spent."""
        by = _acquire_by.get()
        if by is not None:
            return await self._acquire_by(weight, by, urgent)
        weight = min(weight, self.rate.limit)
        self._check_refusal()
        if not urgent:
            return await self._take_after_urgent(weight)
        self._urgent += 1
        self._no_urgent.clear()
        try:
            async with self._lock:
                while True:
                    self._check_refusal()
                    wait = self.delay_for(weight)
                    if wait <= 0:
                        return self._spend(weight)
                    await self._pause(wait)
        finally:
            self._urgent -= 1
            if not self._urgent:
                self._no_urgent.set()

    async def _take_after_urgent(self, weight: int) -> Slot:
        """A call that is not urgent: its slot once no urgent call waits for one."""
        while True:
            while self._urgent:
                await self._no_urgent.wait()
            async with self._lock:
                while not self._urgent:  # an urgent call came meanwhile: let it go first
                    self._check_refusal()
                    wait = self.delay_for(weight)
                    if wait <= 0:
                        return self._spend(weight)
                    await self._pause(wait)

    def _spend(self, weight: int) -> Slot:
        slot = Slot(self._clock(), weight)
        self._spent.append(slot)
        self._in_window += weight
        return slot

    async def _acquire_by(self, weight: int, by: float, urgent: bool) -> Slot:
        left = by - time.monotonic()
        if left <= 0:
            raise PastRetryCap
        token = _acquire_by.set(None)  # (the call below waits as any other)
        try:
            async with asyncio.timeout(left):
                return await self.acquire(weight, urgent=urgent)
        except TimeoutError:
            raise PastRetryCap from None
        finally:
            _acquire_by.reset(token)

    @contextlib.asynccontextmanager
    async def slot(self, weight: int = 1) -> AsyncIterator[Slot]:
        """Hold a paced slot for a request made inside the block (settled on the way out).

        For a venue that must build its request only once the pacer lets it go (PipAI
        signs a timestamp that must not go stale in the queue).
        """
        spent = await self.acquire(weight)
        try:
            yield spent
        finally:
            self.settle(spent)

    async def _pause(self, wait: float) -> None:
        """Wait ``wait`` seconds, or less if an in-flight call settles meanwhile."""
        if all(slot.settled for slot in self._spent):
            await self._sleep(wait)
            return
        self._settled.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):  # (wait_for can lose a cancel on 3.11)
                await self._settled.wait()

    def settle(self, slot: Slot) -> None:
        """The call's answer arrived (or it failed): it counts from now on."""
        slot.at = max(slot.at, self._clock())
        slot.settled = True
        self._settled.set()

    def _check_refusal(self) -> None:
        now = self._clock()
        if now < self._refuse_until:
            raise VendorAskedWait(max(0.0, self._asked_until - now))

    def hold_until(self, deadline: float) -> None:
        """Make every call wait until ``deadline`` (monotonic seconds), never more than
        ``cap_s`` from now."""
        now = self._clock()
        self._hold_until = max(self._hold_until, min(deadline, now + self.cap_s))

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response: a 429's ``Retry-After`` or an exhausted ``X-RateLimit``."""
        now = self._clock()
        retry_after = retry_after_seconds(headers)
        if status == 429:
            if too_long(retry_after, self.cap_s):
                assert retry_after is not None
                self._refuse_until = now + self.cap_s
                self._asked_until = now + retry_after
                return
            wait = retry_after if retry_after is not None else reset_seconds(headers)
            if wait is None:  # no wait named: back off, once for one burst's 429s
                if now < self._hold_until:
                    return
                wait = min(self._backoff, self.rate.window_s)
                self._backoff = min(self._backoff * 2, self.cap_s)
            self.hold_until(now + wait)
            return
        self._backoff = BACKOFF_FIRST_S
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            exhausted = int(remaining) <= 0
            reset_in = float(reset) - time.time()
        except ValueError:
            return
        # An exhausted budget we did not spend ourselves means another client shares the
        # key: wait for the vendor's reset. When we spent it, our own window knows better
        # than a reset given in whole seconds (which would cost up to a second a window).
        self._expire(now)
        if exhausted and self._in_window < self.rate.limit:
            self.hold_until(now + max(0.0, reset_in))


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` as seconds, whether given as a number or an HTTP date.

    Never raises and never returns NaN: ``inf``, ``1e309`` or a date in year 9999 come
    back as a very large number (``math.inf``), for :func:`too_long` to refuse.
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()[:64]
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:  # a date names a whole second: the vendor takes calls from its end
        return max(0.0, parsedate_to_datetime(value).timestamp() + 1.0 - time.time())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def reset_seconds(headers: Mapping[str, str]) -> float | None:
    """When a 429's rate-limit headers say the budget comes back, as seconds from now:
    ``X-RateLimit-Reset`` or ``RateLimit-Reset`` (IETF draft: seconds), read as a UNIX
    time when it is one. None when neither says (or says nonsense); never NaN."""
    value = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
    if value is None:
        return None
    try:
        seconds = float(value.strip()[:32])
    except ValueError:
        return None
    if math.isnan(seconds):
        return None
    if seconds >= _EPOCH_FROM:
        seconds -= time.time()
    return max(0.0, seconds)


def too_long(wait: float | None, cap_s: float) -> bool:
    """Is a vendor-asked wait beyond what we honour? (``None``: the vendor named none.)"""
    return wait is not None and wait > cap_s


def wait_words(seconds: float) -> str:
    """A vendor's asked-for wait in words: ``45 s``, ``12 min``, ``1 h``, ``3 days``, ``forever``."""
    if not math.isfinite(seconds) or seconds > 10 * 365 * 86400:
        return "forever"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if round(seconds / 60) < 60:
        return f"{round(seconds / 60)} min"
    if round(seconds / 3600) < 48:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def not_waiting(vendor: str, seconds: float, cap_s: float) -> str:
    """The words for a call we gave up on because the vendor asked for too long a wait."""
    return (
        f"{vendor} asks to wait {wait_words(seconds)} (rate limited): not waiting longer "
        f"than {cap_s:g} s; nothing more was sent — retry later (in the console, r in the kill report)"
    )


def scaled(rate: RateLimit, scale: float) -> RateLimit:
    """A documented limit with its window multiplied by ``scale`` (tests use < 1)."""
    return RateLimit(rate.limit, rate.window_s * scale)


class Unpaced(Pacer):
    """A pacer that never waits (rate limits switched off for a benchmark)."""

    def __init__(self) -> None:
        super().__init__(RateLimit(1, 1.0))

    async def acquire(self, weight: int = 1, *, urgent: bool = False) -> Slot:
        slot = Slot(0.0, 0)
        slot.settled = True
        return slot

    def settle(self, slot: Slot) -> None:
        return None

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        return None


def make_pacer(
    rate: RateLimit, *, enabled: bool, scale: float = 1.0, cap_s: float = DEFAULT_CAP_S
) -> Pacer:
    return Pacer(scaled(rate, scale), cap_s=cap_s) if enabled else Unpaced()
