"""Live data: keyed redraws, staleness, a venue down, the global banner, the slot gauge."""

from __future__ import annotations

from dataclasses import replace

import pytest
from textual.css.query import NoMatches

from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.screens.main import MainScreen
from console.tui.widgets.banner import GlobalBanner
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import cell, wait_for

SIZE = (120, 40)


def freshness(app: ConsoleApp) -> str:
    return str(app.active_panel.query_one("#freshness").render())


async def test_a_changed_target_updates_its_row_in_place(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "profit") == "1,234.50")
        table = app.active_panel.table
        rows_before = table.ordered_keys()
        a1 = venues["x3algo"].targets["a1"]
        venues["x3algo"].targets["a1"] = replace(a1, attrs={**a1.attrs, "profit": 99.0})
        venues["x3algo"].poke()
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "profit") == "99.00")
        assert sorted(table.ordered_keys()) == sorted(rows_before)


async def test_stale_data_reads_unknown_with_its_age_and_recovers(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "status") == "ACTIVE")
        clock.now += 42
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "status") == "UNKNOWN", "UNKNOWN")
        assert "STALE — x3algo data 42 s old" in freshness(app)
        assert "2 Algos !" in str(app.query_one("#panels").get_tab("pane-algorithm").label)
        venues["x3algo"].poke()  # the venue speaks again
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "status") == "ACTIVE", "recovered")


async def test_a_venue_down_says_so_in_its_words_and_the_rest_keeps_working(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED")
        venues["pipai"].down = "HTTP 502 from PipAI: <html>Bad Gateway</html>"
        venues["pipai"].poke()
        await wait_for(pilot, lambda: "feed down: HTTP 502 from PipAI" in freshness(app))
        # last known, still young, marked with its age the moment the feed is DOWN
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED 0s?")
        assert "pipai DOWN" in str(app.header.venue_line())
        clock.now += 31
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "UNKNOWN")
        assert "STALE — pipai data 31 s old — feed down: HTTP 502 from PipAI" in freshness(app)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "engine")
        venues["55tech"].poke()
        await wait_for(pilot, lambda: cell(app, "55tech/acme", "status") == "LIVE")


async def test_global_block_shows_a_banner_on_every_panel(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        banner = app.screen.query_one(GlobalBanner)
        assert not banner.display
        for tid, target in venues["55tech"].targets.items():
            venues["55tech"].targets[tid] = replace(
                target,
                attrs={
                    **target.attrs,
                    "emergency": True,
                    "system_blocked": True,
                    "system_reason": "exchange outage",
                    "system_duration_s": 252,
                },
            )
        venues["55tech"].poke()
        await wait_for(pilot, lambda: banner.display, "banner")
        text = str(banner.render())
        assert "GLOBAL BLOCK on 55tech: EMERGENCY" in text and "exchange outage" in text
        assert "for 4m12s" in text
        await pilot.press("5")
        assert banner.display


async def test_expiration_pause_is_known_from_here_and_snipers_show_slots(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 2)
        key = app.active_panel.table.cursor_key or ""
        assert cell(app, key, "state") == "UNKNOWN"
        assert cell(app, key, "known") == "unknown"
        await pilot.press("P", "y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: cell(app, key, "state") == "PAUSED", "PAUSED")
        assert cell(app, key, "known").startswith("set here ")
        assert cell(app, key, "known").endswith(" by alice")
        await pilot.press("5")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        gauge = str(app.active_panel.query_one("#gauge").render())
        assert "2 of 5 slots used" in gauge


async def test_the_first_rows_tick_during_a_quit_does_not_raise(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quit before the first rows: the fast first-paint tick may fire after the tabs
    were taken down (seen once in a loaded suite: NoMatches 'TabbedContent' from a timer,
    a traceback on the way out). It stops quietly instead."""

    def tabs_gone(screen: MainScreen) -> None:
        raise NoMatches(f"No nodes match 'TabbedContent' on {screen!r}")

    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE):
        with monkeypatch.context() as patch:  # only for this one call, as the timer makes it
            patch.setattr(MainScreen, "active_panel", property(tabs_gone))
            app.redraw._until_first_rows()  # no raise
