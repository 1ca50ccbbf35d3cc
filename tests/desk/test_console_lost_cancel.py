"""A desk console closes even when a cancel was lost on the way.

Python 3.11's ``asyncio.wait_for`` (inside every nats-py request and watch) returns an
answer that came in the same turn as the cancel and drops the cancel (CPython gh-86296).
The console's re-arm watch and its state's background read of the bucket were cancelled
and then awaited without a bound: one that kept the cancel would have held the quit for
ever. Each fake here keeps the first cancel, as such a watch or read would, and goes on
until cancelled again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.core import cancel
from console.desk.desk_console import DeskConsoleApp
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import running_hub
from tests.desk.test_console_desk import SIZE, desk_console


class KeepsOneCancel:
    """An awaitable step that keeps the first cancel (its answer came with it), then goes
    on until cancelled again, or until ``release`` (set by a test that failed, so that it
    leaves nothing running)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.kept = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:  # the answer came too: wait_for returns it
            self.kept.set()
        await self.release.wait()  # going on: only another cancel ends it


async def test_a_desk_console_quits_though_its_rearm_watch_kept_the_cancel(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cancel, "END_S", 0.05)  # (the second cancel at once)
    watch = KeepsOneCancel()
    async with (
        running_hub(nats_server, sim, tmp_path),
        desk_console(nats_server, "alice") as (state, control),
    ):
        app = DeskConsoleApp(state, control)
        app.board.follow = watch  # type: ignore[method-assign]

        async def run() -> None:
            async with app.run_test(size=SIZE):
                await asyncio.wait_for(watch.started.wait(), 30)

        running = asyncio.ensure_future(run())
        await asyncio.wait([running], timeout=60)  # (not cancelled: that would free it)
        quit_ = running.done()
        watch.release.set()  # (the code before: the quit waits until the watch ends)
        await asyncio.wait([running])
        assert quit_, "the desk console's quit waited on for its re-arm watch"
        running.result()
        assert watch.kept.is_set()
        assert app._board_task is not None and app._board_task.cancelled()


async def test_a_desk_state_closes_though_its_read_of_the_bucket_kept_the_cancel(
    nats_server: LocalNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cancel, "END_S", 0.05)
    read = KeepsOneCancel()
    async with desk_console(nats_server, "bob", down_after_s=0.5) as (state, _control):
        state.read_bucket = read  # type: ignore[method-assign]
        state.resync()  # (as a missed batch, a new hub or a reconnect starts it)
        await asyncio.wait_for(read.started.wait(), 30)
        resync = state._resync_task
        closing = asyncio.ensure_future(state.aclose())
        await asyncio.wait([closing], timeout=60)
        closed = closing.done()
        read.release.set()
        await asyncio.wait([closing])
        assert closed, "the desk state's close waited on for its read of the bucket"
        closing.result()
        assert read.kept.is_set()
        assert resync is not None and resync.cancelled()
