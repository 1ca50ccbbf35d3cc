"""The TUI tests' names for the demo world (``console/demo/world.py``).

The in-memory venue, the frozen clock, the fixed worlds and the session on them live in
the package, because ``trading-console screenshots`` draws the same world; here they
keep the names the tests use (``FakeVenue``, ``FakeClock``, ``fake_session`` …).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from console.core.session import Session
from console.demo.venue import MemoryVenue
from console.demo.world import FROZEN, algorithms, demo_session, memory_venues, preload
from console.demo.world import FrozenClock as FakeClock

FakeVenue = MemoryVenue


def fake_venues(at: float = FROZEN) -> dict[str, FakeVenue]:
    return memory_venues(at)


def fake_session(
    tmp_path: Path,
    clock: FakeClock,
    venues: Mapping[str, FakeVenue],
    *,
    readonly: bool = False,
    label: str = "TEST",
    colour: str = "warning",
) -> Session:
    return demo_session(
        tmp_path / "journal.sqlite3", clock, venues, readonly=readonly, label=label, color=colour
    )


__all__ = [
    "FROZEN",
    "FakeClock",
    "FakeVenue",
    "algorithms",
    "fake_session",
    "fake_venues",
    "preload",
]
