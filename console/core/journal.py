"""The journal: an append-only SQLite record of every control call.

Each call writes its *intent* before the request leaves and its *outcome* after,
linked by ``op_id``; a verification row follows when the target is re-read. An intent
without an outcome is a call cut short (the console was killed mid-way): the next start
reports it as *interrupted — needs verification*.

WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed (what
matters for a cut-short kill), not a power loss, and costs microseconds rather than an
fsync per row, so journaling never slows an emergency stop. Intents are committed before
their requests leave; outcomes and verifications arriving in the same turn of the event
loop are committed together at the end of that turn (readers flush first), so a process
killed in between loses at most that turn's outcomes — whose intents then show as
interrupted and get verified on the next start. UPDATE and DELETE are
refused by triggers. No secret is ever passed in; rows hold what the operator did.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from console.core.model import Action, OptionValue, Outcome, State
from console.core.operator import Operator

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('intent', 'outcome', 'verify')),
    op_id TEXT NOT NULL,
    batch_id TEXT,
    operator TEXT NOT NULL,
    host TEXT NOT NULL,
    ssh_client TEXT,
    profile TEXT NOT NULL,
    venue TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    action TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    reason TEXT,
    outcome TEXT,
    http_status INTEGER,
    latency_ms REAL,
    message TEXT,
    state TEXT
);
CREATE INDEX IF NOT EXISTS entries_op ON entries (op_id);
CREATE INDEX IF NOT EXISTS entries_ts ON entries (ts_ms);
CREATE INDEX IF NOT EXISTS entries_target ON entries (venue, target_id);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""

_INSERT_ALL = (
    "INSERT INTO entries (ts_ms, kind, op_id, batch_id, operator, host, ssh_client, profile,"
    " venue, target_id, target_name, action, options, reason, outcome, http_status,"
    " latency_ms, message, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)

_WAL_BACKSTOP_PAGES = 20_000  # 80 MB of 4 KiB pages: about twenty 2,000-call kills

_COLUMNS = (
    "seq, ts_ms, kind, op_id, batch_id, operator, host, ssh_client, profile, venue, target_id,"
    " target_name, action, options, reason, outcome, http_status, latency_ms, message, state"
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One journal row."""

    seq: int
    ts_ms: int
    kind: str
    op_id: str
    batch_id: str | None
    operator: str
    host: str
    ssh_client: str | None
    profile: str
    venue: str
    target_id: str
    target_name: str
    action: str
    options: str
    reason: str | None
    outcome: str | None
    http_status: int | None
    latency_ms: float | None
    message: str | None
    state: str | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = json.loads(self.options or "{}")
        data["time"] = iso_ms(self.ts_ms)
        return data


@dataclass(frozen=True, slots=True)
class Intent:
    """What is about to be sent, as journaled before the request."""

    op_id: str
    batch_id: str | None
    venue: str
    target_id: str
    target_name: str
    action: Action
    # The action's options as journaled, serialised once for the intent, outcome and
    # verification rows (a kill writes thousands of each).
    options_json: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        options = self.action.options
        if options:
            key = tuple(sorted((name, value.__class__, value) for name, value in options.items()))
            text = _options_json(key)
        else:
            text = "{}"
        object.__setattr__(self, "options_json", text)


@functools.lru_cache(maxsize=256)
def _options_json(items: tuple[tuple[str, type, OptionValue], ...]) -> str:
    """A kill's thousands of actions share a handful of option sets: serialise each once
    (keyed with each value's type, so ``True`` and ``1`` never share a cache entry)."""
    return json.dumps({name: value for name, _, value in items}, sort_keys=True)


def iso_ms(ts_ms: int) -> str:
    """UTC, millisecond precision, as the journal shows time."""
    secs, ms = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_op_id() -> str:
    """A UUIDv7 (RFC 9562) as 32 hex digits.

    Time-ordered, so a kill's rows land together at the end of the ``op_id`` index
    rather than all over the journal's history. Measured for a 2,000-call kill's
    intents and outcomes: 74 → 50 ms on an empty journal, 160 → 100 ms on one holding
    100,000 rows (random UUIDv4 → UUIDv7).
    """
    rand = int.from_bytes(os.urandom(10), "big")
    value = (
        (now_ms() & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (rand >> 68) << 64
        | 0b10 << 62
        | (rand & (1 << 62) - 1)
    )
    return f"{value:032x}"


class Journal:
    """Append-only record of intents, outcomes and verifications for one profile."""

    def __init__(self, path: Path | str, *, profile: str, operator: Operator | None = None) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self.operator = operator or Operator.current()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint copies the WAL into the database with two fsyncs (~15 ms here).
        # SQLite's default threshold, 1,000 pages, is about one 2,000-call kill, so it
        # would fall in the middle of one: the dispatcher checkpoints between plans
        # instead (:meth:`checkpoint`), and this threshold is only the backstop.
        self._db.execute(f"PRAGMA wal_autocheckpoint={_WAL_BACKSTOP_PAGES}")
        self._db.executescript(SCHEMA)
        self._pending: list[tuple[Any, ...]] = []
        self._flush_scheduled = False

    def close(self) -> None:
        self.flush()
        self._db.close()

    def checkpoint(self) -> None:
        """Copy the WAL into the database now: between plans, never during one."""
        self.flush()
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def flush(self) -> None:
        """Commit the outcome and verification rows waiting for the end of this loop turn."""
        self._flush_scheduled = False
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with self._tx():
            self._db.executemany(_INSERT_ALL, rows)

    def _queue(self, row: tuple[Any, ...]) -> None:
        self._pending.append(row)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self.flush)

    # ----- writing ----------------------------------------------------------------
    def _row(self, kind: str, intent: Intent) -> tuple[Any, ...]:
        op, action = self.operator, intent.action
        return (
            now_ms(), kind, intent.op_id, intent.batch_id, op.user, op.host, op.ssh_client,
            self.profile, intent.venue, intent.target_id, intent.target_name,
            action.kind.value, intent.options_json, action.reason,
        )  # fmt: skip

    def intend(
        self,
        venue: str,
        target_id: str,
        target_name: str,
        action: Action,
        *,
        batch_id: str | None = None,
    ) -> Intent:
        """Write the intent row (before the request is sent) and return it."""
        intent = Intent(new_op_id(), batch_id, venue, target_id, target_name, action)
        self.intend_many([intent])
        return intent

    def intend_many(self, intents: Iterable[Intent]) -> None:
        """Write many intents in one transaction (a kill plan's intents, all at once)."""
        rows = [self._row("intent", i) for i in intents]
        self.flush()  # keep the journal in the order things happened
        with self._tx():
            self._db.executemany(
                "INSERT INTO entries (ts_ms, kind, op_id, batch_id, operator, host, ssh_client,"
                " profile, venue, target_id, target_name, action, options, reason)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def record_outcome(self, intent: Intent, outcome: Outcome) -> None:
        message = (
            outcome.message if not outcome.warning else f"{outcome.message} — {outcome.warning}"
        )
        state = outcome.state_after.value if outcome.state_after else None
        self._insert_result("outcome", intent, outcome.kind.value, outcome.http_status,
                            outcome.latency_ms, message, state)  # fmt: skip

    def record_verification(self, intent: Intent, state: State, message: str) -> None:
        self._insert_result("verify", intent, None, None, None, message, state.value)

    def _insert_result(
        self,
        kind: str,
        intent: Intent,
        outcome: str | None,
        http_status: int | None,
        latency_ms: float | None,
        message: str | None,
        state: str | None,
    ) -> None:
        self._queue((*self._row(kind, intent), outcome, http_status, latency_ms, message, state))

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> None:
            self.db.execute("BEGIN")

        def __exit__(self, exc_type: object, *_: object) -> None:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self) -> Journal._Tx:
        return Journal._Tx(self._db)

    # ----- reading ----------------------------------------------------------------
    def entries(
        self,
        *,
        since_ms: int | None = None,
        venue: str | None = None,
        operator: str | None = None,
        outcome: str | None = None,
        kind: str | None = None,
        batch_id: str | None = None,
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
                              ("batch_id", batch_id)):  # fmt: skip
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since_ms is not None:
            where.append("ts_ms >= ?")
            args.append(since_ms)
        if outcome is not None:
            where.append("op_id IN (SELECT op_id FROM entries WHERE outcome = ?)")
            args.append(outcome)
        sql = f"SELECT {_COLUMNS} FROM entries"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit is not None:
            sql = f"SELECT * FROM ({sql.replace(' ORDER BY seq', ' ORDER BY seq DESC')} LIMIT {int(limit)}) ORDER BY seq"
        return [Entry(*row) for row in self._db.execute(sql, args)]

    def interrupted(self) -> list[Entry]:
        """Intents of this profile that never got an outcome (a run cut short)."""
        self.flush()
        sql = (
            f"SELECT {_COLUMNS} FROM entries i WHERE i.kind = 'intent' AND i.profile = ?"
            " AND NOT EXISTS (SELECT 1 FROM entries o WHERE o.op_id = i.op_id AND o.kind != 'intent')"
            " ORDER BY seq"
        )
        return [Entry(*row) for row in self._db.execute(sql, (self.profile,))]

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
        for row in self._db.execute(sql, (venue, self.profile)):
            entry = Entry(*row)
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
        from console.core.model import ActionKind

        options = json.loads(entry.options or "{}")
        action = Action(ActionKind(entry.action), options, entry.reason)
        return Intent(entry.op_id, entry.batch_id, entry.venue, entry.target_id,
                      entry.target_name, action)  # fmt: skip
