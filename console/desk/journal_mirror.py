"""The desk's journal as a desk console reads it: the hub's rows, mirrored in memory.

The hub writes the one journal and copies each row, hash included, to the deny-delete
journal stream (``console.desk.subjects``). A console follows that stream into an
in-memory journal of the same schema, so the audit screen, a target's history, the
interrupted calls and ``verify_chain`` read it exactly as they read a local file (the
chain checked is the hub's). Nothing is written here: the console's calls are the
hub's to journal, so a write that reaches this object is a bug, logged and dropped.
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
        if entry.seq <= self.last_seq or self._db is None:
            return False
        self._db.execute(chain.INSERT, tuple(getattr(entry, name) for name in _COLUMNS))
        self.last_seq = entry.seq
        return True

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

        async def copy(msg: Any) -> None:
            try:
                row: messages.JournalRowMsg = messages.JournalRowMsg.decode(msg.data)
            except subjects.ProtocolError as exc:
                log.warning("journal stream: %s", exc)
            else:
                entry = row.entry()
                if self.add(entry) and on_row is not None:
                    on_row(entry)
            with contextlib.suppress(Exception):  # (a bad last row still ends the catch-up)
                if msg.metadata.num_pending == 0:
                    current.set()

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
