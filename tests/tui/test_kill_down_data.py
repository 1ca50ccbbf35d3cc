"""The kill confirmation's Data column for a venue whose feed is DOWN (issue 12, item 17
re-walked): SIGSTOP the simulator, K within 30 s, and every venue read "fresh" — the plan
only knew staleness (30 s), not the feed's state (DOWN within seconds)."""

from __future__ import annotations

from textual.widgets import Static

from console.core.session import Session
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for
from tests.tui.test_kill_support import (
    make_app,
    open_kill,
    shown,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)


async def test_the_kill_confirmation_says_down_for_a_venue_down_not_yet_stale(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    """SIGSTOP the simulator, K within 30 s: every DOWN venue's Data read "fresh"."""
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        venues["x3algo"].down = "connection refused"
        venues["x3algo"].poke()
        await wait_for(
            pilot,
            lambda: session.store.venue_health("x3algo").status is FeedStatus.DOWN,
            "x3algo DOWN",
        )
        clock.now += 8  # 8 s without data: DOWN in the header, not stale yet
        assert not session.store.is_stale("x3algo")
        modal = await open_kill(pilot, app)
        lines = shown(modal.query_one("#kill-counts", Static)).splitlines()
        x3 = next(line for line in lines if line.startswith("x3algo"))
        assert "DOWN" in x3 and "fresh" not in x3, x3
        assert "DOWN · 8 s" in x3, x3  # with the age of its last data
        others = [line for line in lines[1:] if not line.startswith("x3algo")]
        assert len(others) == 4 and all(line.rstrip().endswith("fresh") for line in others)
        note = shown(modal.query_one("#kill-stale", Static))
        assert "Feed DOWN: x3algo" in note
        await pilot.press("escape")
