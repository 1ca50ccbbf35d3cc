"""The journal's own CPU for one kill: 2,000 intents, then their 2,000 outcomes.

Why it exists: in ``kill_fanout.py`` the journal is one of the console's costs the floor
leaves out, and on this 2-core machine the fan-out is bound by the client's CPU, so each
millisecond here shows in "console / floor". That benchmark's wall figures are noisy on a
shared machine; this one measures only the journal, in CPU seconds
(``time.process_time``), the way a kill writes it: every intent in one transaction
(:meth:`Journal.intend_many`), then the outcomes committed a loop turn at a time
(``--batch`` rows per commit; a measured 2,000-call kill on loopback commits its
outcomes ~40 times, 10–90 rows each).

Each round uses a fresh file (``--history`` rows written first, untimed: a journal with a
past), prints the median of ``--repeat`` rounds, and, with ``--profile``, the top of a
cProfile of one more round. Run: ``.venv/bin/python benchmarks/journal_writes.py``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.core.journal import Journal
from console.core.journal_rows import Intent, new_op_id
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

VENUES = ("55tech", "x3algo", "pipai", "joyride", "finradar")
OPERATOR = Operator(user="bench", host="bench-host")


def intents(n: int, batch_id: str) -> list[Intent]:
    action = Action(ActionKind.PAUSE, {}, "kill: market halt")
    return [
        Intent(new_op_id(), batch_id, VENUES[i % 5], f"target-{i:05d}", f"Algo {i}", action)
        for i in range(n)
    ]


MESSAGES = (  # the shapes of the five simulated venues' answers: each one different
    "Engine 'engine-{i}' stopped (55-tech: stop_applied); status now MANUAL STOPPED.",
    "x3algo: 'Algorithm stopped successfully' — algorithm 'Algo {i} — Maruti'"
    " (69ef30925f8bd58df{i:07d}) is now stopped.",
    "Paused Conservative AVAX/DOGE DCA {i} (strat_5e1{i:05d}); 4 open position(s) stay open.",
    "joyride: bot {i} paused",
    "stopped AMZN sniper tgt_62dR4sg{i:05d} (manual_stop at 2026-11-21T12:00:00Z); its plan"
    " slot is free; 4 of 5 slots used",
)


def outcome(i: int) -> Outcome:
    message = MESSAGES[i % 5].format(i=i)
    return Outcome(OutcomeKind.APPLIED, message, 200, 12.5 + i / 7, State.PAUSED)


def one_round(folder: Path, n: int, batch: int, history: int) -> tuple[float, float]:
    """CPU seconds for ``n`` intents, then for their outcomes, on a fresh journal."""
    journal = Journal(folder / f"j-{time.monotonic_ns()}.sqlite3", profile="bench",
                      operator=OPERATOR)  # fmt: skip
    try:
        for start in range(0, history, 2000):  # a past, untimed
            past = intents(min(2000, history - start), new_op_id())
            journal.intend_many(past)
            for i, intent in enumerate(past):
                journal.record_outcome(intent, outcome(i))
            journal.checkpoint()
        if history:  # reopened, as a CLI kill opens it: nothing of it in SQLite's cache
            journal.close()
            journal = Journal(journal.path, profile="bench", operator=OPERATOR)
        started = time.process_time()
        planned = intents(n, new_op_id())  # built as the dispatcher builds them: timed
        journal.intend_many(planned)
        wrote_intents = time.process_time() - started
        wrote_outcomes = asyncio.run(_outcomes(journal, planned, batch))
        assert journal.failed is None, journal.failed
        assert journal.verify_chain().ok
        return wrote_intents, wrote_outcomes
    finally:
        journal.close()


async def _outcomes(journal: Journal, planned: list[Intent], batch: int) -> float:
    """CPU seconds to record every outcome, ``batch`` of them a loop turn (inside a
    running loop, as the dispatcher records them: each turn's rows in one commit)."""
    results = [outcome(i) for i in range(len(planned))]
    started = time.process_time()
    for first in range(0, len(planned), batch):
        for i in range(first, min(len(planned), first + batch)):
            journal.record_outcome(planned[i], results[i])
        await asyncio.sleep(0)  # the turn ends: its rows are committed
    journal.flush()
    return time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50, help="outcomes per commit")
    parser.add_argument("--history", type=int, default=0, help="rows written before, untimed")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        folder = Path(tmpdir)
        rounds = [one_round(folder, args.targets, args.batch, args.history)
                  for _ in range(args.repeat)]  # fmt: skip
        first = statistics.median(r[0] for r in rounds) * 1000
        then = statistics.median(r[1] for r in rounds) * 1000
        print(f"{args.targets} intents: {first:.1f} ms CPU; their outcomes, {args.batch} a"
              f" commit: {then:.1f} ms CPU (median of {args.repeat}, history {args.history})")  # fmt: skip
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            one_round(folder, args.targets, args.batch, 0)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
