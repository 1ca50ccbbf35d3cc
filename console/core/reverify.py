"""Re-verifying a kill's doubtful targets once their venue answers again: a read, never a send.

A kill whose venue was down when it was re-read leaves targets *uncertain* or *not
verified*. When that venue's feed comes back, the console reads the venue once more,
the same way the dispatcher's own re-read does, and journals what it found against the
very calls it verifies (a ``verify`` row per call, linked by ``op_id`` to the kill's
intent). Nothing is sent to the venue: a call that did not land stays not verified, and
``r`` in the report is still what re-sends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.journal_rows import Intent
from console.core.model import State
from console.core.plan import ItemResult, desired


@dataclass(frozen=True, slots=True)
class Recheck:
    """What one automatic re-verification of a venue found."""

    venue: str
    at: float
    results: tuple[ItemResult, ...]
    problem: str = ""
    """Why the venue could not be read again (nothing journaled then), else empty."""

    @property
    def verified(self) -> int:
        return sum(1 for r in self.results if r.verified)


def latest_intents(journal: Journal, batch_ids: Iterable[str], venue: str) -> dict[str, Intent]:
    """Per target of ``venue``, the intent of its latest call among ``batch_ids``."""
    latest: dict[str, tuple[int, Intent]] = {}
    for batch in batch_ids:
        for entry in journal.entries(batch_id=batch, venue=venue, kind="intent"):
            known = latest.get(entry.target_id)
            if known is None or entry.seq > known[0]:
                latest[entry.target_id] = (entry.seq, journal.intent_of(entry))
    return {tid: intent for tid, (_, intent) in latest.items()}


async def reverify(
    dispatcher: Dispatcher,
    venue: str,
    doubtful: Sequence[ItemResult],
    intents: dict[str, Intent],
    *,
    at: float,
) -> Recheck:
    """Re-read ``venue`` for ``doubtful`` results and journal a verification per call.

    Reads as the dispatcher's verification does (its deadline, one read per target for
    up to three, else the venue's list; what an incomplete list did read counts).
    A target whose call cannot be found in the journal is re-read but not journaled.
    """
    client = dispatcher.clients.get(venue)
    if client is None:
        return Recheck(venue, at, (), f"venue {venue!r} is not in this profile")
    ids = [r.item.target_id for r in doubtful]
    fresh, problem = await dispatcher.verifier.reread(client, ids)
    if fresh is None:
        return Recheck(venue, at, (), problem)
    if dispatcher.store is not None:
        dispatcher.store.upsert(t for t in fresh.values() if t is not None)
    journal = dispatcher.journal
    results: list[ItemResult] = []
    for previous in doubtful:
        item = previous.item
        target = fresh.get(item.target_id)
        if target is None:
            state, ok = State.UNKNOWN, False
            note = f"not found on re-read after {venue} came back" + (
                f" ({problem})" if problem else ""
            )
        else:
            state = dispatcher.verifier.verified_state(target, previous.outcome)
            ok = desired(item.action.kind, state)
            note = f"re-read after {venue} came back: {target.raw_status}" + (
                "" if ok else " (not as asked)"
            )
        intent = intents.get(item.target_id)
        if intent is not None:
            journal.record_verification(intent, state, note)
        results.append(ItemResult(item, previous.outcome, state, ok))
    journal.flush()
    return Recheck(venue, at, tuple(results), problem)
