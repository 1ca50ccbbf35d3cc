"""Where the journal writes when it cannot write itself: JSON lines, and stderr.

When the journal cannot be opened (an unwritable folder, a file that is not a
database) or a write fails (disk full, a file-size limit, an I/O error), the kill must
go on and nothing it did may be lost. From that moment every row the journal is asked
to write — intents, outcomes, verifications, and the rows that were waiting in memory
for their commit — goes as one JSON line to a file in another folder
(``<user state dir>/journal-fallback/<profile>-<UTC time>-<pid>.jsonl``, else the
system temp folder) and the same line to stderr. If the file cannot be written
either, stderr alone carries them.

Each line holds the row's fields as the journal has them (``seq`` null: no number was
given out), ``fallback: true``, its line number ``n``, and the chain continued from the
journal's last known hash: ``hash = sha256(prev_hash + "\\n" + canonical(fields))``
exactly as in the database (:mod:`console.core.journal_chain`), with ``seq`` null.
The file's first line says what failed (``event: journal_failed``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import platformdirs

from console.core.journal_chain import FIELDS, Row, link

APP_NAME = "trading-console"
STDERR_PREFIX = "trading-console: journal fallback: "


class JournalUnavailable(Exception):
    """A single-target action refused because its journal cannot be written."""


def default_fallback_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "journal-fallback"


def temp_fallback_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{uid}" / "journal-fallback"


_SQLITE_WORDS = {
    3: "permission denied",
    5: "the journal is locked by another process",
    8: "the journal is read-only",
    10: "disk I/O error (disk full, or a file-size limit)",
    11: "the journal file is corrupted",
    13: "disk full",
    14: "cannot open the journal file",
    23: "permission denied",
    26: "the journal file is corrupted",
}
_ERRNO_WORDS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file-size limit reached",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.EIO: "disk I/O error",
}


def describe(exc: BaseException) -> str:
    """What went wrong, in words first and SQLite's or the OS's own words after."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        words = _SQLITE_WORDS.get(code & 0xFF) if isinstance(code, int) else None
        text = str(exc) or type(exc).__name__
        if words is None:
            lowered = text.lower()
            if "disk is full" in lowered:
                words = "disk full"
            elif "not a database" in lowered:
                words = _SQLITE_WORDS[26]
            elif "unable to open" in lowered:
                words = _SQLITE_WORDS[14]
        return f"{words} ({text})" if words and words != text else text
    if isinstance(exc, OSError):
        words = _ERRNO_WORDS.get(exc.errno or 0)
        where = f": {exc.filename}" if exc.filename else ""
        detail = f"{exc.strerror or exc}{where}"
        return f"{words} ({detail})" if words else detail
    return f"internal error ({type(exc).__name__}: {exc})"


def _safe_name(profile: str) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile)[:64].strip(".")
    return name or "profile"


def create_dirs(path: Path) -> None:
    """Create ``path`` and every missing parent, each 0700 (folders that exist are left
    as they are: a journal may live in a folder the user chose)."""
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # whatever the umask took away


def private_dir(path: Path) -> None:
    """:func:`create_dirs`, then refuse a folder that is not ours (someone else's, or a
    symlink planted in a shared temp folder)."""
    create_dirs(path)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path))
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PermissionError(errno.EPERM, "folder owned by another user", str(path))


class Fallback:
    """JSON lines of every row the journal could not write; each line on stderr too."""

    def __init__(
        self,
        *,
        journal_path: Path,
        profile: str,
        failed: str,
        head: str,
        directories: Sequence[Path],
    ) -> None:
        self.journal_path = journal_path
        self.profile = profile
        self.failed = failed
        self.head = head
        """The chain's last hash: the journal's, then this file's last line's."""
        self.directories = list(directories)
        self.path: Path | None = None
        self.problem: str | None = None
        """Why the file could not be written (stderr alone carries the rows then)."""
        self.count = 0
        self._file: IO[str] | None = None
        self._opened = False
        self._note(
            f"JOURNAL FAILED ({failed}): {journal_path}. Every journal row from now on goes"
            " to a fallback file and to stderr, as JSON lines."
        )

    # ----- the file -----------------------------------------------------------------
    def _open(self) -> None:
        self._opened = True
        stamp = (
            time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            + f".{time.time_ns() // 1_000_000 % 1000:03d}Z"
        )
        name = f"{_safe_name(self.profile)}-{stamp}-{os.getpid()}.jsonl"
        problems: list[str] = []
        for folder in self.directories:
            try:
                private_dir(folder)
                path = folder / name
                flags = (
                    os.O_WRONLY
                    | os.O_CREAT
                    | os.O_EXCL
                    | os.O_APPEND
                    | getattr(os, "O_NOFOLLOW", 0)
                )
                fd = os.open(path, flags, 0o600)
                self._file = os.fdopen(fd, "a", encoding="utf-8")
                self.path = path
                break
            except OSError as exc:
                problems.append(describe(exc))
        if self._file is None:
            self.problem = "; ".join(problems) or "no folder to write to"
            self._note(
                f"the fallback file could not be written ({self.problem}): stderr alone has the rows"
            )
        else:
            self._note(f"journal fallback record: {self.path}")
        header = {
            "event": "journal_failed",
            "failed": self.failed,
            "journal": str(self.journal_path),
            "profile": self.profile,
            "chain_head": self.head,
            "chain": "each line: hash = sha256(prev_hash + '\\n' + canonical fields, seq null)",
            "time": _now_iso(),
            "pid": os.getpid(),
        }
        line = json.dumps(header, ensure_ascii=True)
        self._write_file([line])
        _stderr(STDERR_PREFIX + line + "\n")

    def _write_file(self, lines: list[str]) -> None:
        if self._file is None:
            return
        try:
            self._file.write("".join(line + "\n" for line in lines))
            self._file.flush()
        except (OSError, ValueError) as exc:
            self.problem = describe(exc)
            self._note(
                f"the fallback file {self.path} failed ({self.problem}): stderr alone has the rows from here"
            )
            with contextlib.suppress(OSError, ValueError):
                self._file.close()
            self._file = None

    # ----- rows ---------------------------------------------------------------------
    def write(self, rows: Iterable[Row]) -> None:
        """Append ``rows`` (their values but ``seq``, and canonical form) as JSON lines."""
        rows = list(rows)
        if not rows:
            return
        if not self._opened:
            self._open()  # its header holds the head the lines continue from
        lines: list[str] = []
        previous = self.head
        for values, rest in rows:
            digest = hashlib.sha256(f"{previous}\n[null,{rest}]".encode("ascii")).hexdigest()
            self.count += 1
            record: dict[str, Any] = {"fallback": True, "n": self.count}
            record.update(zip(FIELDS, (None, *values), strict=True))
            record["time"] = _iso(values[0])
            record["prev_hash"] = previous
            record["hash"] = digest
            previous = digest
            lines.append(json.dumps(record, ensure_ascii=True))
        self.head = previous
        self._write_file(lines)
        _stderr("".join(STDERR_PREFIX + line + "\n" for line in lines))

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError, ValueError):
                self._file.close()
            self._file = None

    @staticmethod
    def _note(text: str) -> None:
        _stderr(f"trading-console: {text}\n")


def _stderr(text: str) -> None:
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(text)
        stream.flush()


def _iso(ts_ms: Any) -> str | None:
    if not isinstance(ts_ms, int):
        return None
    secs, ms = divmod(ts_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


def _now_iso() -> str:
    return _iso(time.time_ns() // 1_000_000) or ""


def read_fallback(path: Path) -> list[dict[str, Any]]:
    """The rows of a fallback file (its header left out), oldest first."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short (the disk filled up, a size limit)
                continue
            if isinstance(record, dict) and record.get("fallback"):
                rows.append(record)
    return rows


def verify_fallback(path: Path) -> tuple[bool, str]:
    """Recompute a fallback file's chain from its header's ``chain_head``: (ok, why)."""
    records = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                return False, f"line {number} is not JSON (cut short?)"
    if not records or records[0].get("event") != "journal_failed":
        return False, "no journal_failed header line"
    head = str(records[0].get("chain_head") or "")
    for record in records[1:]:
        fields = [record.get(name) for name in FIELDS]
        if record.get("prev_hash") != head or record.get("hash") != link(head, fields):
            return False, f"line n={record.get('n')} does not match its hash"
        head = record["hash"]
    return True, f"{len(records) - 1} rows, head {head[:16]}"
