"""A venue's login session on disk, shared by every process of one profile.

Written for x3algo, which allows 5 logins (and refreshes) per 15 minutes. A CLI run is a
new process, so without this file every ``status`` would log in again and a few of them
would leave the ``kill`` without a login. The file keeps, per venue base URL and account:

* the access token and when it runs out (wall clock), and the refresh cookie;
* the ledger: when this machine made each login or refresh inside the vendor's window,
  so no process makes one too many (x3algo's session refuses it, in words, unsent);
* a quota refusal the venue itself gave (429), until when and why, so other processes do
  not knock again.

Where: ``settings.state_dir`` (per profile and venue, made 0700), file
``<vendor>-session-<hash>.json`` (0600, written whole to a temporary file and renamed, so
a reader never sees half of it). The hash is of the base URL and the email: neither is in
the name. Tokens are kept here and nowhere else: never in the journal nor in a log line;
every problem with the file is logged by path and kind only.

Processes take :meth:`SessionFile.locked` (an ``flock`` on ``<file>.lock``, beside the
file because the file itself is replaced on each write) while they log in or refresh,
and re-read the file once they hold it: the second of two processes starting at once
finds the first one's token and does not log in.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1
LOCK_POLL_S = 0.05
AuthKind = str  # "login" or "refresh"


@dataclass
class StoredSession:
    """What one account's session file holds; times are wall-clock epoch seconds."""

    access_token: str | None = None
    access_expires_at: float = 0.0
    refresh_token: str | None = None
    auth_calls: list[tuple[float, AuthKind]] = field(default_factory=list)
    refused_until: float = 0.0
    refused_reason: str = ""

    def calls_since(self, since: float) -> list[tuple[float, AuthKind]]:
        return sorted(c for c in self.auth_calls if c[0] > since)


class SessionFileError(Exception):
    """The session file cannot be used; the message names the file and the kind of
    problem, never its contents."""


def account_key(base_url: str, email: str) -> str:
    """The account's key: a hash of the base URL and the email (neither kept in clear)."""
    raw = f"{base_url.strip().rstrip('/').lower()}\n{email.strip().lower()}"
    return hashlib.sha256(raw.encode()).hexdigest()


class SessionFile:
    """One account's session file in a private folder."""

    def __init__(
        self, state_dir: str | os.PathLike[str], base_url: str, email: str, *, vendor: str
    ) -> None:
        self.vendor = vendor  # names the file and the log lines: "x3algo"
        self.folder = Path(state_dir)
        self.account = account_key(base_url, email)
        self.path = self.folder / f"{vendor}-session-{self.account[:24]}.json"
        self.lock_path = self.folder / f"{vendor}-session-{self.account[:24]}.lock"

    # ----- reading and writing --------------------------------------------------------
    def load(self) -> StoredSession | None:
        """The stored session; None when there is none or it cannot be read (logged by
        kind, never by contents: the caller then logs in afresh)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning(
                "%s session file %s cannot be read (%s); ignored: a fresh login will be made",
                self.vendor,
                self.path,
                exc.strerror or type(exc).__name__,
            )
            return None
        try:
            return self._parse(raw)
        except SessionFileError as exc:
            log.warning(
                "%s session file %s is unusable (%s); ignored: a fresh login will be made",
                self.vendor,
                self.path,
                exc,
            )
            return None

    def _parse(self, raw: bytes) -> StoredSession:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise SessionFileError("not JSON") from None
        if not isinstance(data, dict):
            raise SessionFileError("not a JSON object")
        if data.get("version") != VERSION:
            raise SessionFileError("unknown version")
        if data.get("account") != self.account:
            raise SessionFileError("written for another account or base URL")
        access = _text_or_none(data, "access_token")
        refresh = _text_or_none(data, "refresh_token")
        expires = _number(data, "access_expires_at")
        refused_until = _number(data, "refused_until")
        reason = data.get("refused_reason", "")
        if not isinstance(reason, str):
            raise SessionFileError("refused_reason is not text")
        calls = data.get("auth_calls", [])
        if not isinstance(calls, list):
            raise SessionFileError("auth_calls is not a list")
        ledger: list[tuple[float, AuthKind]] = []
        for call in calls:
            if (
                not isinstance(call, list)
                or len(call) != 2
                or not isinstance(call[0], int | float)
                or isinstance(call[0], bool)
                or call[1] not in ("login", "refresh")
            ):
                raise SessionFileError("auth_calls holds an entry that is not [time, kind]")
            ledger.append((float(call[0]), str(call[1])))
        return StoredSession(access, expires, refresh, ledger, refused_until, reason)

    def save(self, session: StoredSession, *, keep_s: float) -> None:
        """Write ``session`` (0600, folder 0700), keeping ledger entries of the last
        ``keep_s`` seconds. A failure is logged and leaves the old file: the process
        goes on with its session in memory, as if nothing were kept."""
        now = time.time()
        body: dict[str, Any] = {
            "version": VERSION,
            "account": self.account,
            "access_token": session.access_token,
            "access_expires_at": session.access_expires_at,
            "refresh_token": session.refresh_token,
            "auth_calls": [[at, kind] for at, kind in session.calls_since(now - keep_s)],
            "refused_until": session.refused_until,
            "refused_reason": session.refused_reason,
        }
        data = json.dumps(body, sort_keys=True).encode()
        tmp = self.folder / f".{self.path.name}.{os.getpid()}.{id(session):x}.tmp"
        try:
            self._make_folder()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            log.warning(
                "%s session file %s could not be written (%s); the session is kept in "
                "this process only",
                self.vendor,
                self.path,
                exc.strerror or type(exc).__name__,
            )

    def _make_folder(self) -> None:
        """The state folder and any missing parent, each made 0700; the folder itself is
        set to 0700 even if it existed (it is ours, and holds tokens)."""
        missing: list[Path] = []
        folder = self.folder
        while not folder.exists():
            missing.append(folder)
            if folder.parent == folder:
                break
            folder = folder.parent
        for part in reversed(missing):
            with contextlib.suppress(FileExistsError):
                part.mkdir(mode=0o700)
        os.chmod(self.folder, 0o700)

    # ----- between processes ----------------------------------------------------------
    @contextlib.asynccontextmanager
    async def locked(self, timeout_s: float) -> AsyncIterator[bool]:
        """Hold the account's lock (yields True), waiting at most ``timeout_s`` for
        another process that holds it; past that, or when the lock file cannot be
        opened, yields False (logged): the caller goes on unlocked, as the ledger still
        keeps it within the venue's budget, and an emergency stop must not wait on a hung
        process. Cancellation-safe: the lock is released however the block ends."""
        try:
            self._make_folder()
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            log.warning(
                "%s session lock %s cannot be opened (%s); going on without it",
                self.vendor,
                self.lock_path,
                exc.strerror or type(exc).__name__,
            )
            yield False
            return
        try:
            held = await _flock(fd, timeout_s)
            if not held:
                log.warning(
                    "%s session lock %s is held by another process for over %.0f s; "
                    "going on without it",
                    self.vendor,
                    self.lock_path,
                    timeout_s,
                )
            yield held
        finally:
            os.close(fd)  # closing the descriptor releases the flock


async def _flock(fd: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
        except OSError:
            return False  # a file system without locks: go on unlocked
        await asyncio.sleep(LOCK_POLL_S)  # another process is logging in: poll, never block


def _text_or_none(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise SessionFileError(f"{key} is not text")
    return value


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0.0)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise SessionFileError(f"{key} is not a number")
    return float(value)
