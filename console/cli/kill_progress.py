"""A kill's progress on the command line: a line per verified target, and, when nothing
has come for a while, a line saying what is still awaited.

Why the second: a kill of 147 algorithms paced under x3algo's 100 calls a minute sat
silent for about a minute between its 100th and 101st line (an independent x3algo,
session 18); a venue that answers slowly does the same. Every long operation says it is
still going, and for what.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping

from console.core.kill import KillPlan
from console.core.plan import ItemResult
from console.core.scrub import printable

STILL_RUNNING_S = 5.0
"""Quiet this long (no outcome, no verification), the kill says what it still awaits."""


class KillProgress:
    """The ``on_result`` of a CLI kill (:meth:`__call__`) and its quiet-time line
    (:meth:`watch`, a task beside the dispatch)."""

    def __init__(
        self,
        label: str,
        plan: Callable[[], KillPlan],
        *,
        quiet: bool,
        listing: Callable[[], tuple[str, ...]] = tuple,
        refused: Callable[[], Mapping[str, int]] = dict,
    ) -> None:
        self.label = label
        self._plan = plan  # the kill's plan now (late venues join it)
        self._listing = listing  # venues whose list is still on its way
        self._refused = refused  # per venue, calls refused (429) waiting to go again
        self._quiet = quiet  # --json: no per-target lines (stdout is the JSON)
        self.answered: set[tuple[str, str]] = set()
        self.results: dict[tuple[str, str], ItemResult] = {}  # each target's latest word
        self.verified = 0
        self._started = self._last = time.monotonic()

    def __call__(self, result: ItemResult) -> None:
        self._last = time.monotonic()
        key = (result.item.venue, result.item.target_id)
        self.answered.add(key)
        self.results[key] = result
        if result.verified is None:
            return  # the outcome; its verification follows
        self.verified += 1
        if self._quiet:
            return
        o = result.outcome
        state = result.verified_state.value if result.verified_state else "?"
        how = ("" if result.verified else " (by the venue's answer only: cannot be re-read)"
               if result.by_answer else " (NOT verified)")  # fmt: skip
        line = (f"[{self.verified}/{len(self._plan().plan)}] {result.item.venue} "
                f"{result.item.target_name}: {o.kind.value} → {state}{how} — {o.message}")  # fmt: skip
        print(printable(line), file=sys.stderr)
        if o.warning:  # drift, a leftover pause: as the single commands print it
            print(f"    warning: {printable(o.warning)}", file=sys.stderr)

    async def watch(self) -> None:
        """Until cancelled: after each quiet spell, one line of what is still awaited."""
        while True:
            await asyncio.sleep(max(0.0, self._last + STILL_RUNNING_S - time.monotonic()))
            if time.monotonic() - self._last >= STILL_RUNNING_S:
                print(self.still_running(), file=sys.stderr, flush=True)
                self._last = time.monotonic()

    def still_running(self) -> str:
        """``[PROD] still running (12 s): 100 of 147 answered, 98 verified; awaiting
        x3algo 47 — …``."""
        items = self._plan().plan.items
        awaiting = Counter(i.venue for i in items if (i.venue, i.target_id) not in self.answered)
        refused = self._refused()
        names = ", ".join(
            f"{venue} {n}"
            + (f" ({refused[venue]} refused with 429, going again)" if refused.get(venue) else "")
            for venue, n in sorted(awaiting.items())
        )
        lists = ", ".join(self._listing())
        took = time.monotonic() - self._started
        doing = f"; awaiting {names}" if names else "" if lists else "; re-reading to verify"
        return printable(
            f"[{self.label}] still running ({took:.0f} s): {len(self.answered)} of "
            f"{len(items)} answered, {self.verified} verified{doing}"
            + (f"; still listing {lists}" if lists else "")
            + " — calls go at each venue's documented pace and wait for slow answers"
        )
