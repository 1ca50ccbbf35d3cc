"""What the journal gives back: its rows, filtered; the intents a run cut short; each
target's last settled state; the chain's head and its check.

The reading half of :class:`console.core.journal.Journal`, which inherits it: kept apart
so the write path (intents committed before a request leaves, outcomes per loop turn, the
fallback) reads on its own. Every read flushes the rows still waiting first, and a file
that cannot be read gives nothing (and a warning logged) rather than an exception.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from console.core import journal_chain as chain
from console.core.journal_chain import ChainCheck
from console.core.journal_fallback import Fallback, describe
from console.core.journal_rows import Entry, Intent
from console.core.model import Action, ActionKind

log = logging.getLogger(__name__)

_COLUMNS = ", ".join((*chain.FIELDS, "hash"))


class JournalReads:
    """The journal's queries (a base of :class:`~console.core.journal.Journal`, which
    holds the connection and writes)."""

    path: Path
    profile: str
    failed: str | None
    _db: sqlite3.Connection | None
    _fallback: Fallback | None
    _head: str

    def flush(self) -> None:
        """Commit the rows still waiting (the journal's write side)."""
        raise NotImplementedError

    # ----- the chain --------------------------------------------------------------
    def chain_head(self) -> str:
        """The last row's hash: a receipt an auditor compares with ``audit --verify``.
        After a failure, the fallback's last line's hash (the chain continues there)."""
        self.flush()
        if self._fallback is not None and self._fallback.count:
            return self._fallback.head
        if self._db is None:
            return self._head
        try:
            return chain.head(self._db)
        except Exception:
            return self._head

    def verify_chain(self, progress: chain.Progress | None = None) -> ChainCheck:
        """Recompute every row's hash; the first break found, with why (``progress``:
        :func:`console.core.journal_chain.verify`)."""
        self.flush()
        if self._db is None:
            return ChainCheck(False, 0, "", why=f"the journal cannot be read: {self.failed}")
        try:
            return chain.verify(self._db, progress)
        except Exception as exc:
            return ChainCheck(False, 0, "", why=f"the journal cannot be read: {describe(exc)}")

    # ----- reading ----------------------------------------------------------------
    def _select(self, sql: str, args: Iterable[Any] = ()) -> list[Entry]:
        """Rows for ``sql``; nothing (and a warning logged) when the file cannot be read."""
        if self._db is None:
            return []
        try:
            return [Entry(*row) for row in self._db.execute(sql, tuple(args))]
        except Exception as exc:
            log.warning("journal %s cannot be read: %s", self.path, describe(exc))
            return []

    def entries(
        self,
        *,
        since_ms: int | None = None,
        after_seq: int | None = None,
        venue: str | None = None,
        operator: str | None = None,
        outcome: str | None = None,
        kind: str | None = None,
        batch_id: str | None = None,
        target_id: str | None = None,
        all_profiles: bool = False,
        limit: int | None = None,
    ) -> list[Entry]:
        """Rows oldest first, filtered; ``outcome`` also matches the intents it closed."""
        self.flush()
        where: list[str] = []
        args: list[Any] = []
        if not all_profiles:
            where.append("profile = ?")
            args.append(self.profile)
        for column, value in (("venue", venue), ("operator", operator), ("kind", kind),
                              ("batch_id", batch_id), ("target_id", target_id)):  # fmt: skip
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since_ms is not None:
            where.append("ts_ms >= ?")
            args.append(since_ms)
        if after_seq is not None:  # (by position in the chain: a wall clock may step back)
            where.append("seq > ?")
            args.append(after_seq)
        if outcome is not None:
            where.append("op_id IN (SELECT op_id FROM entries WHERE outcome = ?)")
            args.append(outcome)
        sql = f"SELECT {_COLUMNS} FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit is not None:
            sql = f"SELECT * FROM ({sql.replace(' ORDER BY seq', ' ORDER BY seq DESC')} LIMIT {int(limit)}) ORDER BY seq"
        return self._select(sql, args)

    def interrupted(self) -> list[Entry]:
        """Intents of this profile that never got an outcome (a run cut short)."""
        self.flush()
        sql = (
            f"SELECT {_COLUMNS} FROM entries i WHERE i.kind = 'intent' AND i.profile = ?"
            " AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.op_id = i.op_id"
            " AND o.kind IN ('outcome', 'verify'))"
            " ORDER BY seq"
        )
        return self._select(sql, (self.profile,))

    def last_settled(self, venue: str) -> Mapping[str, Entry]:
        """Per target of ``venue``, the latest outcome that left it in a known state.

        Used for venues that cannot report a state (Joyride): applied/already pause or
        resume outcomes, and verifications of interrupted intents.
        """
        self.flush()
        sql = (
            f"SELECT {_COLUMNS} FROM entries WHERE venue = ? AND profile = ?"
            " AND ((kind = 'outcome' AND outcome IN ('applied', 'already')) OR kind = 'verify')"
            " ORDER BY seq"
        )
        latest: dict[str, Entry] = {}
        for entry in self._select(sql, (venue, self.profile)):
            latest[entry.target_id] = entry
        return latest

    def export_jsonl(self, out: IO[str], entries: Iterable[Entry] | None = None) -> int:
        self.flush()
        count = 0
        for entry in entries if entries is not None else self.entries(all_profiles=True):
            out.write(json.dumps(entry.as_json(), sort_keys=True) + "\n")
            count += 1
        return count

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def intent_of(self, entry: Entry) -> Intent:
        """Rebuild the intent an entry belongs to (to verify an interrupted call)."""
        options = json.loads(entry.options or "{}")
        action = Action(ActionKind(entry.action), options, entry.reason)
        return Intent(entry.op_id, entry.batch_id, entry.venue, entry.target_id,
                      entry.target_name, action)  # fmt: skip
