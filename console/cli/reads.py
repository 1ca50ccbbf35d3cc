"""Every venue read at once for a command, saying which lists it still waits for.

``status`` and ``kill`` read every venue before they can say anything; a venue that
hangs kept them silent for its whole read (5 s at the defaults, up to the planning
deadline with retries), with nothing on screen to tell a slow venue from a stuck
command. Past :data:`SAY_AFTER_S` the command names the venues it still waits for.
"""

from __future__ import annotations

import asyncio
import sys

from console.core.scrub import printable
from console.core.session import Reads, Session, failed_reads

SAY_AFTER_S = 1.0
"""How long the reads go on before the command says which it still waits for."""
SAY_AGAIN_S = 5.0
"""Then how often it says it again (a venue trying again after failures says why)."""


async def finish_reads(session: Session, reads: Reads, why: str) -> dict[str, str]:
    """Wait for every read, past :data:`SAY_AFTER_S` naming those still going on (with
    ``why`` the command waits), again every :data:`SAY_AGAIN_S`; the venues that could
    not be read, with why."""
    if not reads:  # (asyncio.wait refuses an empty set)
        return {}
    _, pending = await asyncio.wait(reads.values(), timeout=SAY_AFTER_S)
    while pending:
        slow = ", ".join(session.listing_words(n) for n, t in reads.items() if t in pending)
        deadline = session.options.planning_deadline_s
        print(printable(f"[{session.options.label}] still reading {slow} — {why} "
                        f"(at most {deadline:g} s)"), file=sys.stderr, flush=True)  # fmt: skip
        _, pending = await asyncio.wait(pending, timeout=SAY_AGAIN_S)
    return failed_reads(reads)


def cancel_reads(reads: Reads) -> None:
    for task in reads.values():
        task.cancel()
