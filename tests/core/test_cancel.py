"""A close (the hub's, the desk console's, the alert outbox's) ends its tasks even when
a cancel was lost on the way (Python 3.11's ``asyncio.wait_for``, inside nats-py or
Apprise, can drop one: CPython gh-86296), and never waits without a bound for one that
does not end."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from console.core import cancel


async def _loses_a_cancel(second: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.CancelledError):  # the answer came with the cancel
        await asyncio.Event().wait()
    second.set()
    await asyncio.Event().wait()  # a loop going on: only another cancel ends it


async def test_a_loop_whose_step_lost_the_cancel_ends_before_its_next_wait() -> None:
    steps = 0

    async def loop() -> None:
        nonlocal steps
        while True:
            steps += 1
            with contextlib.suppress(asyncio.CancelledError):  # lost in the step
                await asyncio.Event().wait()
            cancel.check()
            await asyncio.Event().wait()

    task = asyncio.ensure_future(loop())
    await asyncio.sleep(0)  # (lets it start: not a wait for time)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == 1


async def test_a_task_that_lost_the_cancel_is_cancelled_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cancel, "END_S", 0.05)
    second = asyncio.Event()
    task = asyncio.ensure_future(_loses_a_cancel(second))
    await asyncio.sleep(0)
    await cancel.end_tasks([task], "test")
    assert second.is_set() and task.cancelled()


async def test_a_task_that_never_ends_is_left_and_named_after_a_bounded_wait(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cancel, "END_S", 0.05)

    hearing = asyncio.Event()

    async def deaf() -> None:
        while not hearing.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()

    task = asyncio.ensure_future(deaf())
    task.set_name("hub:deaf")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger=cancel.__name__):
        await cancel.end_tasks([task], "hub 1234 closing")
    assert not task.done()
    assert "hub 1234 closing: task(s) hub:deaf did not end" in caplog.text
    hearing.set()  # (the test leaves nothing running)
    task.cancel()
    await task
