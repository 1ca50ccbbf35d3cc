"""Garbage-collector handling for big tables: fewer, earlier pauses.

A 10,000-row table holds ~100,000 objects. Python's cyclic collector re-scans the
long-lived ones whenever enough new objects survive, and those scans (100–400 ms) land
on key presses. Cells hold no reference cycles, so reference counting frees them; the
cyclic collector only needs to run rarely, and never over the table itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Tens of thousands of cells at once: one collection afterwards, not dozens during."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle_heap() -> None:
    """After a first paint of thousands of rows: collect once, then ``gc.freeze()``.

    Every later collection would otherwise re-scan the 100,000-odd objects a big table
    holds, and those pauses land on key presses. Frozen objects are still freed by
    reference counting when a cell is replaced (cells hold no cycles); only cyclic
    garbage among them would outlive the freeze, and that is the app's one-time set-up.
    """
    gc.collect()
    gc.freeze()


class QuietCollector:
    """Full garbage collections at quiet moments, not in the middle of a key press.

    Textual's rendered lines form small reference cycles (a Strip caches itself), so the
    cyclic collector has real work; the young generations catch most of it cheaply. A
    *full* collection scans every live object the screen holds (10,000 rows of cells,
    the store, the caches): 100–250 ms measured, and CPython starts one whenever enough
    objects have aged, which under a busy feed was every second or two — each one a
    frozen screen for whoever pressed a key then. Here automatic full collections are
    off; one runs on the redraw tick once ``every_s`` has passed *and* nobody has typed
    for ``quiet_s``, and in any case after ``at_most_s`` (memory stays bounded: garbage
    waits at most that long).
    """

    AUTOMATIC_FULL_OFF = 1_000_000_000

    def __init__(self, *, every_s: float = 20.0, quiet_s: float = 3.0, at_most_s: float = 120.0):
        self.every_s, self.quiet_s, self.at_most_s = every_s, quiet_s, at_most_s
        self.last_full = 0.0
        self.collections = 0
        self._saved: tuple[int, int, int] | None = None

    def install(self, now: float) -> None:
        """Young generations as CPython runs them; the full one left to :meth:`tick`."""
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, self.AUTOMATIC_FULL_OFF)
        self.last_full = now

    def uninstall(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def due(self, now: float, last_input: float) -> bool:
        since = now - self.last_full
        if since >= self.at_most_s:
            return True
        return since >= self.every_s and now - last_input >= self.quiet_s

    def tick(self, now: float, last_input: float) -> bool:
        """Collect fully if due (``now``/``last_input``: one monotonic clock); True if it did."""
        if self._saved is None or not self.due(now, last_input):
            return False
        gc.collect()
        self.last_full = now
        self.collections += 1
        return True
