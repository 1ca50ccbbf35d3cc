"""Calls cut short: intents the journal holds without an outcome.

When the console is killed mid-way through a plan, some calls were journaled as intents
but never answered (or never sent). On the next start they are shown as *interrupted —
needs verification*; verifying re-reads each target and journals what it found, which
closes the intent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from console.core.dispatcher import desired
from console.core.journal import Entry, Journal
from console.core.model import ActionKind, State, Target
from console.venues.base import VenueClient


@dataclass(frozen=True, slots=True)
class Verified:
    entry: Entry
    state: State
    as_asked: bool
    note: str


async def verify_interrupted(
    journal: Journal, clients: dict[str, VenueClient], entries: list[Entry] | None = None
) -> list[Verified]:
    """Re-read the target of every interrupted intent and journal what it is now."""
    entries = journal.interrupted() if entries is None else entries
    by_venue: dict[str, list[Entry]] = {}
    for entry in entries:
        by_venue.setdefault(entry.venue, []).append(entry)
    results: list[Verified] = []

    async def venue(name: str, pending: list[Entry]) -> None:
        client = clients.get(name)
        found: dict[str, Target] = {}
        problem = f"venue {name!r} is not in this profile"
        if client is not None:
            try:
                found = {t.id: t for t in await client.list_targets()}
                problem = ""
            except Exception as exc:
                problem = f"re-read failed: {exc}"
        for entry in pending:
            target = found.get(entry.target_id)
            if target is None:
                state, note = State.UNKNOWN, problem or "target not found on re-read"
            else:
                state, note = (
                    target.state,
                    f"interrupted call verified on restart: {target.raw_status}",
                )
            ok = desired(ActionKind(entry.action), state)
            if not problem:  # a failed re-read leaves the intent open, to verify later
                journal.record_verification(journal.intent_of(entry), state, note)
            results.append(Verified(entry, state, ok, note))

    await asyncio.gather(*(venue(n, p) for n, p in by_venue.items()))
    return results
