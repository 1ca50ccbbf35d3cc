"""While a venue is DOWN, each row's word carries its own age: a read in part (a page
that failed, one 55-tech key) keeps the venue's age low while the rows it could not read
keep their last word — each said "0s?" of a state a minute old."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from console.core.ports import FeedStatus
from console.tui.app import ConsoleApp
from tests.tui.fakes import FakeClock, fake_session, fake_venues, preload
from tests.tui.pilot_support import cell, wait_for


async def test_rows_a_partial_read_could_not_read_show_their_own_age(tmp_path: Path) -> None:
    clock = FakeClock()
    venues = fake_venues(at=clock.now - 60)  # every target last vouched for a minute ago
    session = fake_session(tmp_path, clock, venues)
    clock.now -= 60
    preload(session, venues)  # the last full lists, a minute ago
    clock.now += 60
    a1 = venues["x3algo"].targets["a1"]
    session.store.upsert([replace(a1, confirmed_at=clock.now)])  # read now, in part:
    session.store.health("x3algo", FeedStatus.DOWN, "x3algo: page 2 answered 500")
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("2")
        app.tick()
        await wait_for(pilot, lambda: cell(app, "x3algo/a2", "status").endswith("?"), "marked")
        assert cell(app, "x3algo/a1", "status").endswith(" 0s?")  # read just now
        assert cell(app, "x3algo/a2", "status").endswith(" 60s?")  # its own minute
        assert cell(app, "x3algo/a3", "status").endswith(" 60s?")
