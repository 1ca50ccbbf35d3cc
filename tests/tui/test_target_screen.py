"""Enter on a row opens its detail screen (issue 12, item 14); Esc goes back.

Every attribute, its journal history (this target's rows only) and its P&L trend from
the store, as k9s's describe shows a resource.
"""

from __future__ import annotations

from pathlib import Path

from textual.css.query import NoMatches
from textual.pilot import Pilot

from console.core.model import ActionKind
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.target import TargetScreen
from tests.tui.fakes import FakeClock, FakeVenue, fake_session, fake_venues, preload
from tests.tui.pilot_support import burst, wait_for

SIZE = (120, 40)


async def algorithms(tmp_path: Path) -> tuple[ConsoleApp, Session, dict[str, FakeVenue]]:
    clock = FakeClock()
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    return ConsoleApp(session, session.control, clock=clock, start_feeds=False), session, venues


async def open_detail(app: ConsoleApp, pilot: Pilot[None], rows: str) -> TargetScreen:
    """The first panel's rows drawn (``rows``: which, for a failure's words), Enter on
    the first row: its detail screen."""
    app.tick()
    await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, rows)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetScreen), "detail screen")
    detail = app.screen
    assert isinstance(detail, TargetScreen)
    return detail


def screen_text(app: ConsoleApp) -> str:
    return "\n".join(
        "".join(segment.text for segment in strip)
        for strip in app.screen._compositor.render_strips()
    )


async def test_enter_opens_every_attribute_history_and_trend_and_esc_closes(
    tmp_path: Path,
) -> None:
    app, session, venues = await algorithms(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "algorithm")
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "algorithms")
        first = app.active_panel.cursor_target()
        assert first is not None and first.state.value == "running"
        # Stop the cursor row: its journal history is what the detail screen must show.
        await pilot.press("X")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert [(t, a.kind) for t, a in venues["x3algo"].executed] == [(first.id, ActionKind.STOP)]

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TargetScreen), "detail screen")
        detail = app.screen
        assert isinstance(detail, TargetScreen)
        await pilot.pause()
        text = screen_text(app)
        assert f"x3algo / {first.name}" in text
        for name, value in first.attrs.items():  # every attribute, by name
            assert name in text, name
            assert value is None or str(value)[:8] in text or isinstance(value, tuple), name
        assert first.id in text
        # The trend: every sample of the store's trail, the latest change, the range.
        trail = session.store.pnl_history("x3algo", first.id)
        assert len(trail) >= 2
        assert f"{len(trail)} samples, oldest first" in text
        assert "low " in text and "high " in text
        # The journal history: this target's intent, outcome and re-read, newest first.
        rows = [e for e in session.journal.entries(venue="x3algo") if e.target_id == first.id]
        assert {e.kind for e in rows} >= {"intent", "outcome", "verify"}
        assert f"Journal history ({len(rows)} rows, newest first)" in text
        assert "APPLIED" in text and "stop" in text

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TargetScreen), "closed")
        assert app.screen is app.main

        # Another row: nothing of the first target's history.
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TargetScreen), "second detail")
        second = app.screen
        assert isinstance(second, TargetScreen) and second.target.id != first.id
        await pilot.pause()
        text = screen_text(app)
        assert "Journal history (0 rows, newest first)" in text
        assert "nothing journaled for this target" in text
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is app.main, "q goes back")


async def test_the_detail_screen_offers_no_control_key(tmp_path: Path) -> None:
    """It only looks: X there opens nothing (a plan comes from the panel's rows)."""
    app, _, venues = await algorithms(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "algorithms")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TargetScreen), "detail screen")
        await pilot.press("X", "P", "S")
        await pilot.pause()
        assert isinstance(app.screen, TargetScreen)
        assert all(not v.executed for v in venues.values())


async def test_a_target_gone_from_its_venue_says_so(tmp_path: Path) -> None:
    app, session, _ = await algorithms(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_detail(app, pilot, "engines")
        venue, tid = detail.target.key
        session.store.snapshot(venue, [t for t in session.store.targets(venue) if t.id != tid])
        detail.refresh_target()
        await pilot.pause()
        assert "GONE from the venue's list" in screen_text(app)


async def test_enter_typed_with_the_panel_key_opens_that_panels_row(tmp_path: Path) -> None:
    """``2`` then Enter in one burst: the algorithms panel is drawn before Enter reads it."""
    app, _, _ = await algorithms(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        burst(app, ("2", "2"), ("enter", "\r"))
        await wait_for(pilot, lambda: isinstance(app.screen, TargetScreen), "detail screen")
        detail = app.screen
        assert isinstance(detail, TargetScreen)
        assert detail.target.kind.value == "algorithm"


async def test_a_screen_taken_down_before_it_finished_mounting_stays_quiet(
    tmp_path: Path,
) -> None:
    """Enter then a quit at once: the detail screen's children can be gone when its
    mount runs (a loaded suite saw ``NoMatches '#target-history-title'`` at quit). Its
    lookups fail for one mount here; the mount ends quietly, no traceback."""
    app, _, _ = await algorithms(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_detail(app, pilot, "algorithms")

        def gone(*_: object, **__: object) -> object:
            raise NoMatches("taken down")

        detail.query_one = gone  # type: ignore[assignment,method-assign]
        detail.on_mount()  # raised NoMatches before
        detail.on_screen_resume()  # resumed before its children were mounted: quiet too
        del detail.query_one
        await pilot.press("escape")
