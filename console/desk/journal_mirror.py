"""The desk's journal as a desk console reads it: the hub's rows, mirrored in memory.

The hub writes the one journal and copies each row, hash included, to the deny-delete
journal stream (``console.desk.subjects``). A console follows that stream into an
in-memory journal of the same schema, so the audit screen, a target's history, the
interrupted calls and ``verify_chain`` read it exactly as they read a local file (the
chain checked is the hub's). Nothing is written here: the console's calls are the
hub's to journal, so a write that reaches this object is a bug, logged and dropped.

The stream delivers one message per row, in bursts (a 600-target kill's 600 intents at
once, then its outcomes and verifications): the rows delivered in one loop turn are
copied together, in chunks of :data:`CHUNK` rows a transaction, the loop free between two
chunks. One SQLite insert per row in autocommit, each row decoded as it came, held the
console's loop ~60 ms per 600 rows in the middle of a kill: its results and report
waited behind the journal (docs/DESK.md, "The kill's path").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from console.core import journal_chain as chain
from console.core.journal import Journal
from console.core.journal_rows import Entry, iso_ms
from console.core.model import ActionKind, State
from console.core.operator import Operator
from console.core.store import KnownState, Store
from console.desk import messages, subjects

log = logging.getLogger(__name__)

_COLUMNS = (*chain.FIELDS, "hash")
CATCH_UP_S = 30.0
"""The longest :meth:`MirrorJournal.follow` waits for the rows already in the stream."""
CHUNK = 256
"""Rows copied in one transaction before the loop runs anything else."""


class MirrorJournal(Journal):
    """An in-memory, read-only copy of the hub's journal, fed row by row in order."""

    def __init__(self, profile: str, operator: Operator | None = None) -> None:
        super().__init__(":memory:", profile=profile, operator=operator, strict=True)
        self.last_seq = 0
        """The last row copied (the stream delivers in order; a repeat is skipped)."""
        self.caught_up = False
        """:meth:`follow` saw every row the stream held when it began (else a reader must
        not present what it has as the whole journal)."""

    def add(self, entry: Entry) -> bool:
        """Copy one of the hub's rows (False: it was here already, or out of order)."""
        return bool(self.add_many([entry]))

    def add_many(self, entries: list[Entry]) -> list[Entry]:
        """Copy the hub's rows in one transaction; the ones copied (a row here already,
        or out of order, is skipped)."""
        if self._db is None:
            return []
        new: list[Entry] = []
        last = self.last_seq
        for entry in entries:
            if entry.seq > last:
                new.append(entry)
                last = entry.seq
        if not new:
            return new
        with self._db:  # one transaction (the connection is in autocommit otherwise)
            self._db.execute("BEGIN")
            self._db.executemany(
                chain.INSERT, [tuple(getattr(e, name) for name in _COLUMNS) for e in new]
            )
        self.last_seq = last
        return new

    async def follow(
        self, js: JetStreamContext, *, on_row: Callable[[Entry], None] | None = None
    ) -> Any:
        """Copy the journal stream from its start (and on), waiting (bounded) until the
        rows already there are in, so the interrupted calls offered at start are the
        hub's as they stand; ``on_row`` hears each new row. Returns the subscription, or
        None when there is no journal stream yet (no hub ever served the profile here:
        follow again once one does)."""
        current = asyncio.Event()
        try:
            info = await js.stream_info(subjects.journal_stream(self.profile))
            if info.state.messages == 0:
                current.set()
        except NotFoundError:
            return None

        pending: list[tuple[bytes, bool]] = []  # (row, the stream's last when delivered)
        loop = asyncio.get_running_loop()

        def drain() -> None:
            chunk, rest = pending[:CHUNK], pending[CHUNK:]
            pending[:] = rest
            if rest:
                loop.call_soon(drain)  # the next chunk after whatever else is ready
            entries: list[Entry] = []
            for data, _ in chunk:
                try:
                    row: messages.JournalRowMsg = messages.JournalRowMsg.decode(data)
                except subjects.ProtocolError as exc:
                    log.warning("journal stream: %s", exc)
                else:
                    entries.append(row.entry())
            for entry in self.add_many(entries):
                if on_row is not None:
                    on_row(entry)
            if any(last for _, last in chunk):  # (a bad last row still ends the catch-up)
                current.set()

        async def copy(msg: Any) -> None:
            last = False
            if not current.is_set():  # (its metadata is read only until caught up)
                with contextlib.suppress(Exception):
                    last = msg.metadata.num_pending == 0
            if not pending:
                loop.call_soon(drain)
            pending.append((msg.data, last))

        sub = await js.subscribe(
            subjects.journal_subject(self.profile), cb=copy, ordered_consumer=True
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CATCH_UP_S):
                await current.wait()
        self.caught_up = current.is_set()
        return sub

    def _write(self, rows: list[chain.Row]) -> None:
        if rows:
            log.error("a desk console journals nothing itself: %d row(s) dropped", len(rows))


def remember_known(store: Store, entry: Entry) -> None:
    """What a journal row says of a target its venue cannot report (Joyride's pause),
    as a local session seeds its store (``Session.load_known_states``)."""
    blind = store.blind_venues
    if blind is None or entry.venue not in blind:
        return
    if entry.kind == "outcome" and entry.outcome in ("applied", "already"):
        if entry.action not in (ActionKind.PAUSE, ActionKind.RESUME):
            return
        state = State.PAUSED if entry.action == ActionKind.PAUSE else State.RUNNING
    elif entry.kind == "verify" and entry.state in ("paused", "running"):
        state = State(entry.state)
    else:
        return
    store.remember(entry.venue, entry.target_id, KnownState(state, iso_ms(entry.ts_ms),
                                                            entry.operator))  # fmt: skip
