"""The lock that makes one runner per profile the one that acts.

The acting runner holds ``<journal>.<profile>.automation.lock`` for as long as it runs
(the kill lock's class: an OS lock the kernel releases when its holder dies, even by
SIGKILL); another runner of the profile stands by until it is free.
``trading-console automation`` probes it to say who acts.
"""

from __future__ import annotations

from pathlib import Path

from console.core.kill_lock import KillLock, KillLocked


def runner_lock_path(journal_path: Path | str, profile: str) -> Path | None:
    """The lock the acting runner of ``profile`` holds (none for an in-memory journal)."""
    if str(journal_path) == ":memory:":
        return None
    path = Path(journal_path)
    return path.parent / f"{path.name}.{profile}.automation.lock"


def acting_runner(journal_path: Path | str, profile: str) -> str | None:
    """Who acts for ``profile`` now (``trading-console automation``), or None: probes the
    runner lock and lets it go at once."""
    path = runner_lock_path(journal_path, profile)
    if path is None:
        return None
    probe = KillLock(path, profile=profile)
    try:
        probe.acquire()
    except KillLocked as exc:
        return exc.holder
    probe.release()
    return None
