"""Automation ends when cancelled even after a library lost the cancel.

Apprise waits for each service with ``asyncio.wait_for``, which on Python 3.11 returns an
answer that came in the same turn as the cancel and drops the cancel (CPython gh-86296).
The drain (on every quit, and at the end of the headless runner and of the hub's
automation) cancelled the sender and awaited it without a bound: a sender that kept the
cancel waited on for the next alert, and the quit with it, for ever. The headless
runner's loop (the hub's automation too) checks after each tick that its cancel came.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import cast

from console.automation.alert_outbox import AlertOutbox
from console.automation.alerts import Alert, Alerter, AlertResult
from console.automation.messages import RunRecord
from console.sim.server import SimServer
from tests.automation.support import ManualClock, make_runner, make_session


class KeepsOneCancel:
    """An alerter whose one send is answered just as it is cancelled (it keeps the cancel
    and returns the answer); ``release`` frees a test that failed."""

    def __init__(self) -> None:
        self.sending = asyncio.Event()
        self.kept = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, alert: Alert) -> AlertResult:
        if self.kept.is_set():  # (the code before: a later send, then the idle wait)
            await self.release.wait()
        self.sending.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:  # the answer came too: wait_for returns it
            self.kept.set()
        self.sent.append(alert.title)
        return AlertResult("sent")


async def test_a_drain_ends_the_sender_though_its_send_kept_the_cancel() -> None:
    alerter = KeepsOneCancel()
    outbox = AlertOutbox(cast(Alerter, alerter))
    outbox.put(Alert("guard", "first", "held by its endpoint"))
    await asyncio.wait_for(alerter.sending.wait(), 30)
    sender = outbox._task
    draining = asyncio.ensure_future(outbox.drain(0.01))  # (the send never ends by itself)
    await asyncio.wait([draining], timeout=30)
    drained = draining.done()
    alerter.release.set()
    if sender is not None:
        sender.cancel()  # (the code before: the sender waits for the next alert for ever)
    await asyncio.wait([draining])
    assert drained, "the outbox's drain waited on for its sender"
    assert draining.result() == 1  # the one being sent when the drain gave up
    assert alerter.kept.is_set() and alerter.sent == ["first"]
    assert sender is not None and sender.cancelled()


async def test_the_headless_loop_ends_though_a_tick_kept_the_cancel(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    runner = make_runner(session, {}, ManualClock(time.time()))
    ticking, kept = asyncio.Event(), asyncio.Event()

    async def tick_answered_with_the_cancel() -> list[RunRecord]:
        ticking.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:  # a library's wait_for returned its answer
            kept.set()
        return []

    runner.tick = tick_answered_with_the_cancel  # type: ignore[method-assign]
    stop = asyncio.Event()
    try:
        running = asyncio.ensure_future(runner.run_forever(stop, interval_s=3600.0))
        await asyncio.wait_for(ticking.wait(), 30)
        running.cancel()
        await asyncio.wait([running], timeout=30)  # (the code before: the next tick's wait)
        ended = running.done()
        stop.set()
        await asyncio.wait([running])
        assert ended, "the runner's loop went on after its tick kept the cancel"
        assert kept.is_set() and running.cancelled()
    finally:
        await session.aclose()
