"""The console's garbage-collector policy, in one place: fewer, earlier pauses.

A 10,000-row table holds ~100,000 objects. Python's cyclic collector re-scans the
long-lived ones whenever enough new objects survive, and those scans (100–400 ms) land
on key presses. Cells hold no reference cycles, so reference counting frees them; the
cyclic collector only needs to run rarely, and never over the table itself.

The app installs the policy when it starts (:meth:`QuietCollector.install`, which also
installs :mod:`console.tui.textual_compat.strips`: Textual's strips without reference
cycles) and gives it back when it stops; the panels' first paint uses
:func:`gc_paused` and :func:`settle_heap`. The dispatcher's own policy while a plan runs
(``console.core.dispatcher``) stays in core: it also serves the kill command without a
screen.

Measured (issue 13, ``/tmp`` A/B scripts around ``benchmarks/console_load.py``, 2 shared
cores, runs back to back): whether :func:`gc_paused` and :func:`settle_heap` in
``RowModel.rebuild`` still pay on the Line API table.

* First paint (~12,000 targets): 1.01 / 0.78 s with them, 0.94 s without: no difference
  beyond the noise, as expected: while the venues' first lists come in the collector is
  held (:meth:`QuietCollector.hold`), so both are no-ops then.
* A panel first shown after start-up (the 4,500-row strategies panel at ~12,000
  targets): showing it took 219 / 277 ms with them, 254 ms without; the full collection
  that followed took 7 / 20 ms with them and 35 ms without (its rows were still in the
  collector's view). They stay: a first rebuild after start-up is where they pay.
* At ~50,000 targets a quiet full collection (:meth:`QuietCollector.tick`) took
  250–540 ms and found almost nothing (0–1,586 objects): it runs only after 2 s without
  a key, which is why it must never run on one.

The quiet full collection did not pay, and is gone (issue 13, last pass). Measured with
``gc.callbacks`` and ``time.thread_time`` (CPU time: the machine was shared, wall clock
said little) around ``benchmarks/console_load.py --launches 1 --rates 10000 --presses
30`` at ~12,000 targets, the code before and after run side by side:

* before: 19 full collections in the run, 34–127 ms CPU each, freeing 0–1,517 objects
  (most under 100); the redraw tick ran 24 callbacks over 50 ms CPU (max 159 ms);
* after (young collection + park every 10 s): no full collection in the run; the redraw
  tick 3 callbacks over 50 ms (max 103 ms). What the 9 parked passes kept in the run:
  a deep pass afterwards (``console_load`` times one) took 325 ms CPU and freed 9,392
  objects — the cost of the 15-minute deep pass, at a quiet moment.

Big buffers stay off glibc's heap, and freed memory goes back to the system after each
pass (:func:`glibc_tuning`). glibc serves a block over its *mmap threshold* from a
mapping of its own, returned when freed, but raises that threshold each time such a
block is freed, up to 32 MB: after the first few polls a venue's big answer (Joyride's
5.3 MB instrument list at ~12,000 targets, read every poll) came from the heap, which
kept the high-water mark. The threshold is pinned at 256 KiB (``mallopt``), and
``malloc_trim(0)`` after each pass returns the heap's free pages. Measured with
``console_load`` (~12,000 targets, 10,000 events/s, 1 launch): RSS 156.7 MB at the end
(one trim then gave back 11 MB: 145.6 MB); with the threshold pinned 145.9 MB at the
end (a trim then: 145.1 MB); pymalloc's own arenas (98 MB, 87 in use) are not touched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from console.tui.textual_compat import strips, styles_cache


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
    """After a first paint of thousands of rows: ``gc.freeze()`` what is alive.

    Every later collection would otherwise re-scan the 100,000-odd objects a big table
    holds, and those pauses land on key presses. Frozen objects are still freed by
    reference counting when a cell is replaced (cells hold no cycles); only cyclic
    garbage among them would outlive the freeze, until the quiet collector's deep pass.
    Nothing is collected first: measured on the 6,000-row first paint, a young
    collection there found no garbage at all and cost 50–90 ms on the way to the first
    paint (a full one 150–200 ms).
    """
    gc.freeze()


MMAP_THRESHOLD = 256 * 1024
"""A block this big or bigger gets a mapping of its own (returned to the system when freed)."""
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def glibc_tuning() -> Callable[[], object] | None:
    """Pin glibc's mmap threshold at :data:`MMAP_THRESHOLD` (``mallopt``) and return its
    ``malloc_trim(0)`` (the heap's free pages back to the system); None, and nothing
    changed, where the C library is not glibc (the policy then only collects)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim: Callable[[int], object] = libc.malloc_trim
        mallopt: Callable[[int, int], int] = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return lambda: trim(0)


class QuietCollector:
    """Garbage collection that does not land on a key press.

    A full collection scans every live object it can see: with 10,000 rows of cells,
    the store and the render caches, 150–600 ms (measured), up to 1.5 s when left to
    grow; CPython starts one whenever enough objects have aged — under a busy feed every
    second or two, each a frozen screen for whoever pressed a key then. Here:

    * automatic full collections are off; the young generations run as CPython runs them
      (a few ms: they catch Textual's short-lived render cycles);
    * every ``every_s`` the redraw tick runs one collection of the young generations and
      *parks* what survived it in the frozen set (``gc.freeze``: live objects leave the
      collector's view), so no later collection scans them. A few ms, whether or not
      keys are being pressed. Cyclic garbage parked there waits for the next deep pass.
      (Until issue 13's last pass a *full* collection ran here at quiet moments: it took
      250–870 ms and found 0–1,586 objects, and "quiet" was two seconds without a key,
      so the next key often met it: measured figures in the module docstring;)
    * every ``deep_every_s``, at a moment with no key for ``quiet_s``, everything is
      unfrozen and collected once (the longest pause, when nobody is typing); past
      ``deep_at_most_s`` it runs even while keys are being pressed, so parked garbage is
      bounded in time.
    """

    AUTOMATIC_FULL_OFF = 1_000_000_000

    def __init__(
        self,
        *,
        every_s: float = 10.0,
        quiet_s: float = 2.0,
        deep_every_s: float = 900.0,
        deep_at_most_s: float = 3600.0,
        trim: Callable[[], object] | None = None,
    ) -> None:
        """``trim``: gives freed memory back after each pass (default: glibc's, set up by
        :meth:`install` with :func:`glibc_tuning`)."""
        self.trim = trim
        self.trims = 0
        self.every_s, self.quiet_s = every_s, quiet_s
        self.deep_every_s, self.deep_at_most_s = deep_every_s, deep_at_most_s
        self.last_young = self.last_deep = 0.0
        self.deep_collections = self.parked = 0
        self._saved: tuple[int, int, int] | None = None
        self._held: bool | None = None  # while starting: whether gc was enabled before

    def install(self, now: float) -> None:
        """Turn automatic full collections off (``now``: a monotonic clock), and let
        Textual's strips and a dropped widget's line cache be freed by reference
        counting (process-wide patches, once)."""
        strips.install()
        styles_cache.install()
        if self.trim is None:
            self.trim = glibc_tuning()
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, self.AUTOMATIC_FULL_OFF)
        self.last_young = self.last_deep = now

    def hold(self) -> None:
        """No collection at all while the console starts; :meth:`release` ends it.

        Start-up builds ~400,000 objects that all live on (targets, table rows, widgets).
        The ~350 young collections CPython ran over them on the way to a 6,000-row first
        paint cost 50–70 ms and had nothing to free: a full collection once start-up was
        over found ~500 garbage objects (measured)."""
        if self._held is None:
            self._held = gc.isenabled()
            gc.disable()

    @property
    def holding(self) -> bool:
        return self._held is not None

    def release(self, *, freeze: bool = True) -> None:
        """Start-up is over: freeze what it built, unscanned (its few hundred garbage
        objects wait for the next deep pass), and collect as before. At shutdown
        (``freeze=False``) only the collector is given back."""
        if self._held is None:
            return
        if freeze:
            gc.freeze()
        if self._held:
            gc.enable()
        self._held = None

    def uninstall(self) -> None:
        self.release(freeze=False)
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def tick(self, now: float, last_input: float) -> str | None:
        """Collect if due (``now``/``last_input``: one monotonic clock).

        Returns what it did — ``"deep"`` or ``"parked"`` — or None.
        """
        if self._saved is None:
            return None
        quiet = now - last_input >= self.quiet_s
        since_deep = now - self.last_deep
        if since_deep >= self.deep_at_most_s or (quiet and since_deep >= self.deep_every_s):
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._trim()
            self.last_deep = self.last_young = now
            self.deep_collections += 1
            return "deep"
        if now - self.last_young >= self.every_s:
            gc.collect(1)
            gc.freeze()
            self._trim()
            self.last_young = now
            self.parked += 1
            return "parked"
        return None

    def _trim(self) -> None:
        if self.trim is not None:
            self.trim()
            self.trims += 1
