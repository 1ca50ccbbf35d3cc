"""A plan's calls on a desk: each leaves once its own intent is in the journal stream.

A hub copies a plan's intents to the desk's journal stream before their calls leave, so a
standby that takes over knows of every call that may have been sent (docs/DESK.md, "The
kill's path"). Waiting for all of them first cost a 600-target kill ~20 ms between confirm
and its first call: 600 rows read back, encoded, published and stored by the server
before any call. Now the rows up to the plan's **first wave** go first, acknowledged —
each venue's first :data:`FIRST_PER_VENUE` intents (the calls that leave at once: the
dispatcher's concurrency per venue; the dispatcher journals a plan's intents in the
order their calls leave, venues side by side) — and the calls begin; the rest follow in
the background (:meth:`StreamGate.store_the_rest`), and each further call waits at the
:class:`StreamGate` until its own intent is stored — usually it already is: the stream
stores rows faster than the venues answer the first wave. (The first 64 intents of the
plan, as it was: one venue's calls; a 600-target kill's other four venues waited at the
gate for the whole rest, 130 calls ~40 ms each, measured.) An intent the stream never
takes (the hub lost its lease, the server refused or did not answer in :data:`STORE_S`)
blocks its call: *failed, not sent*, with the reason; nothing reaches the venue.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING

from console.core.call_gate import CallBlocked
from console.core.journal_rows import Entry, Intent

if TYPE_CHECKING:
    from console.desk.hub import Hub
    from console.desk.hub_streams import JournalMirror

FIRST_PER_VENUE: int | None = None
"""Each venue's intents stored before the plan's first call (None: the dispatcher's
concurrency per venue, its calls that leave at once)."""
STORE_S = 5.0
"""The longest a plan's intents may take to reach the journal stream (else: not sent)."""


class StreamGate:
    """Holds each call of one plan until the stream stores its intent."""

    waits_for = "its intent to be stored in the desk's journal stream"

    def __init__(self, mirror: JournalMirror, seqs: dict[str, int]) -> None:
        self._mirror = mirror
        self._seqs = seqs  # op_id -> the intent's journal seq (the plan's, not yet mirrored)
        self.last = max(seqs.values(), default=0)
        self.blocked: str | None = None
        """Why the calls still waiting will never go (None: they will)."""

    @classmethod
    def of(cls, mirror: JournalMirror, rows: list[Entry], batch_id: str) -> StreamGate:
        """The gate of ``batch_id``'s intents among ``rows`` (those not yet mirrored)."""
        seqs = {e.op_id: e.seq for e in rows if e.kind == "intent" and e.batch_id == batch_id}
        return cls(mirror, seqs)

    @property
    def started(self) -> bool:
        """At least one of the plan's intents is stored (or it had none to store)."""
        return not self._seqs or min(self._seqs.values()) <= self._mirror.mirrored

    @property
    def done(self) -> bool:
        return self.last <= self._mirror.mirrored

    def ready(self, intent: Intent) -> bool:
        # An intent not among the rows that were waiting was in the stream already.
        return self._seqs.get(intent.op_id, 0) <= self._mirror.mirrored

    async def wait(self, intent: Intent) -> None:
        while not self.ready(intent):
            if self.blocked is not None:
                raise CallBlocked(self.blocked)
            await self._mirror.moved()

    def block(self, why: str) -> None:
        """The calls not yet through never go: each ends *failed, not sent*, with ``why``."""
        self.blocked = why
        self._mirror.wake()

    async def store_the_rest(self, hub: Hub) -> None:
        """Mirror on until the plan's last intent is stored, or block the calls left."""
        try:
            async with asyncio.timeout(STORE_S):
                while not self.done:
                    before = self._mirror.mirrored
                    if hub.serving:
                        await hub.mirror_journal()
                    if not hub.serving:
                        self.block(hub.why_not_serving())
                        return
                    if self._mirror.mirrored == before:
                        self.block("the desk's journal stream did not store its intent")
                        return
        except TimeoutError:
            self.block(f"its intent was not stored in the desk's journal stream within "
                       f"{STORE_S:g} s")  # fmt: skip
        except asyncio.CancelledError:  # (the hub closing): no call waits in vain
            self.block("the hub stopped before its intent was stored in the journal stream")
            raise
        except Exception as exc:
            self.block(f"the desk's journal stream did not take its intent "
                       f"({type(exc).__name__}: {exc})")  # fmt: skip


async def gate_calls(hub: Hub, batch_id: str) -> StreamGate:
    """Store the rows up to ``batch_id``'s first wave (:data:`FIRST_PER_VENUE`) in the
    journal stream (acknowledged) and mirror the rest in the background: the gate that
    holds each further call until its intent is stored."""
    per_venue = FIRST_PER_VENUE or hub.session.dispatcher.concurrency_per_venue

    def first(rows: list[Entry]) -> int:
        return first_wave(rows, batch_id, per_venue)

    rows = await hub.mirror_journal(first)
    gate = StreamGate.of(hub.mirror, rows, batch_id)
    if gate.started and not gate.done:
        hub._spawn(gate.store_the_rest(hub), f"hub:intents:{batch_id[:8]}")
    return gate


def first_wave(rows: list[Entry], batch_id: str, per_venue: int) -> int:
    """How many of ``rows`` (by seq) to store for each venue's first ``per_venue``
    intents of ``batch_id`` to be among them (the rows before them too: the stream
    stores in order)."""
    left = Counter(e.venue for e in rows if e.kind == "intent" and e.batch_id == batch_id)
    for venue, n in left.items():
        left[venue] = min(n, per_venue)
    wanted = left.total()
    for at, entry in enumerate(rows):
        if wanted == 0:
            return at
        if entry.kind == "intent" and entry.batch_id == batch_id and left[entry.venue] > 0:
            left[entry.venue] -= 1
            wanted -= 1
    return len(rows)
