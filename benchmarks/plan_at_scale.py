"""A large plan from the console: how long the loop is held while its results come in.

``keys_at_scale.py`` times the keys; this runs what a key sets off. At ~12,000 targets
(``--scale 150``) the console (the real ConsoleApp on a real Session, headless at
200×60) stops every running algorithm (~4,000) against the simulator in its own process,
rate limits off, so results come as fast as the venue answers — as at a plan's end, when
its re-reads verify thousands at once. Printed: the plan's time until its last result is
in the outcome log, and the loop's longest callbacks meanwhile (each one a moment no key
is answered). Found with it (session 26): the log wrote every result of a tick at once,
~0.3 ms each, and one callback held the loop 1.0 s.

Line: no callback over 100 ms (issue 13's key → modal line). The feeds are stopped once
every venue has listed, so what is timed is the plan's own work.
Run: .venv/bin/python benchmarks/plan_at_scale.py [--scale 150]
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.events
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import large_desk, machine_speed
from benchmarks.console_load import cache_bytecode, own_state_folder
from console.core.model import Action, ActionKind, State, TargetKind
from console.core.plan import Plan, PlanItem
from console.tui.widgets.outcomes import OutcomesView

LINE_MS = 100.0


class Holds:
    """Every callback the loop runs on this thread while ``on``, timed (milliseconds)."""

    def __init__(self) -> None:
        self.on = False
        self.ms: list[float] = []
        run = asyncio.events.Handle._run
        main = threading.main_thread()

        def timed(handle: asyncio.events.Handle) -> None:
            started = time.perf_counter()
            run(handle)
            if self.on and threading.current_thread() is main:
                self.ms.append((time.perf_counter() - started) * 1000)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]


async def run(scale: int) -> None:
    holds = Holds()
    async with large_desk(scale, "plan_at_scale") as (session, app, pilot):
        running = [t for t in session.store.all_targets()
                   if t.kind is TargetKind.ALGORITHM and t.state is State.RUNNING]  # fmt: skip
        items = tuple(PlanItem.for_target(t, Action(ActionKind.STOP)) for t in running)
        plan = Plan(items, f"Stop {len(items)} algorithms", scope="selection")
        log = app.main.query_one(OutcomesView)
        holds.on = True
        started = time.perf_counter()
        await app.controls.dispatch(plan).wait()
        while log.waiting:  # a chunk of the log after each refresh
            await pilot.pause(0.05)
        took = time.perf_counter() - started
        await pilot.pause(0.6)  # the last tick's writes and paint
        holds.on = False
    ms = sorted(holds.ms, reverse=True)
    over = sum(1 for m in ms if m > LINE_MS)
    print(f"{len(items):,} algorithms stopped, every result in the log after {took:.1f} s")
    print(f"  the loop's longest callbacks: {ms[0]:.0f}, {ms[1]:.0f}, {ms[2]:.0f} ms; "
          f"over {LINE_MS:.0f} ms: {over} ({'MET' if not over else 'NOT MET'})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=150,
                        help="x3algo/PipAI/FinRadar scale: 150 ≈ 12,000 targets")  # fmt: skip
    args = parser.parse_args()
    own_state_folder()
    cache_bytecode()
    print(f"machine before: {machine_speed()}")
    asyncio.run(run(args.scale))
    print(f"machine after: {machine_speed()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
