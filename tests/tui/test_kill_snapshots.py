"""Snapshots of the kill modal, the kill report and the audit screen (frozen clock, fakes).

Regenerate with ``pytest -n 0 tests/tui/test_kill_snapshots.py --snapshot-update`` after a
deliberate change, and look at the SVGs before committing them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from console.cli.screenshots import pinned
from console.core.model import Outcome, OutcomeKind
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FROZEN, FakeClock, FakeVenue, preload
from tests.tui.test_kill_support import fake_kill_session, killable_venues, make_app

SSH = (80, 24)
WIDE = (120, 32)

Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def _pinned_journal() -> Iterator[None]:
    """Journal stamps and ids counted, as the screenshots pin them: the kill report shows
    the journal's chain head, which hashes them."""
    with pinned():
        yield


def kill_app(
    tmp_path: Path,
    venues: dict[str, FakeVenue] | None = None,
    setup: Callable[[Any, dict[str, FakeVenue], FakeClock], None] | None = None,
) -> Any:
    clock = FakeClock()
    venues = venues or killable_venues()
    session = fake_kill_session(tmp_path, clock, venues, color="error")
    (setup or (lambda s, v, c: preload(s, v)))(session, venues, clock)
    return make_app(session, clock=clock, start_feeds=False)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    pilot.app.tick()  # type: ignore[attr-defined]
    await pilot.pause()


def test_kill_modal_at_80x24(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(kill_app(tmp_path), press=["K"], terminal_size=SSH, run_before=settle)


def _stale_and_unreachable(session: Any, venues: dict[str, FakeVenue], clock: FakeClock) -> None:
    clock.now = FROZEN - 42
    session.store.snapshot("pipai", venues["pipai"].targets.values())
    clock.now = FROZEN
    preload(session, {k: v for k, v in venues.items() if k not in ("pipai", "finradar")})
    session.store.health("pipai", FeedStatus.DOWN, "HTTP 503 from PipAI: upstream maintenance")
    session.store.health("finradar", FeedStatus.DOWN, "connection refused")


def test_kill_modal_names_stale_and_unreachable_venues(snap_compare: Snap, tmp_path: Path) -> None:
    app = kill_app(tmp_path, setup=_stale_and_unreachable)
    assert snap_compare(app, press=["K"], terminal_size=WIDE, run_before=settle)


def _failing_kill(tmp_path: Path) -> Any:
    venues = killable_venues()
    venues["x3algo"].fail["a1"] = Outcome(
        OutcomeKind.FAILED, "HTTP 503: upstream unavailable", 503, 12.0
    )
    return kill_app(tmp_path, venues)


async def _kill(pilot: Pilot[None]) -> None:
    app: Any = pilot.app
    await settle(pilot)
    await pilot.press("K", *"DEMO", "enter")
    await app.workers.wait_for_complete()
    app.clear_notifications()
    await settle(pilot)
    app.screen.refresh_view()
    await pilot.pause()


def test_kill_report_with_a_failure(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(_failing_kill(tmp_path), terminal_size=WIDE, run_before=_kill)


def test_audit_screen_after_a_kill(
    snap_compare: Snap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count(int(FROZEN * 1000))
    monkeypatch.setattr("console.core.journal.now_ms", lambda: next(ticks))

    async def kill_then_audit(pilot: Pilot[None]) -> None:
        await _kill(pilot)
        await pilot.press("escape", "u")  # from the panels: the whole journal, no batch id
        await settle(pilot)

    assert snap_compare(_failing_kill(tmp_path), terminal_size=WIDE, run_before=kill_then_audit)
