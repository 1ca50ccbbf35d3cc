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
