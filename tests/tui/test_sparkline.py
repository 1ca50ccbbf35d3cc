"""P&L trend sparklines: the store's bounded trail per target, the bars, and the column."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.style import Style
from textual.pilot import Pilot

from console.core.model import State, Target, TargetKind
from console.core.session import Session
from console.core.store import Store
from console.core.trend import TRAIL_SAMPLES, PnlTrails
from console.tui.app import ConsoleApp
from console.tui.format import SPARK_BARS, Tones, sparkline
from console.tui.panels.columns import RowContext
from console.tui.panels.trend import TREND_BARS, trend_cell, trend_text
from tests.tui.fakes import FROZEN, FakeClock, FakeVenue
from tests.tui.pilot_support import cell, wait_for

KEY = ("x3algo", "a1")
BIG = (200, 60)


def algo(profit: object, tid: str = "a1") -> Target:
    return Target(
        "x3algo", TargetKind.ALGORITHM, tid, tid, State.RUNNING, "active", {"profit": profit}
    )


def samples(trails: PnlTrails, key: tuple[str, str] = KEY) -> list[float]:
    return list(trails.trail(key))


# ----- the trail ------------------------------------------------------------------------
def test_a_trail_keeps_only_the_newest_samples() -> None:
    trails = PnlTrails()
    for second in range(100):
        trails.record(KEY, float(second), second)
    assert samples(trails) == [float(s) for s in range(100 - TRAIL_SAMPLES, 100)]


def test_one_sample_a_second_and_the_latest_value_of_the_second_wins() -> None:
    trails = PnlTrails()
    for value in (10, 11, 12):
        trails.record(KEY, value, 0)
    assert samples(trails) == [12.0]
    trails.record(KEY, 13, 1)
    trails.record(KEY, 14, 1)
    assert samples(trails) == [12.0, 14.0]  # the row shows 14: so does the trail's end


def test_an_unchanged_value_is_not_a_new_sample() -> None:
    trails = PnlTrails()
    trails.record(KEY, 5.0, 0)
    for second in range(1, 50):
        trails.record(KEY, 5.0, second)
    trails.record(KEY, 6.0, 50)
    assert samples(trails) == [5.0, 6.0]


def test_a_change_undone_within_its_second_leaves_no_sample_and_loses_none() -> None:
    trails = PnlTrails()
    trails.record(KEY, 10, 0)
    trails.record(KEY, 11, 1)
    trails.record(KEY, 10, 1)  # back: the trail is distinct values, not [10, 10]
    assert samples(trails) == [10.0]
    trails.record(KEY, 12, 1)  # a new change in the same second must not overwrite 10
    assert samples(trails) == [10.0, 12.0]


def test_what_is_not_a_finite_number_is_ignored_and_decimal_strings_count() -> None:
    trails = PnlTrails()
    for second, value in enumerate((None, "n/a", "nan", "inf", True, ("1",), "-20.50")):
        trails.record(KEY, value, second)
    assert samples(trails) == [-20.5]


def test_the_store_samples_snapshots_patches_and_upserts_and_forgets_removed_targets() -> None:
    clock = FakeClock()
    store = Store(clock=clock)
    store.snapshot("x3algo", [algo(1.0), algo(7.0, "a2")])
    clock.now += 1
    store.snapshot("x3algo", [algo(2.0), algo(7.0, "a2")])
    clock.now += 1
    store.patch("x3algo", "a1", attrs={"profit": 3.0})
    clock.now += 1
    store.patch("x3algo", "a1", state=State.PAUSED)  # no P&L in the event: no sample
    store.upsert([algo(4.0)])
    assert list(store.pnl_history("x3algo", "a1")) == [1.0, 2.0, 3.0, 4.0]
    assert list(store.pnl_history("x3algo", "a2")) == [7.0]
    store.snapshot("x3algo", [algo(4.0)])
    assert list(store.pnl_history("x3algo", "a2")) == []  # a2 vanished from the venue


def test_kinds_without_a_pnl_keep_no_trail() -> None:
    store = Store(clock=FakeClock())
    engine = Target("55tech", TargetKind.ENGINE, "acme", "acme", State.RUNNING, "live",
                    {"profit": 1.0, "pnl": "2"})  # fmt: skip
    store.snapshot("55tech", [engine])
    assert list(store.pnl_history("55tech", "acme")) == []


def test_a_flood_stays_bounded_per_target() -> None:
    """10,000 targets changing every event: each trail holds at most TRAIL_SAMPLES."""
    clock = FakeClock()
    store = Store(clock=clock)
    store.snapshot("x3algo", [algo(-1.0, f"a{i}") for i in range(10_000)])
    for event in range(200_000):
        if event % 20_000 == 0:
            clock.now += 1  # 20,000 events a second: every target changes twice a second
        store.patch("x3algo", f"a{event % 10_000}", attrs={"profit": float(event)})
    lengths = {len(store.pnl_history("x3algo", f"a{i}")) for i in range(10_000)}
    assert lengths == {11}  # the first value, then one sample for each of 10 seconds
    assert store.pnl_history("x3algo", "a0")[-1] == 190_000.0  # the second's latest value
    for _ in range(40):
        clock.now += 1
        store.patch("x3algo", "a0", attrs={"profit": clock.now})
    assert len(store.pnl_history("x3algo", "a0")) == TRAIL_SAMPLES


# ----- drawing --------------------------------------------------------------------------
def test_a_pnl_sparkline_scales_from_its_lowest_value_to_its_highest() -> None:
    assert sparkline([-10.0, 0.0, 10.0], floor=None) == "▁▅█"
    assert sparkline([-300.0, -200.0, -100.0], floor=None) == "▁▅█"  # all below zero
    assert sparkline([5.0, 5.0], floor=None) == SPARK_BARS[0] * 2
    assert sparkline([0, 1, 1000]) == "▁▂█"  # event counts keep their floor at 0


def ctx(trend: list[float], *, stale: bool = False) -> RowContext:
    tones = Tones.from_theme({"success": "#00ff00", "error": "#ff0000"})
    return RowContext(FROZEN, State.RUNNING, stale, tones, trend=trend)


def test_fewer_than_two_samples_draw_nothing() -> None:
    for trail in ([], [512.4]):
        assert trend_cell(algo(1.0), ctx(trail)).plain == ""
        assert trend_text(ctx(trail)).plain == ""


def test_the_cell_shows_the_newest_bars_and_the_sign_of_the_latest_change() -> None:
    rising = trend_cell(algo(1.0), ctx([float(n) for n in range(40)]))
    assert rising.plain == "▁▂▂▃▄▄▅▅▆▇▇█ ▲"
    assert len(rising.plain) == TREND_BARS + 2
    assert rising.style == ctx([]).tones.gain
    falling = trend_cell(algo(1.0), ctx([10.0, 30.0, 20.0]))
    assert falling.plain == "▁█▅ ▼"
    assert falling.style == ctx([]).tones.loss
    assert falling.sort_key < rising.sort_key  # sorting on Trend: the steepest fall first


def test_stale_data_draws_its_trend_muted() -> None:
    assert trend_cell(algo(1.0), ctx([1.0, 2.0], stale=True)).style == Tones.monochrome().muted


def test_without_colour_the_glyphs_still_say_up_or_down() -> None:
    plain = RowContext(FROZEN, State.RUNNING, False, Tones.monochrome(), trend=[1.0, 1.0001])
    drawn = trend_cell(algo(1.0), plain)
    assert drawn.plain == "▁█ ▲"  # the smallest rise is still a full step and an arrow
    assert isinstance(drawn.style, Style)
    assert drawn.style.color is None


def test_the_detail_line_gives_every_sample_the_change_and_the_range() -> None:
    text = trend_text(ctx([880.0, 1210.0, 1234.5]))
    # The last two round to the same bar: the arrow and the figure still say "up 24.50".
    assert text.plain == "P&L trend ▁██ ▲ +24.50 · low 880.00 · high 1,234.50"


# ----- on screen ------------------------------------------------------------------------
def trend(app: ConsoleApp, key: str) -> str:
    return cell(app, key, "trend")


async def set_profit(pilot: Pilot[None], app: ConsoleApp, venue: FakeVenue, profit: float) -> None:
    """The venue's next poll reports ``profit`` for a1; wait until the store has it."""
    a1 = venue.targets["a1"]
    venue.targets["a1"] = replace(a1, attrs={**a1.attrs, "profit": profit})
    venue.poke()
    trail = app.state.store.pnl_history
    await wait_for(pilot, lambda: list(trail("x3algo", "a1"))[-1:] == [profit], f"{profit}")


async def test_a_rising_then_falling_profit_draws_a_line_in_the_trend_column(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=BIG) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "profit") == "1,234.50")
        assert trend(app, "x3algo/a1") == ""  # one value is no trend yet
        for profit in (1300.0, 1400.0, 1500.0):
            clock.now += 1  # one sample a second: each poll lands in a second of its own
            await set_profit(pilot, app, venues["x3algo"], profit)
        await wait_for(pilot, lambda: trend(app, "x3algo/a1") == "▁▃▅█ ▲", "a rising line")
        clock.now += 1
        await set_profit(pilot, app, venues["x3algo"], 900.0)
        await wait_for(pilot, lambda: trend(app, "x3algo/a1") == "▅▆▇█▁ ▼", "a falling line")
        detail = str(app.active_panel.query_one("#detail").render())
        assert "P&L trend ▅▆▇█▁ ▼ -600.00 · low 900.00 · high 1,500.00" in detail


async def test_a_strategy_pnl_patched_by_its_stream_draws_its_trend(
    session: Session, clock: FakeClock
) -> None:
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=BIG) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: cell(app, "pipai/s1", "pnl") == "512.40")
        for pnl in ("500.00", "480.00"):
            clock.now += 1
            session.store.patch("pipai", "s1", attrs={"pnl": pnl})  # as a position event does
        await wait_for(pilot, lambda: trend(app, "pipai/s1") == "█▅▁ ▼", "a falling line")
        assert cell(app, "pipai/s1", "pnl") == "480.00"


@pytest.mark.parametrize("size", [(80, 24), BIG])
async def test_the_trend_column_is_last_so_80_columns_keep_every_essential_one(
    session: Session, size: tuple[int, int]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        assert [c.key for c in app.active_panel.columns][-1] == "trend"
        table = app.active_panel.table
        in_view = table.scrollable_content_region.width
        widths = [c.width + 2 * table.cell_padding for c in table.columns.values()]
        fits = sum(widths) <= in_view
        assert fits == (size == BIG)
        assert sum(widths[:4]) <= in_view  # selection, name, status, profit
