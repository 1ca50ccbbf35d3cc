"""The desk's journal as a desk console reads it: the hub's rows, mirrored in memory.

The hub writes the one journal and copies each row, hash included, to the deny-delete
journal stream (``console.desk.protocol``). A console follows that stream into an
in-memory journal of the same schema, so the audit screen, a target's history, the
interrupted calls and ``verify_chain`` read it exactly as they read a local file (the
chain checked is the hub's). Nothing is written here: the console's calls are the
hub's to journal, so a write that reaches this object is a bug, logged and dropped.
"""

from __future__ import annotations

import logging

from console.core import journal_chain as chain
from console.core.journal import Entry, Journal
from console.core.operator import Operator

log = logging.getLogger(__name__)

_COLUMNS = (*chain.FIELDS, "hash")


class MirrorJournal(Journal):
    """An in-memory, read-only copy of the hub's journal, fed row by row in order."""

    def __init__(self, profile: str, operator: Operator | None = None) -> None:
        super().__init__(":memory:", profile=profile, operator=operator, strict=True)
        self.last_seq = 0
        """The last row copied (the stream delivers in order; a repeat is skipped)."""

    def add(self, entry: Entry) -> bool:
        """Copy one of the hub's rows (False: it was here already, or out of order)."""
        if entry.seq <= self.last_seq or self._db is None:
            return False
        self._db.execute(chain.INSERT, tuple(getattr(entry, name) for name in _COLUMNS))
        self.last_seq = entry.seq
        return True

    def _write(self, rows: list[chain.Row]) -> None:
        if rows:
            log.error("a desk console journals nothing itself: %d row(s) dropped", len(rows))
