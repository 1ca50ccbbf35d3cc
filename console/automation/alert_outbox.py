"""Alerts sent beside the action, never in its way.

An alert is a webhook call (Apprise), and a webhook can be slow or silent: Apprise gives
each URL seconds before it gives up. Awaiting one inside the runner's tick held the tick
— and with it a dead-man kill, whose "emergency stop started" alert goes out before
the first stop — for as long as the slowest endpoint took. The outbox takes an alert at
once and sends it from one background task, in the order given (an "emergency stop
started" never arrives after its "ALL HALTED"). On shutdown :meth:`AlertOutbox.drain`
waits a bounded time for what is still queued, then says what it dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from console.automation.alerts import Alert, Alerter
from console.core import cancel

log = logging.getLogger(__name__)

DRAIN_S = 10.0  # on shutdown: what is still queued gets this long, then is dropped (logged)


class AlertOutbox:
    """One sender task per runner; :meth:`put` never waits."""

    def __init__(self, alerter: Alerter) -> None:
        self.alerter = alerter
        self._queue: deque[Alert] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._sending: Alert | None = None

    @property
    def pending(self) -> int:
        """Alerts taken and not yet sent (the one being sent included)."""
        return len(self._queue) + (self._sending is not None)

    def put(self, alert: Alert) -> None:
        self._queue.append(alert)
        self._idle.clear()
        self._ready.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._send_all(), name="automation:alerts"
            )

    async def _send_all(self) -> None:
        while True:
            while self._queue:
                self._sending = self._queue.popleft()
                try:
                    await self.alerter.send(self._sending)  # never raises by contract
                except Exception:  # …but the outbox must outlive a broken contract
                    log.exception("alert %r not sent", self._sending.title)
                finally:
                    self._sending = None
                cancel.check()  # Apprise's wait_for can return a send with the cancel
            self._ready.clear()
            self._idle.set()
            await self._ready.wait()

    async def drain(self, timeout_s: float = DRAIN_S) -> int:
        """Wait up to ``timeout_s`` for the queue to empty; stop the sender. Returns how
        many alerts were dropped (each one logged with its title)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            pass
        dropped = ([self._sending] if self._sending is not None else []) + list(self._queue)
        for alert in dropped:
            log.warning("alert %r not sent: shutting down after %g s", alert.title, timeout_s)
        self._queue.clear()
        if self._task is not None:
            await cancel.end_tasks([self._task], "alert outbox closing")
            self._task = None
        return len(dropped)
