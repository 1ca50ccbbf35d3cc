"""The overview's threshold is a profile setting (issue 12, item 12): ``overview_from =
[100, 30]`` in a profile makes a 100×30 terminal show the five cards as a strip above
the panels, where the default (160×45) keeps them on tab ``0``."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from console.cli.main import session_options
from console.config import load_profile
from console.demo.world import demo_session
from console.tui.app import ConsoleApp
from console.tui.screens.main import OVERVIEW_PANE
from console.tui.widgets.overview import Overview
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for


def app_for(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue], toml: str
) -> ConsoleApp:
    """The console on ``venues`` with the options a profile of ``toml`` gives."""
    path = tmp_path / "config.toml"
    path.write_text("[profiles.p]\n" + toml)
    options = session_options(load_profile(path, "p"))
    session = demo_session(
        tmp_path / "journal.sqlite3", clock, venues, overview_from=options.overview_from
    )
    return ConsoleApp(session, session.control, clock=clock)


def strip_shown(app: ConsoleApp) -> bool:
    return app.main.overview_strip and app.main.query_one("#overview", Overview).display


async def test_overview_from_in_the_profile_moves_the_threshold(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    app = app_for(tmp_path, clock, venues, "overview_from = [100, 30]\n")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count > 0, "the first panel")
        assert strip_shown(app)
        tabs = app.main.query_one(TabbedContent)
        assert tabs.get_tab(OVERVIEW_PANE).display is False  # the strip is the overview
        await pilot.resize_terminal(99, 30)  # one column short of the setting: tab 0
        await wait_for(pilot, lambda: not app.main.overview_strip, "the overview back on tab 0")
        assert tabs.get_tab(OVERVIEW_PANE).display is True


async def test_without_the_setting_100x30_keeps_the_overview_on_tab_0(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    app = app_for(tmp_path, clock, venues, "")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count > 0, "the first panel")
        assert not app.main.overview_strip
        assert app.main.query_one(TabbedContent).get_tab(OVERVIEW_PANE).display is True
