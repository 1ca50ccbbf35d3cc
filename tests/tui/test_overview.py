"""Item 12 of issue 12: an overview of all five panels.

From 160x45 the five cards are a strip above the panels; below, they are the tab ``0``.
Each card gives its venues' freshness, the targets by state, and totals summed from the
attributes docs/ATTRIBUTES.md names (P&L, open positions, capital).
"""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import TabbedContent

from console.core.model import State
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.main import OVERVIEW_PANE
from console.tui.widgets.live_static import LiveStatic
from console.tui.widgets.overview import Overview
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for


def card(app: ConsoleApp, where: str, kind: str) -> str:
    overview = app.main.query_one(f"#{where}", Overview)
    return str(overview.query_one(f"#card-{kind}", LiveStatic).render())


def strip_shown(app: ConsoleApp) -> bool:
    return app.main.query_one("#overview", Overview).display and app.main.overview_strip


async def test_a_big_terminal_shows_every_panel_at_once(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: "2 running" in card(app, "overview", "algorithm"), "algos")
        assert strip_shown(app)
        algos = card(app, "overview", "algorithm")
        assert "2 Running algorithms" in algos
        assert "1 stopped" in algos
        assert "P&L 1,164.25" in algos  # 1,234.50 - 80.25 + 10.00, summed from `profit`
        assert "x3algo" in algos and "updated" in algos
        for kind in ("engine", "strategy", "expiration", "sniper"):
            await wait_for(
                pilot,
                lambda k=kind: (
                    "running" in card(app, "overview", k) or "unknown" in card(app, "overview", k)
                ),
                kind,
            )
        strategies = card(app, "overview", "strategy")
        assert "open positions" in strategies and "capital" in strategies
        tabs = app.main.query_one(TabbedContent)
        assert tabs.get_tab(OVERVIEW_PANE).display is False  # the strip is the overview
        assert app.active_panel.table.has_focus  # keys still act on the panel below


async def test_the_overview_follows_changes_without_redrawing_hidden_tables(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: "2 running" in card(app, "overview", "algorithm"))
        strategies = app.panels[2]
        assert strategies.table.row_count == 0  # never shown: its table was never drawn
        algos = venues["x3algo"].targets
        algos["a2"] = replace(algos["a2"], state=State.STOPPED, raw_status="stopped")
        venues["x3algo"].poke()
        await wait_for(pilot, lambda: "2 stopped" in card(app, "overview", "algorithm"), "live")
        assert strategies.table.row_count == 0


async def test_a_small_terminal_has_an_overview_tab_on_0(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        assert not strip_shown(app)
        await pilot.press("0")
        await wait_for(pilot, lambda: app.main.overview_shown, "tab 0")
        await wait_for(pilot, lambda: "2 running" in card(app, "overview-tab", "algorithm"))
        await pilot.press("X")  # no rows here: says so, acts on no hidden panel
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("overview has no rows" in n.message for n in app._notifications)
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "algorithm")
        assert app.active_panel.table.has_focus


async def test_growing_the_terminal_turns_the_tab_into_the_strip(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("0")
        await wait_for(pilot, lambda: app.main.overview_shown, "tab 0")
        await pilot.resize_terminal(200, 60)
        await wait_for(pilot, lambda: strip_shown(app), "strip")
        assert not app.main.overview_shown  # back on a panel: the strip shows the rest
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: not strip_shown(app), "tab again")
        assert app.main.query_one(TabbedContent).get_tab(OVERVIEW_PANE).display


def test_a_stale_card_says_its_count_before_the_feeds_words() -> None:
    """A card has a few lines: the feed's failure words came first and pushed the count
    out ("N targets, states UNKNOWN (stale)") — a stale venue's card then told no count."""
    from collections import Counter

    from console.core.model import Target, TargetKind
    from console.core.store import Store
    from console.tui.format import Tones
    from console.tui.panels.tally import VenueTally
    from console.tui.widgets.overview import venue_lines
    from console.venues.kit.base import FeedStatus

    now = [1_000.0]
    store = Store(stale_after_s=30, clock=lambda: now[0])
    target = Target("x3algo", TargetKind.ALGORITHM, "a", "a", State.RUNNING, "active")
    store.snapshot("x3algo", [target])
    store.health("x3algo", FeedStatus.DOWN, "cannot connect: 127.0.0.1:18627: connection refused")
    now[0] += 69
    lines = venue_lines(store, "x3algo", VenueTally(Counter({State.RUNNING: 1})),
                        Tones.monochrome()).plain.splitlines()  # fmt: skip
    assert lines[0].strip() == "STALE — x3algo data 69 s old"
    assert lines[1] == "  1 targets, states UNKNOWN (stale)"
    assert lines[-1].startswith("  feed down: cannot connect: 127.0.0.1:18627")
