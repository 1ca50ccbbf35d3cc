"""What automation decided without sending anything: skips, alert-only guards, the
dead-man's warning, missed runs, runs and their reports.

Control calls are in the journal (operator ``schedule:<name>``, ``guard:<name>`` or
``deadman``), and so are skips (who skipped which run and why) and guards that only
alert (the values that fired them), as ``note`` rows in its hash chain: the journal is
the record. This log keeps every automation event in one place for the console's
automation screen and ``trading-console automation`` — those too, and what is not a
journal row (missed runs, the dead-man's warning, each run's record): JSON lines, one
file per profile beside the kill lock (``<journal>.<profile>.automation.jsonl``, 0600). Writing never
raises (a full disk is logged); an in-memory journal keeps the events in memory.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from pathlib import Path
from typing import Any

from console.core.journal_rows import iso_ms
from console.core.scrub import scrub_shapes

log = logging.getLogger(__name__)


def eventlog_path(journal_path: Path | str, profile: str) -> Path | None:
    if str(journal_path) == ":memory:":
        return None
    path = Path(journal_path)
    return path.parent / f"{path.name}.{profile}.automation.jsonl"


class EventLog:
    def __init__(self, path: Path | None, *, keep: int = 200) -> None:
        self.path = path
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)

    def write(self, at: float, event: str, who: str, **fields: Any) -> dict[str, Any]:
        """Record ``event`` by ``who`` at ``at`` (UNIX seconds); free text is scrubbed."""
        row: dict[str, Any] = {"time": iso_ms(int(at * 1000)), "at": at, "event": event,
                               "who": who}  # fmt: skip
        for key, value in fields.items():
            row[key] = scrub_shapes(value) if isinstance(value, str) else value
        self.recent.append(row)
        if self.path is not None:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a") as f:
                    f.write(json.dumps(row, sort_keys=True, default=str) + "\n")
            except OSError as exc:
                log.warning("automation event log %s: %s (event %s kept in memory)",
                            self.path, exc, event)  # fmt: skip
        return row

    def read(self) -> list[dict[str, Any]]:
        """Every event in the file (a line cut short is skipped), else what is in memory."""
        if self.path is None:
            return list(self.recent)
        rows = []
        try:
            with self.path.open() as f:
                for line in f:
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        continue
        except OSError:
            return list(self.recent)
        return rows
