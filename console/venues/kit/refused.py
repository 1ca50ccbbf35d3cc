"""A control call the venue refused with 429 goes again, for as long as a kill can wait.

A 429 says the venue did not act on the call (RFC 6585: too many requests; every vendor
documents it so), so sending it again is safe — and an emergency stop that gives up after
one refusal leaves a target trading for the operator to find in the report. Each venue
used to retry once, five ways (a fixed second, the pacer's hold, past the hold or
through it); an independent FinRadar whose limit was lower than the console's poll used
(session 18) answered a kill's stops 429 twice, and they were *failed* though a few
seconds later every one would have landed. Now every venue's control calls pass here,
from :meth:`~console.venues.kit.control.ControlStep.run`:

* a 429 to a request that left (``Reply.sent``) goes again, after the venue's
  ``Retry-After`` (or its rate-limit reset) where it names one, else after a backoff of
  1 s, 2 s, 4 s … as the vendors advise — a paced client's pacer holds after the 429
  (``Pacer.observe``), so the next request waits in its queue; an unpaced one
  (``pacing = false``) waits here. With no wait named, this call's own backoff is the
  least it waits, paced or not: the pacer's hold is the venue's (one 1 s backoff again
  after any call of the venue is answered), and five stops sharing an independent
  FinRadar's 3 calls per 4 s spent one stop's tries a second apart — refused six
  times, *failed* after 10 s of a 30 s cap that would have seen it land. Paced, it is a
  random point of the backoff's upper half (0.5–1 s, 1–2 s …): the calls of one burst,
  refused together, went again together and were refused together again;
* for at most ``cap_s`` (the profile's ``retry_after_cap``, 30 s) from the first
  refusal — a retry is not made when its wait would pass that: the venue's asked wait,
  or, paced, the pacer's own (its hold and its budget, which every retry spends too: 31
  stops refused for ever by x3algo's 100 calls a minute were retried past the budget,
  for 64 s, in a first version; and as that estimate cannot see the calls queued
  ahead, the pacer's turn itself is given up at the cap: :func:`acquired_by`) — and at
  most :data:`MAX_TRIES` requests in all (a
  venue answering ``Retry-After: 0`` for ever must not be probed in a tight loop);
* never when the venue asks for longer than ``cap_s`` (failed at once, the venue's wait in
  words, as before), never for a 429 the pacer made up while such a wait is in force
  (``sent=False``: nothing left), and never for the answer to a halting call sent again
  after its connection broke (``Reply.resent``: the first may have landed, the outcome
  says so);
* while it waits, the call counts as not sent (:func:`console.core.turns.refused`): a
  dispatch deadline passing then reports it *failed, not sent*, which is true — every
  request it made was refused.

The outcome of a call refused more than once says how often and for how long
(:func:`tries_words`). A list read is not retried here: the next poll reads it again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from console.core.turns import refused
from console.venues.kit.base import VenueSettings
from console.venues.kit.http import Reply
from console.venues.kit.pacing import (
    BACKOFF_FIRST_S,
    Pacer,
    PastRetryCap,
    Unpaced,
    acquired_by,
    reset_seconds,
    retry_after_seconds,
    too_long,
)

MAX_TRIES = 6
"""Requests one control call may make while each is refused with 429."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Refusals:
    """How a venue's control calls go again after a 429 (module docstring)."""

    cap_s: float
    pacer: Pacer | None  # the call's pacer, which holds after a 429; None: this waits
    scale: float = 1.0  # the rate windows' scale (tests): scales the unpaced backoff
    clock: Clock = field(default=time.monotonic, compare=False)
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    spread: Callable[[], float] = field(default=random.random, compare=False)
    """A number in [0, 1): where in the upper half of its backoff a paced retry goes."""

    @classmethod
    def of(cls, settings: VenueSettings, pacer: Pacer) -> Refusals:
        """For calls paced by ``pacer`` (an :class:`Unpaced` one when pacing is off)."""
        paced = None if isinstance(pacer, Unpaced) else pacer
        return cls(settings.retry_after_cap_s, paced, settings.rate_scale)

    async def send(self, send: Callable[[], Awaitable[Reply]]) -> tuple[Reply, int, float]:
        """``send()``'s answer, sent again while refused with 429 as the rules allow;
        with the number of requests that were answered and the seconds from the first
        refusal to the last answer."""
        return await self.again(send, await send())

    async def again(
        self, send: Callable[[], Awaitable[Reply]], reply: Reply
    ) -> tuple[Reply, int, float]:
        """As :meth:`send`, ``reply`` being the first answer (a caller on a hot path
        awaits the first request itself: one frame fewer on each of its resumptions)."""
        tries, first, backoff = 1, 0.0, BACKOFF_FIRST_S
        while reply.status == 429 and reply.sent and not reply.resent and tries < MAX_TRIES:
            now = self.clock()
            first = first or now
            asked = retry_after_seconds(reply.headers)
            if asked is None:
                asked = reset_seconds(reply.headers)
            if too_long(asked, self.cap_s):
                break
            held = 0.0
            if self.pacer is not None:  # its hold (as asked, or the backoff) and its budget
                held = self.pacer.delay_for()  # (every retry is spent from it too)
                # (a burst's calls, refused together, go again spread over the upper half
                # of the backoff, not together: refused together again, as in lockstep)
                jittered = backoff * self.scale * (0.5 + 0.5 * self.spread())
                wait = held if asked is not None else max(held, jittered)
            else:
                wait = asked if asked is not None else backoff * self.scale
            if now - first + wait > self.cap_s:
                break
            refused()  # until the next request leaves, this call was never sent
            if wait > held:  # (paced: what the pacer's queue will not wait itself)
                await self.sleep(wait - held)
            backoff *= 2
            left = self.cap_s - (self.clock() - first)  # (acquired_by reads time.monotonic)
            try:
                with acquired_by(time.monotonic() + left):  # a turn past the cap: not sent
                    reply = await send()
            except PastRetryCap:
                break
            tries += 1
        return reply, tries, (self.clock() - first) if first else 0.0


def tries_words(tries: int, seconds: float, *, last_refused: bool) -> str:
    """How often a call was refused before its outcome, for the outcome's message."""
    if last_refused:
        return f"refused with 429 on each of {tries} tries over {seconds:.0f} s"
    before = "the first" if tries == 2 else f"the first {tries - 1}"
    return f"sent {tries} times: {before} refused with 429, over {seconds:.0f} s"
