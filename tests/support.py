"""Test helpers shared by venue, core and TUI tests."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from console.core.model import AttrValue, State, Target
from console.sim.server import SimServer
from console.venues.kit.base import FeedStatus, RateLimit, Secret, VenueSettings


def settings_for(sim: SimServer, api: str, **overrides: Any) -> VenueSettings:
    """VenueSettings pointing at the simulated ``api`` with its demo credentials.

    The simulator's rate windows are mirrored (``rate_scale``) so client pacing matches.
    """
    entry = next(e for e in sim.venue_entries() if e["api"] == api)
    fields: dict[str, Any] = {
        "name": api,
        "api": api,
        "base_url": entry["base_url"],
        "ws_url": entry.get("ws_url"),
        "credentials": {k: Secret(v) for k, v in entry["credentials"].items()},
        "poll_interval_s": 0.2,
        "request_timeout_s": 3.0,
        "control_timeout_s": 3.0,
        "rate_scale": sim.knobs(api).rate_scale,
    }
    fields.update(overrides)
    return VenueSettings(**fields)


# The simulator's control endpoints are plain HTTP on loopback: no certificate store to
# load (httpx loads it for every call it makes without ``verify=False``: 25 ms of CPU a
# call, ~12 s over the venue tests' ~600 calls).
_PLAIN: dict[str, Any] = {"trust_env": False, "verify": False}


def set_knobs(sim: SimServer, api: str, **knobs: Any) -> None:
    """Change a simulated vendor's knobs over its real ``/_sim/knobs`` endpoint."""
    r = httpx.post(f"{sim.root_url(api)}/_sim/knobs", json=knobs, **_PLAIN)
    r.raise_for_status()


def sim_admin(sim: SimServer, api: str, command: str, **args: Any) -> Any:
    r = httpx.post(f"{sim.root_url(api)}/_sim/admin/{command}", json=args, **_PLAIN)
    r.raise_for_status()
    return r.json()


def default_signals() -> None:
    """A subprocess's ``preexec_fn``: SIGINT and SIGHUP at their defaults, whatever this
    process inherited. A test that signals its subprocess must not depend on how the
    suite was started: a shell's background job ignores SIGINT (measured: xdist's
    workers of a `.ci/run &` had SIGINT ignored, and Ctrl-C never reached the command
    under test); ``nohup`` ignores SIGHUP. Ignored signals are inherited across exec."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def journal_notes(journal: Path, action: str) -> int:
    """The journal's notes of ``action``, read as another process reads it while the
    console writes (WAL: no lock, nothing written)."""
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        (n,) = db.execute(
            "SELECT count(*) FROM entries WHERE kind = 'note' AND action = ?", (action,)
        ).fetchone()
    return int(n)


def sim_counters(sim: SimServer, api: str) -> dict[str, int]:
    r = httpx.get(f"{sim.root_url(api)}/_sim/counters", **_PLAIN)
    r.raise_for_status()
    return dict(r.json())


class RecordingSink:
    """A FeedSink that keeps everything and lets a test await a condition on it."""

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], Target] = {}
        self.snapshots = 0
        self.healths: list[tuple[str, FeedStatus, str]] = []
        self.events = 0
        self.patches: list[tuple[str, str, State | None, Mapping[str, AttrValue] | None]] = []
        self._changed = asyncio.Event()

    def _poke(self) -> None:
        self._changed.set()

    def snapshot(self, venue: str, targets: Iterable[Target]) -> None:
        for key in [k for k in self.targets if k[0] == venue]:
            del self.targets[key]
        for t in targets:
            self.targets[t.key] = t
        self.snapshots += 1
        self._poke()

    def upsert(self, targets: Iterable[Target]) -> None:
        for t in targets:
            self.targets[t.key] = t
        self._poke()

    def patch(
        self,
        venue: str,
        target_id: str,
        *,
        state: State | None = None,
        raw_status: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
        confirms: bool = True,
    ) -> None:
        self.patches.append((venue, target_id, state, attrs))
        current = self.targets.get((venue, target_id))
        if current is not None:
            merged = {**current.attrs, **(attrs or {})}
            self.targets[current.key] = Target(
                current.venue,
                current.kind,
                current.id,
                current.name,
                state or current.state,
                raw_status or current.raw_status,
                merged,
            )
        self._poke()

    def health(self, venue: str, status: FeedStatus, detail: str = "") -> None:
        self.healths.append((venue, status, detail))
        self._poke()

    def count_events(self, venue: str, n: int = 1) -> None:
        self.events += n
        self._poke()

    @property
    def statuses(self) -> list[FeedStatus]:
        return [h[1] for h in self.healths]

    async def wait_for(
        self, predicate: Callable[[RecordingSink], bool], timeout: float = 10
    ) -> None:
        """Wait (event-driven, not by sleeping) until ``predicate(self)`` holds."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()


__all__ = ["RateLimit", "RecordingSink", "set_knobs", "settings_for", "sim_admin"]


async def stopped_by(proc: asyncio.subprocess.Process, sig: int, reader: Awaitable[object]) -> int:
    """Send ``sig`` to ``proc``: its exit code once it has exited and ``reader`` (what
    reads its output) has ended."""
    proc.send_signal(sig)
    code = await asyncio.wait_for(proc.wait(), 60)
    await asyncio.wait_for(reader, 10)
    return code


async def kill_if_running(proc: asyncio.subprocess.Process) -> None:
    """A test's process left running (the test failed first) is killed and waited for."""
    if proc.returncode is None:
        proc.kill()
        await proc.wait()
