"""A call that landed or may have whose re-read shows otherwise is read again, briefly.

A venue may answer a stop at once and show it in its reads a moment later: a list served
from a cache, a state machine that settles, a replica behind the primary. One re-read
right after the calls then found "still running" for a target whose stop was applied,
and the report said NEEDS ATTENTION for a kill that had worked (the simulator's
``stale_reads_ms`` knob reproduces it; docs/EMERGENCY.md). Those targets — and only
those: a call answered done (applied or already) or uncertain (it may have landed: a
timeout after sending) whose re-read shows the target otherwise — are read again after
:data:`SETTLE_DELAYS_S` until they read as asked, for :data:`SETTLE_AT_MOST_S` at most.
A target that still reads otherwise is reported as it reads: not verified. A call that
failed (nothing landed) or was refused is never waited for: its re-read decides at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence

from console.core.model import Target

SETTLE_DELAYS_S: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
"""The waits before each further re-read (a venue's cache of a second or two is seen
through; 3.75 s in all)."""
SETTLE_AT_MOST_S = 4.0
"""The longest the waits and re-reads may take together (never past the venue's verify
deadline: the dispatcher passes what it leaves, if less)."""

Reread = Callable[[list[str]], Awaitable[dict[str, Target | None] | None]]


async def settle(
    fresh: dict[str, Target | None],
    unsettled: Callable[[dict[str, Target | None]], list[str]],
    reread: Reread,
    delays: Sequence[float] = SETTLE_DELAYS_S,
    at_most_s: float = SETTLE_AT_MOST_S,
) -> dict[str, Target | None]:
    """``fresh`` with the ``unsettled`` targets read again, after each of ``delays``,
    until none is left, a re-read fails (``reread`` returns None) or ``at_most_s`` has
    passed — the waits and the re-reads together: a re-read still in flight then is
    dropped. What a later read found replaces what an earlier one did."""
    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(at_most_s):
            for delay in delays:
                ids = unsettled(fresh)
                if not ids or time.monotonic() - started + delay > at_most_s:
                    break
                await asyncio.sleep(delay)
                again = await reread(ids)
                if again is None:
                    break
                fresh.update((k, v) for k, v in again.items() if v is not None)
    return fresh
