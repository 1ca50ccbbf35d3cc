"""A stream's burst of frames gives the loop back: keys are answered while a feed ingests.

websockets hands over queued frames without suspending, so a feed that handled them in
one ``async for`` held the loop for every frame one socket read brought (~35 ms at
20,000 events/s). :func:`handle_frames` gives the loop back every ``per_turn`` frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from console.venues.kit.feeds import FRAMES_PER_TURN, handle_frames


async def burst(count: int) -> AsyncIterator[int]:
    """Frames already received: the next one comes without suspending, as websockets'."""
    for n in range(count):
        yield n


async def test_other_work_runs_after_each_turn_of_frames_not_after_the_burst() -> None:
    handled: list[int] = []
    seen_by_other: list[int] = []

    async def other() -> None:  # a key press's handler, scheduled before the burst
        seen_by_other.append(len(handled))

    task = asyncio.create_task(other())
    await handle_frames(burst(1000), handled.append, per_turn=200)
    await task
    assert handled == list(range(1000))  # every frame, in order
    assert seen_by_other == [200]  # it ran after the first turn, not after all 1,000


async def test_a_short_stream_is_handled_whole_and_the_default_turn_is_bounded() -> None:
    handled: list[int] = []
    await handle_frames(burst(3), handled.append)
    assert handled == [0, 1, 2]
    assert 50 <= FRAMES_PER_TURN <= 1000
