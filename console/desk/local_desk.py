"""A whole desk on one machine: a nats-server from the wheel and a hub process, for a demo.

``trading-console demo --desk`` (the command's wiring is the CLI's) starts the simulator
as today, then a :class:`LocalDesk` on its profile: the server (127.0.0.1, a free port,
JetStream in the run's folder) and ``trading-console hub`` as a child process — the one
venue login — and writes ``desk.json`` (0600) in the run's folder: the server's URL and
each operator's NATS user and password, which a console or CLI attaching to the desk
reads. The operators are the OS user (as a subject token) and any names given.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.desk.connect import PASSWORD_ENV
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER

DESK_FILE = "desk.json"
_SERVING = "serving on"
_START_TIMEOUT_S = 60.0


def os_operator() -> str:
    """The OS user as a NATS user name (letters, digits, ``_`` and ``-``)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", user)[:64] or "operator"


def read_desk_file(folder: Path) -> dict[str, Any]:
    """``desk.json`` of a local desk: {"url", "profile", "users": {name: password}}."""
    data: dict[str, Any] = json.loads((folder / DESK_FILE).read_text())
    return data


@dataclass
class LocalDesk:
    """The server and the hub of ``profile`` (its config at ``config``), state in ``folder``."""

    config: Path
    profile: str
    folder: Path
    operators: Sequence[str] = ()
    server: LocalNats | None = None
    hub: subprocess.Popen[bytes] | None = None
    hub_log: Path | None = None
    _users: list[str] = field(default_factory=list)

    def start(self) -> LocalDesk:
        """Start the server and the hub (both stopped again when either fails to start)."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        users = dict.fromkeys([os_operator(), *self.operators])
        self.server = LocalNats(self.profile, {u: None for u in users},
                                store_dir=self.folder / "nats").start()  # fmt: skip
        self._write_desk_file()
        self.hub_log = self.folder / "hub.log"
        env = {**os.environ, PASSWORD_ENV: self.server.passwords[HUB_USER]}
        with self.hub_log.open("w") as log:
            self.hub = subprocess.Popen(
                [sys.executable, "-m", "console", "--config", str(self.config), "--profile",
                 self.profile, "hub", "--nats", self.server.url, "--user", HUB_USER,
                 "--exit-on-stdin-eof"],
                stdin=subprocess.PIPE, stdout=log, stderr=log, env=env,
            )  # fmt: skip

    async def wait_serving(self, timeout_s: float = _START_TIMEOUT_S) -> None:
        """Until the hub says it serves (its log), or RuntimeError when it ended first."""
        assert self.hub is not None and self.hub_log is not None
        async with asyncio.timeout(timeout_s):
            while _SERVING not in self.hub_log.read_text(errors="replace"):
                if self.hub.poll() is not None:
                    raise RuntimeError(f"the hub exited ({self.hub.returncode}); see "
                                       f"{self.hub_log}")  # fmt: skip
                await asyncio.sleep(0.05)

    def _write_desk_file(self) -> None:
        assert self.server is not None
        users = {u: pw for u, pw in self.server.passwords.items() if u != HUB_USER}
        data = {"url": self.server.url, "profile": self.profile, "users": users}
        path = self.folder / DESK_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)

    def stop(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None and hub.poll() is None:
            hub.terminate()  # SIGTERM: the hub closes its venues and exits 0
            try:
                hub.wait(20)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait()
        if hub is not None and hub.stdin is not None:
            hub.stdin.close()  # (the hub's end-of-stdin watch: it ends with this process)
        if self.server is not None:
            self.server.stop()
            self.server = None
        with contextlib.suppress(OSError):
            (self.folder / DESK_FILE).unlink()
