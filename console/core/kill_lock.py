"""One kill at a time per profile, across processes on one machine.

Two kills at once (two CLI processes, or the console and a CLI) sent every call twice
and drew 24 × 429 from x3algo: each process paces itself, neither knows the other. An
OS file lock beside the journal (``flock``, released by the kernel when the holder
exits, even by SIGKILL, so it can never be left stale) makes the second kill refuse,
send nothing, and say who holds the lock and since when.

The holder writes who it is into the lock file; a refused kill reads it back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from types import TracebackType

from console.core.journal_rows import iso_ms
from console.core.operator import Operator


class KillLocked(Exception):
    """Another kill of this profile is running; nothing was sent."""

    def __init__(self, holder: str) -> None:
        super().__init__(
            f"another emergency stop of this profile is running ({holder}); nothing was "
            "sent — watch it there, or wait for it to end and run the kill again"
        )
        self.holder = holder


def kill_lock_for(journal_path: Path | str, profile: str) -> KillLock | None:
    """The kill lock of ``profile`` beside its journal (none for an in-memory journal)."""
    if str(journal_path) == ":memory:":
        return None
    return KillLock.beside(Path(journal_path), profile=profile)


class KillLock:
    """An exclusive, non-blocking lock on ``path`` (created 0600 in a 0700 folder)."""

    def __init__(self, path: Path, *, profile: str, operator: Operator | None = None) -> None:
        self.path = path
        self.profile = profile
        self.operator = operator or Operator.current()
        self._fd: int | None = None

    @classmethod
    def beside(
        cls, journal_path: Path, *, profile: str, operator: Operator | None = None
    ) -> KillLock:
        """The lock of ``profile`` next to its journal file."""
        name = f"{journal_path.name}.{profile}.kill.lock"
        return cls(journal_path.parent / name, profile=profile, operator=operator)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`KillLocked` naming the holder."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise KillLocked(holder) from None
        except BaseException:
            os.close(fd)
            raise
        record = {
            "operator": str(self.operator),
            "pid": os.getpid(),
            "since_ms": int(time.time() * 1000),
            "profile": self.profile,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> KillLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = iso_ms(int(data["since_ms"]))
        return f"{data['operator']}, pid {data['pid']}, since {since}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process; its details could not be read"
