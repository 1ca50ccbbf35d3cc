"""Input first: while the screen answers a key, the feeds' bulk work waits, briefly.

The console runs its feeds and its screen on one event loop. At ~12,000 targets and
10,000 stream events a second the feeds keep the loop about half busy, and a key's
modal is built over many turns of the loop: each of those turns waited behind whatever
feed work was ready (a poll's 6,000-target snapshot, a burst of stream frames), so a
press that met a poll took 60–110 ms where one alone takes 15–20 (issue 13,
``benchmarks/console_load.py``). The screen :meth:`InputFirst.hold`\\ s the feeds when a
key comes in and :meth:`InputFirst.release`\\ s them once the key's answer is painted; the
feeds' points where they would give the loop back anyway (:meth:`InputFirst.turn`) wait
for that meanwhile; a hold ends by itself :data:`AT_MOST_S` after it began, so a release
that never comes costs the feeds that long once. A release names its hold: the release
of one key's answer (scheduled for after a paint) never ends the hold of the key typed
meanwhile. A key typed while a hold is on does not make it longer, and a hold that runs
out gives the feeds as long a turn before any key holds again: keys typed faster than
their answers are painted never starve the feeds.

Where the feeds wait: a stream between two frames, a poll before it stores its list, a
list read before it asks for its next page; the screen's own redraw tick gives way too
(``tui/controllers/redraw.py``: never two ticks in a row). The screen never holds while a
plan runs, so a kill's calls and re-reads never wait here. Without a screen (the hub, the
CLI) nobody holds, and a turn is one ``asyncio.sleep(0)``. The venue kit and the TUI
import this module; it imports nothing of the console.
"""

from __future__ import annotations

import asyncio
import contextlib

AT_MOST_S = 0.1
"""The longest a key holds the feeds (its answer painted sooner releases them)."""


class InputFirst:
    """The hold the screen puts on the feeds while it answers a key.

    A hold ends when released or ``at_most_s`` after it began, whichever comes first: a
    release that never comes (a bug, a key whose answer paints nothing) costs the feeds
    that long once, not that long at every turn."""

    def __init__(self, at_most_s: float = AT_MOST_S) -> None:
        self.at_most_s = at_most_s
        # Set while the feeds may go on; made in (and only good for) the loop that held.
        self._open: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._until = 0.0  # the held loop's time when the hold ends by itself
        self._rest_until = 0.0  # ... and until when no key holds after a hold ran out
        self.holding = False  # a plain flag: a feed checks it once a frame
        self.generation = 0
        """Counts holds: a release names the hold it ends (:meth:`release`)."""

    def _current(self) -> asyncio.Event | None:
        """The running loop's hold if it is on; None if not (never held, released,
        expired, or held by another loop: tests run many loops in one process)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        event = self._open
        if loop is not self._loop or event is None or event.is_set():
            return None
        if loop.time() >= self._until:
            # Expired: keys came faster than their answers were painted. The feeds get as
            # long a turn before any key holds again (never starved by a key held down).
            self._rest_until = self._until + self.at_most_s
            self.release()
            return None
        return event

    @property
    def held(self) -> bool:
        return self._current() is not None

    def hold(self) -> int:
        """A key came in: the feeds wait at their next turn (see :meth:`release`); the
        hold's number, for its release."""
        loop = asyncio.get_running_loop()
        self.generation += 1
        if loop is not self._loop or self._open is None:  # (a new loop: nothing held yet)
            self._open, self._loop, self._until, self._rest_until = asyncio.Event(), loop, 0.0, 0.0
            self._open.set()
        if self._current() is None:  # a new hold; one on already is not made longer
            now = loop.time()
            if now < self._rest_until:
                return self.generation  # the feeds' turn after a hold ran out: none now
            self._until = now + self.at_most_s
        self._open.clear()
        self.holding = True
        return self.generation

    def release(self, generation: int | None = None) -> None:
        """The key's answer is on the screen: the feeds go on. ``generation``: only if no
        other key has held since (the release of a key's answer, scheduled for after a
        paint, must not end the hold of the key typed meanwhile: it came late otherwise,
        measured 20 ms of feed work between a key's arrival and its handling)."""
        if generation is not None and generation != self.generation:
            return
        self.holding = False
        if self._open is not None:
            self._open.set()

    async def turn(self) -> None:
        """Give the loop back; while a key is being answered, wait for that first (until
        the hold ends: released, or ``at_most_s`` after it began)."""
        event = self._current()
        if event is None:
            self.holding = False  # no hold on in this loop (another loop's, or ended)
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(self._until):
                await event.wait()


INPUT_FIRST = InputFirst()
"""The process's one hold: the screen holds and releases it, the feeds turn on it."""
