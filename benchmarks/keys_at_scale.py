"""Every key an operator presses, at a large desk: the loop's own work from key to paint.

``console_load.py`` measures one key (X on one row, key → modal) while the feeds pour in.
This script measures the others, at ~50,000 targets (``--scale 630``; 150 is ~12,000):
switching panels, sorting, filtering, selecting every shown row and acting on it, the
emergency stop's modal, the audit, help, the palette. Found with it (issue 13's
follow-up, session 25): ``v`` repainted the table once a row (343 ms), the confirmation
listed a large plan a refresh a line (86–136 ms), K's plan copied every target (~650 ms
for the plan alone).

The simulator runs in its own process; the console (the real ConsoleApp on a real
Session, headless at 200×60) in this one. Once every venue's first list is in, the
feeds are stopped: what each key then costs is its own work, never a 25,000-target poll
that landed in its window (with feeds on, the same K measured 0.4–1.8 s). Each key is
posted as the terminal driver posts it; the figure is the loop thread's CPU
(``time.thread_time``) from the key until its answer is painted, and the wall time
beside it; the answer counts as painted once a redraw tick has run after the key (a
filter, a cleared selection is drawn by the tick). The sequence runs --rounds times (the first switch to a panel builds its
rows: it is printed apart); the median per key is printed.

No goal of its own: issue 13 sets key → modal ≤ 100 ms for a single stop; a key over
that line is marked. Run: .venv/bin/python benchmarks/keys_at_scale.py [--scale 630]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual import events
from textual.pilot import Pilot

from benchmarks._harness import large_desk, machine_speed
from benchmarks.console_load import cache_bytecode, own_state_folder
from console.tui.app import ConsoleApp
from console.tui.controllers.redraw import RedrawController

LINE_MS = 100.0
"""Issue 13's key → modal line for a single stop; keys above it are marked."""

FIRST = [("2", "panel 2 (algorithms), first shown"), ("3", "panel 3 (strategies), first shown")]
ROUND = [
    ("2", "panel 2 (algorithms)"),
    ("s", "sort on the next column"),
    ("o", "reverse the order"),
    ("v", "select every shown row"),
    ("X", "X on the selection → modal"),
    ("escape", "cancel the modal"),
    ("escape", "clear the selection"),
    ("j", "cursor down"),
    ("X", "X on one row → modal"),
    ("escape", "cancel the modal"),
    ("enter", "row details"),
    ("escape", "close the details"),
    ("slash", "open the filter"),
    ("a", "filter: a"),
    ("enter", "apply the filter"),
    ("escape", "clear the filter"),
    ("K", "K → the emergency stop's modal"),
    ("escape", "cancel the emergency stop"),
    ("u", "the audit (journal)"),
    ("escape", "close the audit"),
    ("question_mark", "help"),
    ("escape", "close help"),
    ("colon", "command palette"),
    ("escape", "close the palette"),
    ("3", "panel 3 (strategies)"),
    ("0", "overview"),
    ("1", "panel 1 (clients)"),
]


class Ticks:
    """Counts the screen's redraw ticks that ran: a filter typed, a selection cleared is
    drawn by the next tick, not by the key's handler, so a key's answer is painted only
    after a tick has run since it."""

    def __init__(self) -> None:
        self.ran = asyncio.Event()
        """Set by every tick that ran; cleared by whoever waits for the next."""
        run = RedrawController._tick

        def counted(controller: RedrawController) -> None:
            run(controller)
            self.ran.set()

        RedrawController._tick = counted  # type: ignore[method-assign,assignment]


async def press(app: ConsoleApp, pilot: Pilot[None], ticks: Ticks, key: str) -> tuple[float, float]:
    """Loop CPU and wall (seconds) from ``key`` posted to its answer painted (the wall
    includes the wait for the next tick, up to the tick's 250 ms: as the operator sees)."""
    await pilot.pause()
    painted = asyncio.Event()
    wall, cpu = time.perf_counter(), time.thread_time()
    app.post_message(events.Key(key, key if len(key) == 1 else None))
    await pilot.pause()
    ticks.ran.clear()
    await asyncio.wait_for(ticks.ran.wait(), 60)
    app.screen.call_after_refresh(painted.set)
    await asyncio.wait_for(painted.wait(), 60)
    return time.thread_time() - cpu, time.perf_counter() - wall


async def run(scale: int, rounds: int) -> None:
    ticks = Ticks()
    async with large_desk(scale, "keys_at_scale") as (session, app, pilot):
        targets = len(session.store.all_targets())
        print(f"{targets:,} targets; feeds stopped after every venue's first list; "
              f"loop CPU from key to paint, median of {rounds} rounds (wall beside it)")  # fmt: skip
        for key, label in FIRST:
            cpu, wall = await press(app, pilot, ticks, key)
            report(label, [cpu], [wall])
            await press(app, pilot, ticks, "1")
        cpus: list[list[float]] = [[] for _ in ROUND]
        walls: list[list[float]] = [[] for _ in ROUND]
        for _ in range(rounds):
            for n, (key, _label) in enumerate(ROUND):
                cpu, wall = await press(app, pilot, ticks, key)
                cpus[n].append(cpu)
                walls[n].append(wall)
        for n, (_key, label) in enumerate(ROUND):
            report(label, cpus[n], walls[n])
        over = [label for n, (_k, label) in enumerate(ROUND)
                if statistics.median(cpus[n]) * 1000 > LINE_MS]  # fmt: skip
        print(f"over the {LINE_MS:.0f} ms line: {len(over)} of {len(ROUND)} keys"
              + (f" ({'; '.join(over)})" if over else ""))  # fmt: skip


def report(label: str, cpus: list[float], walls: list[float]) -> None:
    cpu, wall = statistics.median(cpus) * 1000, statistics.median(walls) * 1000
    mark = "  over the line" if cpu > LINE_MS else ""
    print(f"  {label:<36} {cpu:7.1f} ms  (wall {wall:7.1f} ms){mark}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=630,
                        help="x3algo/PipAI/FinRadar scale: 150 ≈ 12,000 targets, 630 ≈ 50,000")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    own_state_folder()
    cache_bytecode()
    print(f"machine before: {machine_speed()}")
    asyncio.run(run(args.scale, args.rounds))
    print(f"machine after: {machine_speed()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
