"""Input first: the feeds' turns wait while the screen answers a key, never for long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.core.dispatcher import Dispatcher
from console.core.input_first import INPUT_FIRST, InputFirst
from console.core.kill import build_kill_plan
from console.venues.kit import feeds
from tests.core.test_dispatch_hold import _ready
from tests.core.test_kill_deadlines import journal


async def spin(turns: int = 20) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


async def test_a_turn_waits_for_the_release_while_held_and_goes_on_at_once_otherwise() -> None:
    gate = InputFirst(at_most_s=30.0)
    await asyncio.wait_for(gate.turn(), 5)  # never held: one turn of the loop
    gate.hold()
    assert gate.holding and gate.held
    waiting = asyncio.create_task(gate.turn())
    await spin()
    assert not waiting.done()  # held: the feed waits for the key's answer
    gate.release()
    await asyncio.wait_for(waiting, 5)
    assert not gate.holding and not gate.held


async def test_a_hold_never_released_ends_by_itself_once_not_at_every_turn() -> None:
    gate = InputFirst(at_most_s=0.01)
    gate.hold()
    await asyncio.wait_for(gate.turn(), 5)  # a bug that never releases: the bound ends it
    assert not gate.held and not gate.holding  # expired: the next turns do not wait
    gate.at_most_s = 30.0
    await asyncio.wait_for(gate.turn(), 5)


def test_a_hold_left_by_another_loop_holds_nothing_here() -> None:
    """Tests run many loops in one process: an app that ended mid-key in one must not
    stall (or break) the feeds of the next."""
    gate = InputFirst(at_most_s=30.0)

    async def hold() -> None:
        gate.hold()

    async def turn() -> None:
        await asyncio.wait_for(gate.turn(), 5)

    asyncio.run(hold())
    asyncio.run(turn())
    assert not gate.holding


async def test_a_stream_handles_no_frame_while_a_key_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = InputFirst(at_most_s=30.0)
    monkeypatch.setattr(feeds, "INPUT_FIRST", gate)
    handled: list[int] = []

    async def frames() -> AsyncIterator[int]:
        for n in range(5):
            yield n

    gate.hold()
    stream = asyncio.create_task(feeds.handle_frames(frames(), handled.append))
    await spin()
    assert handled == []
    gate.release()
    await asyncio.wait_for(stream, 5)
    assert handled == [0, 1, 2, 3, 4]


async def test_a_release_ends_only_its_own_hold_not_the_next_keys() -> None:
    """A key's release is scheduled for after its answer's paint; a key typed meanwhile
    holds on (measured: 20 ms of feed work between the next key's arrival and its
    handling when any release ended any hold)."""
    gate = InputFirst(at_most_s=30.0)
    first = gate.hold()
    second = gate.hold()
    gate.release(first)
    assert gate.held
    gate.release(second)
    assert not gate.held
    gate.hold()
    gate.release()  # no number: whatever is held (the app going away)
    assert not gate.held


async def test_keys_faster_than_their_answers_never_starve_the_feeds() -> None:
    """Holds one after another are one hold: it runs out at its bound, not later, and
    then the feeds get as long a turn before a key holds again."""
    gate = InputFirst(at_most_s=0.05)
    gate.hold()
    until = gate._until
    gate.hold()  # a second key before the first's answer: the hold is not made longer
    assert gate._until == until
    await asyncio.wait_for(gate.turn(), 5)  # the feeds waited the bound, no more
    gate.hold()  # right after it ran out: the feeds' turn, this key holds nothing
    assert not gate.held
    await asyncio.wait_for(gate.turn(), 5)
    await asyncio.sleep(gate.at_most_s)  # the feeds' turn passes
    gate.hold()
    assert gate.held
    gate.release()


async def test_a_plan_starting_ends_the_hold_of_the_key_that_started_it(tmp_path: Path) -> None:
    """The key that confirms a kill holds the feeds until its answer is painted; the kill's
    own reads (a venue's pre-read, the re-reads) must not wait for that."""
    client, store = await _ready(["a"])
    dispatcher = Dispatcher({"v": client}, journal(tmp_path), store)
    seen: list[bool] = []

    async def before() -> None:
        seen.append(INPUT_FIRST.held)

    dispatcher.before_calls = before
    saved, INPUT_FIRST.at_most_s = INPUT_FIRST.at_most_s, 30.0
    try:
        INPUT_FIRST.hold()
        await dispatcher.run(build_kill_plan(store, {"v": client}).plan)
    finally:
        INPUT_FIRST.at_most_s = saved
        INPUT_FIRST.release()
    assert seen == [False]
