"""The emergency stop is found without the help screen: in the footer while it may run,
and by name in the command palette (a new operator's first look, at 3 a.m.)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot

from console.tui.app import ConsoleApp
from console.tui.kill.kill_modal import KillScreen
from console.tui.textual_compat.footer import FooterKey
from tests.tui.fakes import FakeClock, FakeVenue, fake_session
from tests.tui.pilot_support import wait_for

SIZE = (80, 24)  # the smallest supported terminal: the key must still fit


def footer_words(app: ConsoleApp) -> list[str]:
    return [f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)]


def danger_keys(app: ConsoleApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey) if key.has_class("-danger")]


@asynccontextmanager
async def read_only_console(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> AsyncIterator[tuple[ConsoleApp, Pilot[None]]]:
    """A read-only profile's console at 80x24, its first panel's rows shown."""
    session = fake_session(tmp_path, clock, venues, readonly=True)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        yield app, pilot


async def test_the_footer_shows_the_kill_key_only_while_control_is_live(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    async with read_only_console(tmp_path, clock, venues) as (app, pilot):
        assert "K EMERGENCY STOP" not in footer_words(app)  # read-only: K only explains itself
        await pilot.press("a")
        await wait_for(pilot, lambda: danger_keys(app) == ["EMERGENCY STOP"], "K in the footer")
        assert footer_words(app)[-1] == "K EMERGENCY STOP"  # after the panel's keys
        key = next(k for k in app.screen.query(FooterKey) if k.has_class("-danger"))
        assert key.region.right <= SIZE[0]  # whole on screen at 80 columns, not cut
        await pilot.press("a")  # disarmed: out again
        await wait_for(pilot, lambda: danger_keys(app) == [], "K gone from the footer")


async def test_the_palette_names_the_emergency_stop_and_opens_the_kill_modal(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    async with read_only_console(tmp_path, clock, venues) as (app, pilot):
        titles = [c.title for c in app.palette_commands()]
        assert not any("EMERGENCY" in t for t in titles)  # read-only: not offered
        assert any(t.startswith("Journal (audit)") for t in titles)
        assert not any(t.startswith("Last emergency stop") for t in titles)  # none yet
        await pilot.press("a")
        await pilot.press("ctrl+p", *"emergency", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KillScreen), "the kill modal")
        assert venues["55tech"].executed == []  # opened, nothing sent
