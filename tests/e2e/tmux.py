"""A real terminal for end-to-end tests: tmux with send-keys and capture-pane."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

TMUX = shutil.which("tmux")
ROOT = Path(__file__).resolve().parents[2]


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Config, data and state under ``tmp_path``; the checkout importable."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PYTHONPATH": str(ROOT),
    }


class Tmux:
    """One tmux server (private socket) running one command in a fixed-size window."""

    def __init__(
        self, command: str, *, width: int, height: int, env: Mapping[str, str], cwd: Path
    ) -> None:
        assert TMUX is not None
        self.socket = f"tc-e2e-{uuid.uuid4().hex[:8]}"
        # pytest sets COLUMNS (and Textual obeys it over the real size): the pane's size wins.
        sized = {**env, "COLUMNS": str(width), "LINES": str(height)}
        exports = " ".join(f"{k}={_quote(v)}" for k, v in sized.items())
        # Keep the pane after the command exits, so its last screen can still be read.
        self._tmux("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
                   "-c", str(cwd), f"env {exports} {command}")  # fmt: skip
        self._tmux("set-option", "-t", "main", "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def screen(self, *, escapes: bool = False) -> str:
        """The pane's text; with ``escapes``, also the SGR codes of its colours and styles."""
        return self._tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "main")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self._tmux("send-keys", "-t", "main", key)

    def wait_for(
        self, predicate: Callable[[str], bool], timeout: float = 30.0, what: str = ""
    ) -> str:
        """Read the screen until ``predicate`` holds (a condition, polled), or fail with it."""
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while not predicate(screen):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what or predicate}; screen:\n{screen}"
                )
            time.sleep(0.05)  # polling interval of the condition, not a synchronisation sleep
            screen = self.screen()
        return screen

    def pane_dead(self) -> bool:
        return self._tmux("display-message", "-p", "-t", "main", "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        self._tmux("kill-server")


def processes_naming(text: object) -> list[str]:
    """Every process whose command line names ``text`` (a run's folder, a config): ``ps
    -ww``, or pytest's ``COLUMNS`` (80) cuts each line before it."""
    out = subprocess.run(
        ["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if str(text) in line and "ps -ww" not in line]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"
