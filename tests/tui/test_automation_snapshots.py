"""A snapshot of the automation screen (issue 14): a schedule with its next run, a guard
that FIRED with its values, the dead-man timer and who acts, on the frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.automation.config import AutomationConfig
from console.automation.runner import AutomationRunner
from console.tui.app import ConsoleApp
from console.tui.screens.automation import AutomationScreen
from tests.tui.fakes import FakeClock, fake_session, fake_venues, preload
from tests.tui.pilot_support import wait_for

Snap = Callable[..., bool]


@pytest.fixture(autouse=True)
def colour_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_automation_screen(snap_compare: Snap, tmp_path: Path) -> None:
    clock = FakeClock()  # 2026-01-01T00:00:00Z
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues, label="DEMO")
    preload(session, venues)
    cfg = AutomationConfig.model_validate({
        "schedules": [{"name": "close", "at": "00:03", "tz": "UTC",
                       "scope": {"venue": "finradar"}, "reason": "market close"}],
        "guards": [{"name": "too-many", "rule": "positions_over", "threshold": 1,
                    "scope": {"venue": "pipai"}}],
        "deadman": {"enabled": True, "hours": "00:00-23:59", "alert_after": 30, "kill_after": 15},
    })  # fmt: skip
    runner = AutomationRunner(session, cfg, clock=clock)
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False, automation=runner)

    async def open_screen(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: bool(runner.guards.states["too-many"].fired), "the guard")
        await pilot.pause()
        app.tick()  # the header drawn in the theme's tones before the screen covers it
        await pilot.pause()
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, AutomationScreen), "the screen")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 40), run_before=open_screen)
