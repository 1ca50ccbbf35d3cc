"""Input first: while the screen answers a key, the feeds' bulk work waits, briefly.

The console runs its feeds and its screen on one event loop. At ~12,000 targets and
10,000 stream events a second the feeds keep the loop about half busy, and a key's
modal is built over many turns of the loop: each of those turns waited behind whatever
feed work was ready (a poll's 6,000-target snapshot, a burst of stream frames), so a
press that met a poll took 60–110 ms where one alone takes 15–20 (issue 13,
``benchmarks/console_load.py``). The screen :meth:`InputFirst.hold`\\ s the feeds when a
key comes in and :meth:`InputFirst.release`\\ s them once the key's answer is painted; the
feeds' points where they would give the loop back anyway (:meth:`InputFirst.turn`) wait
for that meanwhile, never longer than :data:`AT_MOST_S` a time, so no bug and no key
held down can stall a feed: its data is at most that much later.

Where the feeds wait: a stream between two frames, a poll before it stores its list, a
list read before it asks for its next page. The screen never holds while a plan runs, so
a kill's calls and re-reads never wait here. Without a screen (the hub, the CLI) nobody
holds, and a turn is one ``asyncio.sleep(0)``.
Core and the venue kit import this module; it imports neither.
"""

from __future__ import annotations

import asyncio
import contextlib

AT_MOST_S = 0.1
"""The longest one feed turn waits for a key's answer to be painted."""


class InputFirst:
    """The hold the screen puts on the feeds while it answers a key."""

    def __init__(self, at_most_s: float = AT_MOST_S) -> None:
        self.at_most_s = at_most_s
        # Set while the feeds may go on; made in (and only good for) the loop that held.
        self._open: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.holding = False  # a plain flag: a feed checks it once a frame

    def _current(self) -> asyncio.Event | None:
        """The hold of the running loop; None if it never held (or another loop did:
        tests run many loops in one process)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._open if loop is self._loop else None

    @property
    def held(self) -> bool:
        event = self._current()
        return event is not None and not event.is_set()

    def hold(self) -> None:
        """A key came in: the feeds wait at their next turn (see :meth:`release`)."""
        event = self._current()
        if event is None:
            event = self._open = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        event.clear()
        self.holding = True

    def release(self) -> None:
        """The key's answer is on the screen: the feeds go on."""
        self.holding = False
        if self._open is not None:
            self._open.set()

    async def turn(self) -> None:
        """Give the loop back; while a key is being answered, wait for that first (at
        most ``at_most_s``)."""
        event = self._current()
        if event is None or event.is_set():
            self.holding = False  # another loop's hold (a test that ended): not this one's
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.at_most_s):
                await event.wait()


INPUT_FIRST = InputFirst()
"""The process's one hold: the screen holds and releases it, the feeds turn on it."""
