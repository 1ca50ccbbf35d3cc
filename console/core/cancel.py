"""Ending loops and tasks when they are cancelled, even after a library lost the cancel.

On Python 3.11, ``asyncio.wait_for`` returns the awaited result instead of raising
``CancelledError`` when the cancel and the result arrive in the same turn of the loop
(CPython gh-86296, fixed in 3.12 by rewriting it on ``asyncio.timeout``). nats-py's
request (every JetStream publish, key-value update or get, ``nc.request``) and Apprise's
send wait that way: a hub whose lease renewal was answered just as the hub closed lost
the cancel, renewed on forever, and ``Hub.aclose`` waited for it forever (the second-hub
test hung ~1 run in 3 under a loaded suite). A cancel that was swallowed still shows as
``Task.cancelling()``: a long-running loop checks it after each step (:func:`check`),
and whoever closes cancels again, a bounded number of times, whatever has not ended
(:func:`end_tasks`). Our own code waits with ``asyncio.timeout``, which loses no cancel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

END_S = 5.0
"""How long a close waits for its cancelled tasks, each of :data:`END_TRIES` times."""
END_TRIES = 3


def check() -> None:
    """Raise ``CancelledError`` if the running task was cancelled and the cancel was lost
    on the way (a loop calls this after each step, before it waits for the next)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def end_tasks(tasks: Sequence[asyncio.Task[Any]], what: str) -> None:
    """Cancel ``tasks`` and wait until they have ended, cancelling again the ones a lost
    cancel left running; at most ``END_TRIES * END_S`` (then say which were left)."""
    pending = [t for t in tasks if not t.done()]
    for _ in range(END_TRIES):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=END_S)
        pending = list(still)
    for task in tasks:  # retrieved: an error of a loop was logged by the loop already
        if task.done() and not task.cancelled():
            task.exception()
    if pending:
        names = ", ".join(sorted(t.get_name() for t in pending))
        log.error("%s: task(s) %s did not end %g s after being cancelled %d times; "
                  "it closes without them (stop the process if it does not exit)", what, names, END_TRIES * END_S, END_TRIES)  # fmt: skip
