"""The journal: an append-only, hash-chained SQLite record of every control call.

Each call writes its *intent* before the request leaves and its *outcome* after,
linked by ``op_id``; a verification row follows when the target is re-read. An intent
without an outcome is a call cut short (the console was killed mid-way): the next start
reports it as *interrupted — needs verification*. A *note* (:meth:`Journal.note`)
records a decision that sends nothing — a skipped schedule run, a guard that only
alerts — with who and why, in the same chain; it is never an intent to close.

WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed (what
matters for a cut-short kill), not a power loss, and costs microseconds rather than an
fsync per row, so journaling never slows an emergency stop. Intents are committed before
their requests leave; outcomes and verifications arriving in the same turn of the event
loop are committed together at the end of that turn (readers flush first), so a process
killed in between loses at most that turn's outcomes — whose intents then show as
interrupted and get verified on the next start. The connection's page cache is 16 MiB
(:data:`_CACHE_KIB`), so a kill's intents commit without spilling on a long journal.
UPDATE, DELETE and INSERT OR REPLACE are refused by triggers. No secret is ever passed
in; rows hold what the operator did, and their free text is scrubbed again on the way in.

**Tamper evidence** (:mod:`console.core.journal_chain`): every row carries a sha256
chained to the row before, computed inside the write transaction (``BEGIN IMMEDIATE``,
the previous hash read in it), so two processes writing one file never fork the chain.
:meth:`Journal.chain_head` is the receipt, :meth:`Journal.verify_chain` the check.

**Failure never blocks a kill** (:mod:`console.core.journal_fallback`): the write
methods never raise. A journal that cannot be opened (:meth:`Journal.open`) or written
switches for good to a fallback — JSON lines in another folder and on stderr — and says
so in :attr:`Journal.failed` and :attr:`Journal.fallback_path`. A single-target action
calls :meth:`Journal.require_ok` first and is refused instead.

The files are the operator's: the folder is created 0700, the database and its -wal and
-shm files are 0600 (tightened on every open).

This module holds the file and the writing; the rows and how values are made storable
are in :mod:`console.core.journal_rows`, the queries in :mod:`console.core.journal_reads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sqlite3
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from console.core import journal_chain as chain
from console.core.journal_chain import ChainCheck
from console.core.journal_fallback import (
    Fallback,
    JournalUnavailable,
    create_dirs,
    default_fallback_dir,
    describe,
    temp_fallback_dir,
)
from console.core.journal_reads import JournalReads
from console.core.journal_rows import (
    Entry,
    Intent,
    as_clean,
    as_clean_once,
    as_float,
    as_int,
    as_opt_text,
    as_text,
    new_op_id,
    now_ms,
    who_columns,
)
from console.core.model import Action, Outcome, State
from console.core.operator import Operator

__all__ = ["ChainCheck", "Journal", "JournalUnavailable"]

log = logging.getLogger(__name__)

_WAL_BACKSTOP_PAGES = 20_000  # 80 MB of 4 KiB pages: about twenty 2,000-call kills

_CACHE_KIB = 16_384
"""SQLite's page cache for this connection (its default is 2 MiB). A kill's intents go
in one transaction, and each adds to the ``(venue, target_id)`` index next to that
target's earlier rows: on a journal with a history, one index page per target is
changed, 2,000 targets about 8 MB. In 2 MiB the changed pages spill to the WAL before
the commit and are read back: measured on a 100,000-row journal just opened, 2,000
intents took 59 ms of CPU with 2 MiB, 43 with 8 or 16 MiB (no change on a new
journal). The cache grows only as pages are used; durability is not affected."""

_PROFILE = chain.FIELDS.index("profile")  # its place in a row's values
_BUSY_TIMEOUT_S = 5.0
"""How long a write waits for the other process writing the same journal (a CLI kill
and the console) before it counts as a failure and goes to the fallback."""


class Journal(JournalReads):
    """Append-only, hash-chained record of intents, outcomes, verifications and notes
    for one profile. Its write methods never raise: see :attr:`failed`."""

    def __init__(
        self,
        path: Path | str,
        *,
        profile: str,
        operator: Operator | None = None,
        fallback_dir: Path | None = None,
        strict: bool = False,
    ) -> None:
        """Open (creating or migrating) the journal at ``path``.

        A file that cannot be opened gives a journal in fallback mode (:attr:`failed`
        says why), as :meth:`open` does; ``strict=True`` raises instead.
        ``fallback_dir`` is where the fallback JSON lines go (default: the user state
        folder's ``journal-fallback``; the system temp folder when that fails).
        """
        self.path = Path(path)
        self.profile = profile
        self.operator = operator or Operator.current()
        self._who = who_columns(self.operator, profile)
        self._who_canon = chain.strings(self._who)
        self._others: dict[Operator, tuple[tuple[str, str, str | None, str], str]] = {}
        self.failed: str | None = None
        """What went wrong (e.g. ``disk full (database or disk is full)``); None while
        the journal is healthy. Once set it stays set for this object's life."""
        self._fallback_dir = fallback_dir
        self._fallback: Fallback | None = None
        self._pending: list[chain.Row] = []
        self._flush_scheduled = False
        self._head = ""  # the last hash this object wrote or saw in the database
        self._recent: deque[tuple[Any, ...]] | None = None  # see keep_recent
        self._closed = False  # (a checkpoint put off past the close does nothing)
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._connect(str(path))
        except Exception as exc:
            if strict:
                raise
            self._fail(exc)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        profile: str,
        operator: Operator | None = None,
        fallback_dir: Path | None = None,
    ) -> Journal:
        """The journal at ``path``, never raising for a file problem: a journal that
        cannot be opened comes back in fallback mode, with :attr:`failed` saying why.
        (The constructor does the same; this name says so where it matters.)"""
        return cls(path, profile=profile, operator=operator, fallback_dir=fallback_dir,
                   strict=False)  # fmt: skip

    def _connect(self, path: str) -> sqlite3.Connection:
        memory = path == ":memory:"
        if not memory:
            create_dirs(self.path.parent)
            if not self.path.exists():  # born 0600; SQLite gives -wal and -shm its mode
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                             timeout=_BUSY_TIMEOUT_S)  # fmt: skip
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # A checkpoint copies the WAL into the database with two fsyncs (~15 ms here).
            # SQLite's default threshold, 1,000 pages, is about one 2,000-call kill, so it
            # would fall in the middle of one: the dispatcher checkpoints between plans
            # instead (:meth:`checkpoint`), and this threshold is only the backstop.
            db.execute(f"PRAGMA wal_autocheckpoint={_WAL_BACKSTOP_PAGES}")
            db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            chain.ensure_schema(db)
            self._head = chain.head(db)
        except BaseException:
            db.close()
            raise
        if not memory:
            self._tighten()
        return db

    def _tighten(self) -> None:
        """The database and its -wal and -shm files readable by their owner only."""
        for suffix in ("", "-wal", "-shm"):
            name = Path(f"{self.path}{suffix}")
            try:
                if os.stat(name).st_mode & 0o077:
                    os.chmod(name, 0o600)
            except OSError as exc:  # absent, or not ours to change: not a journal failure
                log.debug("journal file %s: %s", name, exc)

    # ----- failure ----------------------------------------------------------------
    @property
    def fallback_path(self) -> Path | None:
        """The fallback JSON-lines file, once a row has been written to it."""
        return self._fallback.path if self._fallback is not None else None

    @property
    def fallback(self) -> Fallback | None:
        return self._fallback

    def require_ok(self) -> None:
        """Raise :class:`JournalUnavailable` when the journal has failed: a single-target
        action is not sent without its journal (a kill goes on with the fallback)."""
        if self.failed is None:
            return
        path = self.fallback_path
        if path is not None:
            record = f"What was to be journaled so far is in {path} (and was printed on stderr)."
        elif self._fallback is not None and self._fallback.problem:
            record = f"The fallback file could not be written either ({self._fallback.problem})."
        else:
            record = "Nothing has been written to a fallback record yet."
        raise JournalUnavailable(
            f"the journal cannot be written ({self.failed}): {self.path}. Nothing was sent: a"
            f" single action is not sent without its journal. {record} Fix the journal (free"
            " disk space, make its folder writable, or move a damaged file aside) and try"
            " again; an emergency stop (kill) still runs and records to the fallback."
        )

    def _fail(self, exc: BaseException) -> None:
        reason = describe(exc)
        log.error("journal %s failed: %s", self.path, reason)
        self.failed = reason
        head = self._head
        if self._db is not None:
            with contextlib.suppress(Exception):
                head = chain.head(self._db) or head
        dirs: list[Path] = []
        for where in (self._default_fallback_dir, temp_fallback_dir):
            with contextlib.suppress(Exception):  # no home folder, no temp folder: stderr
                folder = where()
                if folder not in dirs:
                    dirs.append(folder)
        self._fallback = Fallback(journal_path=self.path, profile=self.profile, failed=reason,
                                  head=head, directories=dirs)  # fmt: skip

    def _default_fallback_dir(self) -> Path:
        return self._fallback_dir or default_fallback_dir()

    def _write(self, rows: list[chain.Row]) -> None:
        """Commit ``rows`` to the chain, or write them to the fallback."""
        if not rows:
            return
        if self.failed is None and self._db is not None:
            try:
                self._commit(self._db, rows)
                return
            except Exception as exc:
                self._fail(exc)
        try:
            assert self._fallback is not None
            self._fallback.write(rows)
        except Exception as exc:  # the last resort: stderr, one repr a row
            log.critical("journal fallback failed: %s", exc)
            with contextlib.suppress(Exception):
                for values, _ in rows:
                    sys.stderr.write(f"trading-console: journal row (unrecorded): {values!r}\n")

    def _commit(self, db: sqlite3.Connection, rows: list[chain.Row]) -> None:
        # The chain's head is read inside the write lock: another process writing the
        # same file between our read and our insert would otherwise fork the chain.
        db.execute("BEGIN IMMEDIATE")
        try:
            seq, previous = chain.position(db)
            values = chain.chain_rows(previous, seq, rows)
            db.executemany(chain.INSERT, values)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise
        self._head = values[-1][-1]
        if self._recent is not None:
            if self._recent and values[0][0] != self._recent[-1][0] + 1:
                self._recent.clear()  # another process wrote the file in between
            self._recent.extend(values)

    # ----- its own rows, read back ---------------------------------------------------
    def keep_recent(self, rows: int) -> None:
        """Keep the last ``rows`` rows this journal committed, as they were committed, for
        :meth:`rows_after` (a desk hub copies each row to the journal stream right after
        writing it: a 600-target kill's first intents, read back from SQLite, cost the
        kill ~4 ms before its first call)."""
        self._recent = deque(self._recent or (), maxlen=rows)

    def rows_after(self, seq: int) -> list[Entry]:
        """``entries(after_seq=seq)``: from the rows kept (:meth:`keep_recent`) when they
        are every row after ``seq`` — this journal wrote them all, none in between and none
        since (another process writing the same file: read from the file instead)."""
        self.flush()
        recent = self._recent
        if recent and self._db is not None and self.failed is None and not self._closed:
            first, last = recent[0][0], recent[-1][0]
            if first <= seq + 1 and last - first + 1 == len(recent):  # (no gap among them)
                found = self._db.execute("SELECT max(seq) FROM entries").fetchone()
                if found is not None and found[0] == last:
                    start = max(seq + 1 - first, 0)
                    return [Entry(*values) for values in itertools.islice(recent, start, None)
                            if values[_PROFILE] == self.profile]  # fmt: skip
        return self.entries(after_seq=seq)

    # ----- housekeeping -----------------------------------------------------------
    def close(self) -> None:
        self.flush()
        if self._fallback is not None:
            self._fallback.close()
        if self._db is not None:
            with contextlib.suppress(Exception):
                self._db.close()
        self._closed = True

    def checkpoint(self) -> None:
        """Copy the WAL into the database now: between plans, never during one."""
        self.flush()
        if self.failed is not None or self._db is None or self._closed:
            return
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:  # every row is committed in the WAL already
            log.warning("journal checkpoint failed: %s", describe(exc))

    def flush(self) -> None:
        """Commit the outcome and verification rows waiting for the end of this loop turn."""
        self._flush_scheduled = False
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self._write(rows)

    def _queue(self, row: chain.Row) -> None:
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
    _NO_RESULT = (None, None, None, None, None)

    def _row(self, kind: str, intent: Intent, result: tuple[Any, ...] = _NO_RESULT) -> chain.Row:
        """A row of ``kind`` for ``intent``; ``result`` = (outcome, http_status,
        latency_ms, message, state), already storable."""
        ts = now_ms()
        if type(ts) is not int:
            ts = int(ts)
        ids, what = intent._canon
        tail = (
            "null,null,null,null,null"
            if result is Journal._NO_RESULT
            else chain.result_elements(*result)
        )
        if intent.operator is None:
            who, who_canon = self._who, self._who_canon
        else:  # a run as another operator (Dispatcher.run(operator=…))
            who, who_canon = self._who_of(intent.operator)
        rest = f'{ts},"{kind}",{ids},{who_canon},{what},{tail}'
        return (ts, kind, *intent._ids, *who, *intent._what, *result), rest

    def _who_of(self, op: Operator) -> tuple[tuple[str, str, str | None, str], str]:
        """The who columns (and their chain encoding) for another operator of this profile."""
        found = self._others.get(op)
        if found is None:
            who = who_columns(op, self.profile)
            found = self._others[op] = (who, chain.strings(who))
        return found

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
        """Write many intents in one transaction (a kill plan's intents, all at once),
        after the rows still waiting, so the journal keeps the order things happened."""
        new = [self._row("intent", i) for i in intents]
        rows, self._pending = self._pending + new, []
        self._flush_scheduled = False
        self._write(rows)

    def note(
        self,
        who: str,
        venue: str,
        target_id: str,
        target_name: str,
        action: str,
        reason: str,
        *,
        message: str | None = None,
        options: Mapping[str, Any] | None = None,
        batch_id: str | None = None,
    ) -> None:
        """Write one ``note`` row, committed now (after the rows still waiting): a
        decision that sends nothing. ``who`` is the operator column (``guard:<name>``, an
        operator's name), ``reason`` why, ``message`` and ``options`` (JSON) the values
        behind it. Never raises, like every write."""
        try:
            ts = int(now_ms())
            opts = json.dumps(dict(options or {}), sort_keys=True, default=str)
            host = self.operator.host
            who_cols, who_canon = self._who_of(Operator(user=who, host=host))
            ids = (new_op_id(), as_opt_text(batch_id))
            what = (as_text(venue), as_text(target_id), as_text(target_name), as_text(action),
                    as_text(opts), as_clean(reason))  # fmt: skip
            result = (None, None, None, as_clean(message), None)
            rest = (f'{ts},"note",{chain.strings(ids)},{who_canon},{chain.strings(what)},'
                    f"{chain.elements(result)}")  # fmt: skip
            row: chain.Row = ((ts, "note", *ids, *who_cols, *what, *result), rest)
        except Exception as exc:  # a value that cannot be made storable: say so, go on
            log.error("journal note by %s not written: %s", who, exc)
            return
        rows, self._pending = [*self._pending, row], []
        self._flush_scheduled = False
        self._write(rows)

    def record_outcome(self, intent: Intent, outcome: Outcome) -> None:
        message = (
            outcome.message if not outcome.warning else f"{outcome.message} — {outcome.warning}"
        )
        # A kill writes thousands: the common types taken as they are (an int status, a
        # float latency that is a number), the rest through the as_* rules; an enum's
        # ``_value_`` is its value without the descriptor ``.value`` goes through.
        status, latency, after = outcome.http_status, outcome.latency_ms, outcome.state_after
        if type(status) is not int or not -(2**63) <= status < 2**63:
            status = as_int(status)
        if type(latency) is not float or latency != latency or latency == 0.0:
            latency = as_float(latency)
        result = (as_text(outcome.kind._value_), status, latency, as_clean_once(message),
                  None if after is None else as_text(after._value_))  # fmt: skip
        self._queue(self._row("outcome", intent, result))

    def record_verification(self, intent: Intent, state: State, message: str) -> None:
        result = (None, None, None, as_clean(message), as_text(state.value))
        self._queue(self._row("verify", intent, result))
