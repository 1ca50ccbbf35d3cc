"""Calls cut short: intents the journal holds without an outcome.

When the console is killed mid-way through a plan, some calls were journaled as intents
but never answered (or never sent). On the next start they are shown as *interrupted —
needs verification*; verifying re-reads each target and journals what it found, which
closes the intent. A venue that cannot be read (or whose list stopped short before the
target) leaves its intents open, to verify later: nothing is journaled for them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.core.model import ActionKind, State, Target
from console.core.plan import desired
from console.core.ports import Incomplete, VenueClient


@dataclass(frozen=True, slots=True)
class Verified:
    entry: Entry
    state: State
    as_asked: bool
    note: str
    journaled: bool = True
    """False when the target could not be re-read: the intent stays open."""


async def verify_interrupted(
    journal: Journal,
    clients: dict[str, VenueClient],
    entries: list[Entry] | None = None,
    *,
    timeout_s: float | None = None,
) -> list[Verified]:
    """Re-read the target of every interrupted intent and journal what it is now.

    ``timeout_s`` bounds each venue's re-read (a venue that does not answer in time
    leaves its intents open).
    """
    entries = journal.interrupted() if entries is None else entries
    by_venue: dict[str, list[Entry]] = {}
    for entry in entries:
        by_venue.setdefault(entry.venue, []).append(entry)
    results: list[Verified] = []

    async def venue(name: str, pending: list[Entry]) -> None:
        client = clients.get(name)
        found: dict[str, Target] = {}
        problem = f"venue {name!r} is not in this profile"
        complete = False
        if client is not None:
            try:
                async with asyncio.timeout(timeout_s):  # (wait_for can lose a cancel on 3.11)
                    targets = await client.list_targets()
                found, problem, complete = {t.id: t for t in targets}, "", True
            except asyncio.CancelledError:
                raise
            except Incomplete as exc:  # what was read is read; the rest stays open
                found = {t.id: t for t in exc.partial}
                problem = f"re-read stopped short: {exc}"
            except TimeoutError:
                problem = f"re-read failed: no answer within {timeout_s:g} s"
            except Exception as exc:
                problem = f"re-read failed: {exc}"
        for entry in pending:
            target = found.get(entry.target_id)
            if target is not None and client is not None:
                state = client.control_state(target)  # what the call set, not a block
                note = f"interrupted call verified on restart: {target.raw_status}"
                journaled = True
            elif complete:
                state, note, journaled = State.UNKNOWN, "target not found on re-read", True
            else:
                state, note, journaled = State.UNKNOWN, problem, False
            ok = desired(ActionKind(entry.action), state)
            if journaled:
                journal.record_verification(journal.intent_of(entry), state, note)
            results.append(Verified(entry, state, ok, note, journaled))

    await asyncio.gather(*(venue(n, p) for n, p in by_venue.items()))
    return results
