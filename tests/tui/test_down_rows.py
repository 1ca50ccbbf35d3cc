"""Item 17 of issue 12: a venue whose feed is DOWN marks its rows at once.

The header says DOWN within seconds; the rows must not look live for the 30 s until the
data goes stale: the state cell keeps the last word seen, dimmed, with the data's age
and ``?``; past the stale threshold it reads UNKNOWN, as before.
"""

from __future__ import annotations

from console.core.session import Session
from console.tui.app import ConsoleApp
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import cell, wait_for

SIZE = (120, 40)


async def test_a_down_venues_rows_are_marked_aged_at_once_then_unknown_when_stale(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED")
        venues["pipai"].down = "HTTP 502 from PipAI"
        venues["pipai"].poke()
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED 0s?", "mark")
        shown = app.active_panel.table.get_cell("pipai/s1", "status")
        assert shown.style.dim  # type: ignore[attr-defined]
        clock.now += 7
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED 7s?", "age")
        clock.now += 24
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "UNKNOWN", "stale")


async def test_the_mark_goes_when_the_feed_comes_back(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED")
        venues["pipai"].down = "HTTP 502 from PipAI"
        venues["pipai"].poke()
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status").endswith("?"), "mark")
        venues["pipai"].down = None
        venues["pipai"].poke()
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "status") == "DEPLOYED", "unmarked")
