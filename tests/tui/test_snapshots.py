"""Snapshots (frozen clock, fixed data, no feed tasks) of every screen the operator meets.

Most are taken at 80x24 with the SSH-sized terminal in mind: nothing essential may be
cut off there; the main screen also at 200x60 (every column, the detail pane, event
rates in the header) and in every shipped theme. Regenerate with
``pytest -n 0 tests/tui/test_snapshots.py --snapshot-update`` after a deliberate change, and
look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog

from console.core.model import Outcome, OutcomeKind
from console.tui.app import ConsoleApp
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FROZEN, FakeClock, fake_session, fake_venues, preload
from tests.tui.pilot_support import wait_for

SSH = (80, 24)
WIDE = (120, 32)
BIG = (200, 60)
SHIPPED_THEMES = ["trading-dark", "trading-light", "trading-high-contrast", "trading-ansi16"]

Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def colour_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR in the shell running pytest would draw every snapshot in trading-ansi16."""
    monkeypatch.delenv("NO_COLOR", raising=False)


def make_app(
    tmp_path: Path,
    *,
    readonly: bool = False,
    setup: Callable[..., Any] | None = None,
    label: str = "DEMO",
    colour: str = "warning",
    theme: str | None = None,
) -> ConsoleApp:
    """An app over fake venues, frozen at 2026-01-01T00:00:00Z, data loaded, feeds off."""
    clock = FakeClock()
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues, readonly=readonly, label=label, colour=colour)
    if setup is not None:
        setup(session, venues, clock)
    else:
        preload(session, venues)
    return ConsoleApp(session, session.control, clock=clock, start_feeds=False, theme=theme)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    pilot.app.tick()  # type: ignore[attr-defined]
    await pilot.pause()


@pytest.mark.parametrize("panel", ["1", "2", "3", "4", "5"])
def test_each_panel_at_80x24(snap_compare: Snap, tmp_path: Path, panel: str) -> None:
    assert snap_compare(make_app(tmp_path), press=[panel], terminal_size=SSH, run_before=settle)


@pytest.mark.parametrize("size", [SSH, BIG], ids=["80x24", "200x60"])
@pytest.mark.parametrize("theme", SHIPPED_THEMES)
def test_main_screen_in_every_theme(
    snap_compare: Snap, tmp_path: Path, theme: str, size: tuple[int, int]
) -> None:
    app = make_app(tmp_path, theme=theme)
    assert snap_compare(app, press=["2"], terminal_size=size, run_before=settle)


def test_confirm_one_target(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path, label="PROD", colour="error")
    assert snap_compare(app, press=["P"], terminal_size=SSH, run_before=settle)


def test_confirm_selection_needs_the_count(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(
        make_app(tmp_path), press=["2", "v", "X"], terminal_size=SSH, run_before=settle
    )


def test_confirm_pause_with_close_positions_switch(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path), press=["3", "P"], terminal_size=WIDE, run_before=settle)


def test_help_screen(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(
        make_app(tmp_path), press=["question_mark"], terminal_size=(80, 40), run_before=settle
    )


def test_read_only_mode(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(make_app(tmp_path, readonly=True), terminal_size=SSH, run_before=settle)


def test_armed_countdown(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path, readonly=True)

    async def arm_then_wait(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("a")
        app.clock.now += 61  # type: ignore[attr-defined]
        preload(app.state, fake_venues())  # the venues spoke again meanwhile
        app.clear_notifications()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SSH, run_before=arm_then_wait)


def _pipai_down(session: Any, venues: Any, clock: FakeClock) -> None:
    clock.now = FROZEN - 42
    session.store.snapshot("pipai", venues["pipai"].targets.values())
    clock.now = FROZEN
    others = {k: v for k, v in venues.items() if k != "pipai"}
    preload(session, others)
    session.store.health("pipai", FeedStatus.DOWN, "HTTP 503 from PipAI: upstream maintenance")


def test_venue_down_and_stale(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path, setup=_pipai_down)
    assert snap_compare(app, press=["3"], terminal_size=SSH, run_before=settle)


def _global_block(session: Any, venues: Any, clock: FakeClock) -> None:
    for tid, target in venues["55tech"].targets.items():
        venues["55tech"].targets[tid] = replace(
            target,
            attrs={
                **target.attrs,
                "emergency": True,
                "status_words": "EMERGENCY",
                "system_blocked": True,
                "system_reason": "exchange outage",
                "system_duration_s": 252,
            },
        )
    preload(session, venues)


def test_global_block_banner(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path, setup=_global_block)
    assert snap_compare(app, terminal_size=SSH, run_before=settle)


def test_failed_action_outcome(snap_compare: Snap, tmp_path: Path) -> None:
    def failing(session: Any, venues: Any, clock: FakeClock) -> None:
        venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable")
        preload(session, venues)

    app = make_app(tmp_path, setup=failing)

    async def stop_and_wait(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("2", "X", "y")
        # The confirmed plan runs in a worker that may not have started yet: wait for its
        # report (every outcome and its re-read), not for whatever workers exist now.
        await wait_for(pilot, lambda: app.last_report is not None, "the stop's report")
        await app.workers.wait_for_complete()
        app.clear_notifications()
        await settle(pilot)
        log = app.query_one("#outcome-log", RichLog)
        # Three lines (the failure wraps) in a log two lines tall once the progress line
        # above it has wrapped too: wait for that layout, then for the log at its end.
        await wait_for(
            pilot, lambda: 0 < log.max_scroll_y <= log.scroll_y, "the log scrolled to its end"
        )

    assert snap_compare(app, terminal_size=WIDE, run_before=stop_and_wait)
