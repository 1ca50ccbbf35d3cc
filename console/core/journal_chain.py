"""The journal's hash chain: every row carries a sha256 of its fields and of the row before.

A row's hash is ``sha256(previous_hash + "\\n" + canonical(fields))`` in lowercase hex,
where ``canonical`` is the JSON array of the row's fields in column order (:data:`FIELDS`,
``seq`` first), compact (``,`` and ``:`` without spaces), ASCII only (``\\uXXXX``
escapes), ``null`` for NULL, integers as integers, ``latency_ms`` as Python writes a
float (``12.5``, ``12.0``). The first hashed row's previous hash is the empty string.
Anyone can recompute it with ``sqlite3`` and ``hashlib`` alone.

SQLite cannot refuse ``DROP TRIGGER``: the triggers keep honest mistakes out, the chain
is what shows a deliberate rewrite. A row rewritten in place no longer matches its hash
(or, rehashed, breaks the next row's); a row deleted from the middle leaves a gap in
``seq``; rows deleted from the end leave ``sqlite_sequence`` ahead of the last row. Rows
rewritten from some point to the end with every hash recomputed are caught only by
comparing :func:`head` with a receipt kept elsewhere (the kill report shows it).

Journals from before the chain are migrated in place: the ``hash`` column is added,
their rows keep ``hash`` NULL ("before the chain") and ``journal_meta.chain_from``
records the first ``seq`` the chain covers. Every row from there on must be hashed.

Journals from before the ``note`` kind (a decision that sends nothing: a skipped
schedule run, a guard that only alerts) have a ``kind`` CHECK without it. SQLite cannot
alter a CHECK, so the table is rebuilt on open, in the one migration transaction: a new
table, every row copied as it is (``seq``, fields and ``hash`` unchanged, so the chain
still verifies), the old table dropped (the row triggers do not fire on DROP TABLE),
the new one renamed, its indexes and triggers recreated, and ``sqlite_sequence`` kept
(rows deleted from the end still show). A file that cannot be written (read only, for
an audit) is left as it is and read; a note written to it fails like any write.

**Cost per row** (a kill writes 4,000: its intents before the first call leaves, then
its outcomes). ``kind``'s CHECK is written as ``kind = … OR …`` rather than ``kind IN
(…)``: SQLite evaluates a constant ``IN`` list of more than two values through a
temporary index built once per statement, and each row of an ``executemany`` is a
statement of its own — measured 4–5 ms of CPU per 2,000 rows here, a fifth of the
insert. Both admit exactly the same kinds. Journals created before keep their ``IN``
CHECK (equivalent; no file is rewritten for speed alone); a table rebuilt for notes
gets this one. The append-only triggers cost about 1 µs a row and stay as they are:
``INSERT OR REPLACE`` deletes the row it replaces without firing the delete trigger
unless the writer's own connection turned ``recursive_triggers`` on, so only a ``BEFORE
INSERT`` trigger refuses it whoever writes (and the primary-key lookup in it is the
cheapest of the forms measured: ``EXISTS``, ``IN``, ``max(seq)`` and ``sqlite_sequence``
cost the same).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

FIELDS = (
    "seq", "ts_ms", "kind", "op_id", "batch_id", "operator", "host", "ssh_client", "profile",
    "venue", "target_id", "target_name", "action", "options", "reason", "outcome",
    "http_status", "latency_ms", "message", "state",
)  # fmt: skip
"""The hashed fields, in column order (``hash`` itself is not one of them)."""

CHAIN_FORMAT = 'sha256(prev_hash + "\\n" + json_ascii_compact([seq, ts_ms, ..., state])) v1'

_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=True).encode
_sha256 = hashlib.sha256

TABLE = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind = 'intent' OR kind = 'outcome' OR kind = 'verify'
                              OR kind = 'note'),
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
    state TEXT,
    hash TEXT
)"""

META = "CREATE TABLE IF NOT EXISTS journal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

_REFUSE = "BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END"
INDEXES_AND_TRIGGERS = (
    "CREATE INDEX IF NOT EXISTS entries_op ON entries (op_id)",
    "CREATE INDEX IF NOT EXISTS entries_ts ON entries (ts_ms)",
    "CREATE INDEX IF NOT EXISTS entries_target ON entries (venue, target_id)",
    f"CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries {_REFUSE}",
    f"CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries {_REFUSE}",
    # INSERT OR REPLACE deletes the row it replaces without firing the delete trigger.
    "CREATE TRIGGER IF NOT EXISTS entries_no_replace BEFORE INSERT ON entries"
    " WHEN EXISTS (SELECT 1 FROM entries WHERE seq = NEW.seq) " + _REFUSE,
    f"CREATE TRIGGER IF NOT EXISTS journal_meta_no_update BEFORE UPDATE ON journal_meta {_REFUSE}",
    f"CREATE TRIGGER IF NOT EXISTS journal_meta_no_delete BEFORE DELETE ON journal_meta {_REFUSE}",
    "CREATE TRIGGER IF NOT EXISTS journal_meta_no_replace BEFORE INSERT ON journal_meta"
    " WHEN EXISTS (SELECT 1 FROM journal_meta WHERE key = NEW.key) " + _REFUSE,
)
_TRIGGERS = frozenset(
    ("entries_no_update", "entries_no_delete", "entries_no_replace", "journal_meta_no_update",
     "journal_meta_no_delete", "journal_meta_no_replace")
)  # fmt: skip
_INDEXES = frozenset(("entries_op", "entries_ts", "entries_target"))

INSERT = f"INSERT INTO entries ({', '.join(FIELDS)}, hash) VALUES ({', '.join('?' * 21)})"


def encode(fields: Sequence[Any]) -> str:
    """The canonical form of a row's fields (``seq`` first, :data:`FIELDS` order)."""
    return _ENCODE(fields)


STRING = json.encoder.encode_basestring_ascii
"""One text field as :data:`_ENCODE` writes it (quoted, ``\\uXXXX`` escapes)."""
_STRING = STRING
_INF = float("inf")


def _element(value: Any) -> str:
    """One field as :data:`_ENCODE` writes it inside an array (the common types without
    the encoder's per-call set-up; anything else through the encoder itself)."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _STRING(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        if value != value:
            return "NaN"
        if value == _INF:
            return "Infinity"
        if value == -_INF:
            return "-Infinity"
        return float.__repr__(value)
    return _ENCODE(value)


def elements(values: Sequence[Any]) -> str:
    """The canonical form of some consecutive fields, without the brackets: a row's
    canonical form is ``"[" + ",".join(parts) + "]"`` of such parts, so the fields an
    intent fixes are encoded once for its intent, outcome and verification rows."""
    return ",".join([_element(value) for value in values])


def result_elements(
    outcome: str | None,
    http_status: int | None,
    latency_ms: float | None,
    message: str | None,
    state: str | None,
) -> str:
    """:func:`elements` of a row's last five fields, made storable (text, an integer,
    a float, each or NULL), written out: a kill encodes thousands of outcomes."""
    return (
        f"{'null' if outcome is None else _STRING(outcome)},{_element(http_status)},"
        f"{_element(latency_ms)},{'null' if message is None else _STRING(message)},"
        f"{'null' if state is None else _STRING(state)}"
    )


def strings(values: Sequence[str | None]) -> str:
    """:func:`elements` of text-or-NULL fields (the faster path for them)."""
    return ",".join(["null" if value is None else _STRING(value) for value in values])


def link(previous: str, fields: Sequence[Any]) -> str:
    """The hash of a row whose fields (``seq`` first) follow a row hashed ``previous``."""
    return _sha256(f"{previous}\n{_ENCODE(fields)}".encode("ascii")).hexdigest()


Row = tuple[tuple[Any, ...], str]
"""A row to write: its values but ``seq`` (column order), and their canonical form
(:func:`elements`, so ``"[" + str(seq) + "," + that + "]"`` is the row's)."""


def chain_rows(previous: str, first_seq: int, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
    """``rows`` numbered from ``first_seq`` and hashed in order: the values to insert,
    each ending with its hash."""
    out: list[tuple[Any, ...]] = []
    seq = first_seq
    for values, rest in rows:
        previous = _sha256(f"{previous}\n[{seq},{rest}]".encode("ascii")).hexdigest()
        out.append((seq, *values, previous))
        seq += 1
    return out


def _allows_note(db: sqlite3.Connection) -> bool:
    """Whether the ``entries`` table's CHECK on ``kind`` admits ``'note'``."""
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'entries'"
    ).fetchone()
    return found is None or "'note'" in str(found[0])


def _schema_complete(db: sqlite3.Connection, *, but_note: bool = False) -> bool:
    """Whether nothing needs creating or migrating (``but_note``: nothing but the
    ``note`` kind)."""
    names = {(kind, name) for kind, name in db.execute("SELECT type, name FROM sqlite_master")}
    if ("table", "entries") not in names or ("table", "journal_meta") not in names:
        return False
    if not all(("trigger", t) in names for t in _TRIGGERS):
        return False
    if not all(("index", i) in names for i in _INDEXES):
        return False
    columns = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
    if "hash" not in columns:
        return False
    found = db.execute("SELECT 1 FROM journal_meta WHERE key = 'chain_from'").fetchone()
    return found is not None and (but_note or _allows_note(db))


def _rebuild_for_note(db: sqlite3.Connection) -> None:
    """Inside the migration transaction: the ``entries`` table rebuilt with a CHECK that
    admits ``'note'``, every row copied unchanged (see the module's docstring)."""
    columns = ", ".join((*FIELDS, "hash"))
    given = _last_seq(db)
    db.execute(TABLE.replace("IF NOT EXISTS entries", "entries_note_migration", 1))
    db.execute(
        f"INSERT INTO entries_note_migration ({columns}) SELECT {columns} FROM entries ORDER BY seq"
    )
    db.execute("DROP TABLE entries")  # its indexes and triggers go with it
    db.execute("ALTER TABLE entries_note_migration RENAME TO entries")
    db.execute("DELETE FROM sqlite_sequence WHERE name IN ('entries', 'entries_note_migration')")
    if given:
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('entries', ?)", (given,))


def _read_only(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "read only" in text


def ensure_schema(db: sqlite3.Connection) -> None:
    """Create or migrate the journal's tables, indexes and triggers.

    Looks first without a lock (an up-to-date journal, the usual case, is only read);
    otherwise creates or migrates inside one ``BEGIN IMMEDIATE`` transaction, so two
    processes opening an old journal at once migrate it once.
    """
    if _schema_complete(db):
        return
    only_note = _schema_complete(db, but_note=True)
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if only_note and _read_only(exc):  # readable as it is; notes cannot be written
            return
        raise
    try:
        db.execute(TABLE)
        columns = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
        if "hash" not in columns:
            db.execute("ALTER TABLE entries ADD COLUMN hash TEXT")
        if not _allows_note(db):
            _rebuild_for_note(db)
        db.execute(META)
        start = _last_seq(db) + 1
        for key, value in (("chain_from", str(start)), ("chain_format", CHAIN_FORMAT)):
            db.execute(
                "INSERT INTO journal_meta (key, value) SELECT ?, ?"
                " WHERE NOT EXISTS (SELECT 1 FROM journal_meta WHERE key = ?)",
                (key, value, key),
            )
        for statement in INDEXES_AND_TRIGGERS:
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        if only_note and isinstance(exc, sqlite3.OperationalError) and _read_only(exc):
            return
        raise


def _last_seq(db: sqlite3.Connection) -> int:
    """The highest ``seq`` ever given out: the last row's, or higher if rows were removed
    from the end (AUTOINCREMENT remembers), so a number is never used twice."""
    row = db.execute("SELECT MAX(seq) FROM entries").fetchone()
    last = int(row[0]) if row and row[0] is not None else 0
    try:
        given = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'entries'").fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table yet
        given = None
    if given and given[0] is not None:
        last = max(last, int(given[0]))
    return last


def position(db: sqlite3.Connection) -> tuple[int, str]:
    """Inside the write transaction: the next ``seq`` and the hash to chain it to."""
    last = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    head = last[1] if last else None
    if last is not None and head is None:  # the last row has no hash: chain to the last that has
        found = db.execute(
            "SELECT hash FROM entries WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        head = found[0] if found else None
    return _last_seq(db) + 1, head or ""


def head(db: sqlite3.Connection) -> str:
    """The newest row's hash ("" when no row is hashed yet)."""
    found = db.execute(
        "SELECT hash FROM entries WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return str(found[0]) if found else ""


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What :func:`verify` found."""

    ok: bool
    rows: int
    """Hashed rows checked and found sound (up to the first break)."""
    head: str
    """The last sound row's hash: the receipt to compare."""
    unchained: int = 0
    """Rows from before the chain (a journal migrated from an older version)."""
    broken_seq: int | None = None
    why: str = ""

    def summary(self) -> str:
        if self.ok:
            before = f" (+{self.unchained} rows from before the chain)" if self.unchained else ""
            head = self.head[:16] if self.head else "(none yet)"
            return f"journal chain OK: {self.rows} rows, head {head}{before}"
        where = f"at seq {self.broken_seq}" if self.broken_seq is not None else ""
        return f"journal chain BROKEN {where}: {self.why}".replace("  ", " ")

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": self.head,
            "unchained": self.unchained,
            "broken_seq": self.broken_seq,
            "why": self.why,
        }


Progress = Callable[[int, int], None]
"""Told ``(the seq checked up to, the last seq)`` now and then during a long check."""
PROGRESS_EVERY = 50_000
"""Rows between two progress calls (~0.3 s of checking on this project's VM)."""


def verify(db: sqlite3.Connection, progress: Progress | None = None) -> ChainCheck:
    """Recompute the whole chain in one read transaction; stop at the first break.
    ``progress`` hears how far it is every :data:`PROGRESS_EVERY` rows (a year of a
    busy desk is millions of rows: seconds, never silent)."""
    db.execute("BEGIN")
    try:
        return _verify(db, progress)
    finally:
        db.execute("COMMIT")


def _verify(db: sqlite3.Connection, progress: Progress | None = None) -> ChainCheck:
    try:
        found = db.execute("SELECT value FROM journal_meta WHERE key = 'chain_from'").fetchone()
    except sqlite3.OperationalError:
        found = None
    if found is None:
        why = "the chain's start record (journal_meta chain_from) is missing"
        return ChainCheck(False, 0, "", broken_seq=None, why=why)
    chain_from = int(found[0])
    rows = unchained = 0
    previous = ""
    last_seq: int | None = None
    columns = ", ".join(FIELDS)
    last = db.execute("SELECT max(seq) FROM entries").fetchone()[0] or 0 if progress else 0
    rows_in = db.execute(f"SELECT {columns}, hash FROM entries ORDER BY seq")
    for checked, row in enumerate(rows_in, start=1):
        seq, stored = row[0], row[-1]
        if progress is not None and checked % PROGRESS_EVERY == 0:
            progress(seq, last)
        why = _problem(row, chain_from, previous, last_seq, first=rows == 0)
        if why:
            return ChainCheck(False, rows, previous, unchained, seq, why)
        if seq < chain_from:
            unchained += 1
        else:
            rows += 1
            previous = stored
        last_seq = seq
    given, last = _last_seq(db), last_seq or 0
    if given > last:
        why = f"rows {last + 1}-{given} were written and are gone (deleted from the end)"
        return ChainCheck(False, rows, previous, unchained, last + 1, why)
    return ChainCheck(True, rows, previous, unchained)


def _problem(
    row: Sequence[Any], chain_from: int, previous: str, last_seq: int | None, *, first: bool
) -> str:
    """What is wrong with ``row`` given the rows before it ("" if nothing)."""
    seq, stored = row[0], row[-1]
    if seq < chain_from:
        if stored is not None:
            return f"a row from before the chain (which starts at seq {chain_from}) has a hash"
        return ""
    expected = chain_from if first else (last_seq or 0) + 1
    if seq != expected:
        gap = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
        return f"rows missing before it (seq {gap} deleted)"
    if stored is None:
        return "the row has no hash (its hash was removed, or a writer bypassed the chain)"
    if stored != link(previous, row[:-1]):
        return (
            "its hash does not match its fields and the previous row's hash: this row"
            " (or the one before it) was altered"
        )
    return ""
