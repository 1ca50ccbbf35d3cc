"""A stream's queued frames give the loop back (kit.feeds.in_slices): a burst of frames
already read must not hold a key press behind it (issue 13)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from console.venues.kit.feeds import in_slices


async def _queued(count: int) -> AsyncIterator[int]:
    """Frames already queued: handed over without ever suspending (as websockets does)."""
    for n in range(count):
        yield n


async def test_every_frame_in_order_and_the_loop_turns_between_slices() -> None:
    loop = asyncio.get_running_loop()
    turned: list[int] = []  # frames after which the loop ran other callbacks
    seen = []
    async for frame in in_slices(_queued(5), slice_s=0.0):  # every frame is a full slice
        seen.append(frame)
        loop.call_soon(turned.append, frame)
    await asyncio.sleep(0)
    assert seen == [0, 1, 2, 3, 4]
    assert turned == [0, 1, 2, 3, 4]
    # and the loop ran frame n's callback before frame n + 1 was handled:
    order: list[str] = []
    async for frame in in_slices(_queued(3), slice_s=0.0):
        order.append(f"frame {frame}")
        loop.call_soon(order.append, f"turn after {frame}")
    assert order[:4] == ["frame 0", "turn after 0", "frame 1", "turn after 1"]


async def test_without_slicing_the_same_frames_hold_the_loop_to_the_end() -> None:
    """What in_slices is for: the plain iteration runs no other callback in between."""
    loop = asyncio.get_running_loop()
    order: list[str] = []
    async for frame in _queued(3):
        order.append(f"frame {frame}")
        loop.call_soon(order.append, f"turn after {frame}")
    assert order == ["frame 0", "frame 1", "frame 2"]


async def test_a_long_slice_gives_the_loop_back_only_once_it_is_used() -> None:
    loop = asyncio.get_running_loop()
    order: list[str] = []
    async for frame in in_slices(_queued(3), slice_s=3600.0):
        order.append(f"frame {frame}")
        loop.call_soon(order.append, f"turn after {frame}")
    assert order == ["frame 0", "frame 1", "frame 2"]
