"""Read-only control keys say why nothing happened (issue 12, item 15), and
notifications never cover the outcome log (item 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._toast import Toast

from console.tui.app import ConsoleApp
from console.tui.controllers.notices import MAX_TOASTS
from console.tui.screens.confirm import ConfirmScreen
from console.tui.widgets.outcomes import OutcomesView
from tests.tui.fakes import FakeClock, fake_session, fake_venues, preload
from tests.tui.pilot_support import journal, wait_for

SIZE = (100, 30)


def console(tmp_path: Path, *, readonly: bool, **kwargs: object) -> ConsoleApp:
    clock = FakeClock()
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues, readonly=readonly)
    preload(session, venues)
    return ConsoleApp(session, session.control, clock=clock, start_feeds=False, **kwargs)  # type: ignore[arg-type]


def messages(app: ConsoleApp) -> list[str]:
    return [n.message for n in app._notifications]


def footer_keys(app: ConsoleApp) -> set[str]:
    return {b.key for (_, b, _, _) in app.screen.active_bindings.values() if b.show}


@pytest.mark.parametrize("key", ["X", "P", "R", "S"])
async def test_a_control_key_while_read_only_says_a_arms_and_sends_nothing(
    tmp_path: Path, key: str
) -> None:
    app = console(tmp_path, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        minutes = app.arm.minutes
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        said = messages(app)
        assert said and said[-1].startswith(f"read-only — a arms for {minutes:g} min")
        assert "nothing sent" in said[-1]
        assert all(not v.executed for v in app.state.clients.values())  # type: ignore[attr-defined]
        assert journal(app) == []
        # The key stays out of the footer while read-only (the header says READ-ONLY).
        assert key not in footer_keys(app)


async def test_armed_the_same_key_opens_the_confirmation_not_the_words(tmp_path: Path) -> None:
    app = console(tmp_path, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("a")
        before = len(messages(app))
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        assert not any(m.startswith("read-only") for m in messages(app)[before:])
        await pilot.press("escape")


async def test_a_remapped_control_key_while_read_only_says_the_same(tmp_path: Path) -> None:
    app = console(tmp_path, readonly=True, keymap={"stop": "W", "arm": "A"})
    async with app.run_test(size=SIZE) as pilot:
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("W")
        await pilot.pause()
        said = messages(app)
        assert said and said[-1].startswith("read-only — A arms for")
        await pilot.press("A", "W")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")


async def test_notifications_do_not_cover_the_outcome_log(tmp_path: Path) -> None:
    app = console(tmp_path, readonly=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirmation")
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: app.screen is app.main, "back on the panels")
        app.notify("a second, longer notification " * 4, severity="error")
        await wait_for(pilot, lambda: len(app.screen.query(Toast)) >= 2, "toasts shown")
        await pilot.pause()
        log = app.main.query_one(OutcomesView).region
        header = app.main.header.region
        for toast in app.screen.query(Toast):
            assert not toast.region.overlaps(log), (toast.region, log)
            assert not toast.region.overlaps(header), (toast.region, header)


async def test_a_burst_of_notifications_keeps_the_newest_few_and_errors_longest(
    tmp_path: Path,
) -> None:
    app = console(tmp_path, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        app.tick()
        await pilot.pause()
        app.notify("the one error", severity="error")
        for n in range(6):
            app.notify(f"note {n}")
        await wait_for(pilot, lambda: len(app._notifications) == MAX_TOASTS, "trimmed")
        assert messages(app) == ["the one error", "note 4", "note 5"]
