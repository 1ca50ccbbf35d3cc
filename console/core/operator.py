"""Who is at the keyboard: OS user, host and, over SSH, the client's address."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operator:
    user: str
    host: str
    ssh_client: str | None = None

    def __str__(self) -> str:
        where = f" via ssh from {self.ssh_client}" if self.ssh_client else ""
        return f"{self.user}@{self.host}{where}"

    @classmethod
    def current(cls) -> Operator:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = f"uid{os.getuid()}"
        ssh = os.environ.get("SSH_CLIENT") or os.environ.get("SSH_CONNECTION")
        # SSH_CLIENT is "addr port localport": only the address identifies the operator.
        return cls(user=user, host=socket.gethostname(), ssh_client=ssh.split()[0] if ssh else None)
