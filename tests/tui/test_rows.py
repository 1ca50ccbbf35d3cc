"""The keyed row model: what a tick redraws, what it carries over, what the screen shows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.core.model import Target
from console.core.session import Session
from console.core.store import Store
from console.tui.app import ConsoleApp
from console.tui.panels import TargetPanel
from console.tui.panels import rows as rows_module
from console.tui.panels.rows import FREEZE_ABOVE
from console.tui.panels.table import TargetTable
from tests.tui.fakes import FakeClock, FakeVenue, algorithms, fake_session, fake_venues, preload
from tests.tui.pilot_support import wait_for


def many_algorithms(n: int) -> FakeVenue:
    base = algorithms()[0]
    targets = [
        replace(base, id=f"a{i}", name=f"algo-{i:05d}", attrs={**base.attrs, "profit": float(i)})
        for i in range(n)
    ]
    return FakeVenue("x3algo", "x3algo", targets)


def screen_text(app: ConsoleApp) -> str:
    return app.export_screenshot()


def loaded_app(tmp_path: Path, algorithms: int) -> tuple[ConsoleApp, Session, dict[str, FakeVenue]]:
    """An app (feeds off) over the fake world with ``algorithms`` x3algo rows, preloaded."""
    clock = FakeClock()
    venues = fake_venues()
    venues["x3algo"] = many_algorithms(algorithms)
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    return ConsoleApp(session, session.control, clock=clock, start_feeds=False), session, venues


async def algorithms_shown(pilot: Pilot[None], app: ConsoleApp, rows: int) -> TargetPanel:
    """Switch to the algorithms panel and wait for its first paint of ``rows`` rows."""
    await pilot.press("2")
    panel = app.active_panel
    await wait_for(pilot, lambda: panel.table.row_count == rows, "first paint")
    return panel


async def test_a_changed_visible_cell_is_repainted_on_screen(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    """set_cell drops only the changed rows' cached lines; the new value must be painted."""
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    preload(session, venues)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await pilot.pause()
        assert "1,234.50" in screen_text(app)
        a1 = venues["x3algo"].targets["a1"]
        session.store.upsert([replace(a1, attrs={**a1.attrs, "profit": 4321.0})])
        await wait_for(pilot, lambda: "4,321.00" in screen_text(app), "repainted cell")
        assert "1,234.50" not in screen_text(app)


async def test_a_flood_is_drawn_within_budget_visible_rows_first(tmp_path: Path) -> None:
    app, session, venues = loaded_app(tmp_path, 3000)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 3000)
        rows = panel.rows
        rows.budget_s = 0.0  # one batch of 32 per tick: the backlog must carry over
        changed = []
        for i in range(0, 3000, 3):
            target = venues["x3algo"].targets[f"a{i}"]
            changed.append(replace(target, attrs={**target.attrs, "profit": -1.0}))
        session.store.upsert(changed)
        app.tick()
        assert 900 < len(rows.dirty) < 1000  # one batch drawn, the rest carried over
        top = panel.table.cursor_key
        assert top == "x3algo/a0" and ("x3algo", "a0") not in rows.dirty
        rows.budget_s = 1.0
        await wait_for(pilot, lambda: not rows.dirty, "backlog drained")
        assert str(panel.table.get_cell("x3algo/a2997", "profit")) == "-1.00"


async def test_first_snapshot_of_thousands_is_one_sorted_rebuild(tmp_path: Path) -> None:
    clock = FakeClock()
    venues = fake_venues()
    venues["x3algo"] = many_algorithms(2500)
    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("2")
        preload(session, venues)
        app.tick()
        table = app.active_panel.table
        assert table.row_count == 2500
        first = [str(table.get_row_at(i)[1]) for i in range(3)]
        assert first == ["algo-00000", "algo-00001", "algo-00002"]
        await pilot.pause()  # dimensions are settled when the table is next idle
        assert table.virtual_size.height == 2501  # fixed one-line rows + the header


async def test_rows_off_screen_are_built_when_scrolled_to_and_show_the_new_value(
    tmp_path: Path,
) -> None:
    """A change off screen stores lazy cells (nothing rendered); scrolling there shows it."""
    from console.tui.format import LazyCell

    app, session, venues = loaded_app(tmp_path, 2500)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 2500)
        table = panel.table
        far = venues["x3algo"].targets["a2400"]
        session.store.upsert([replace(far, attrs={**far.attrs, "profit": -7.0})])
        app.tick()
        assert isinstance(table.get_cell("x3algo/a2400", "profit"), LazyCell)
        assert "-7.00" not in screen_text(app)
        table.move_cursor(row=table.get_row_index("x3algo/a2400"), animate=False)
        await wait_for(pilot, lambda: "-7.00" in screen_text(app), "the far row drawn")


async def test_changes_that_keep_the_order_do_not_resort_and_a_move_does(tmp_path: Path) -> None:
    """A re-sort redraws every visible line; only a real move may cost that."""
    app, session, venues = loaded_app(tmp_path, 2500)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 2500)
        table = panel.table
        assert panel.sort_column == "name"
        panel.rows._sorted_at = 0.0  # not throttled
        # Profits change on and off screen, names stay: first changes of rows never drawn.
        moved = [venues["x3algo"].targets[f"a{i}"] for i in (1, 2000, 2400)]
        session.store.upsert([replace(t, attrs={**t.attrs, "profit": -3.0}) for t in moved])
        generation = table.reorders
        app.tick()
        assert table.reorders == generation  # nothing re-sorted, no line redrawn for it
        # A rename that moves a row to the top re-sorts.
        far = venues["x3algo"].targets["a2400"]
        session.store.upsert([replace(far, name="aaa-first")])
        panel.rows._sorted_at = 0.0
        app.tick()
        assert table.reorders > generation
        assert table.get_row_index("x3algo/a2400") == 0


async def test_a_name_sorted_rebuild_orders_and_remembers_as_the_built_cells_do(
    tmp_path: Path,
) -> None:
    """The name column's fast path (sort key and signature from the text, cells built
    when drawn) gives the order and signatures that building every name cell gives."""
    names = ["beta", "Alpha", "alpha", "", "10", "9", "zeta\r", "ÉCU", "écu", "beta"]
    clock = FakeClock()
    venues = fake_venues()
    base = algorithms()[0]
    venues["x3algo"] = FakeVenue(
        "x3algo", "x3algo", [replace(base, id=f"n{i}", name=n) for i, n in enumerate(names)]
    )
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, len(names))
        rows, table = panel.rows, panel.table
        assert rows.columns[rows._sort_index].text_of is not None  # the fast path ran

        def seen() -> tuple[list[str], dict[str, object]]:
            order = table.ordered_keys()
            return order, {key: rows.shown[key][rows._sort_index] for key in order}

        for reverse in (False, True):
            rows.sort_reverse = reverse
            rows.rebuild(table, clock())
            fast = seen()
            index = rows._sort_index
            rows.columns[index] = replace(rows.columns[index], text_of=None)
            rows.rebuild(table, clock())
            assert seen() == fast
            rows.columns[index] = replace(rows.columns[index], text_of=lambda t: t.name)
        assert fast[0][0] == "x3algo/n3"  # reversed: the row with no name first
        assert fast[1]["x3algo/n6"] == ("zeta", "")  # shown without the control code


async def test_selecting_and_clearing_every_shown_row_repaints_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``v`` marked the rows one by one and repainted the table after each: 25,000 shown
    rows cost 25,000 repaints (measured at ~50,000 targets: 343 ms of the loop for ``v``,
    325 ms for Esc; one repaint: ~130 ms each)."""
    app, _, _ = loaded_app(tmp_path, 2_000)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 2_000)
        repaints: list[int] = []
        repaint = TargetTable.repaint

        def counted(table: TargetTable) -> None:
            repaints.append(len(table._changed))
            repaint(table)

        monkeypatch.setattr(TargetTable, "repaint", counted)
        await pilot.press("v")
        await wait_for(pilot, lambda: len(panel.rows.selected) == 2_000, "every row selected")
        assert [n for n in repaints if n] == [2_000], repaints[:5]  # (a tick's own: none)
        repaints.clear()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not panel.rows.selected, "the selection cleared")
        assert [n for n in repaints if n] == [2_000], repaints[:5]
        await pilot.pause()
        assert "●" not in screen_text(app)


async def test_a_sort_asks_each_venue_once_whether_it_is_stale_not_each_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sorting builds every row's context; each asked the store whether its venue was
    stale (25,000 rows: 25,000 questions the panel had answered at its tick)."""
    app, session, _ = loaded_app(tmp_path, 2_000)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 2_000)
        asked: list[str] = []
        is_stale = type(session.store).is_stale

        def counted(store: Store, venue: str) -> bool:
            asked.append(venue)
            return is_stale(store, venue)

        monkeypatch.setattr(type(session.store), "is_stale", counted)
        column = panel.sort_column
        await pilot.press("s")
        await wait_for(pilot, lambda: panel.sort_column != column, "sorted on another column")
        await pilot.pause()
        assert len(asked) < 1_000, f"{len(asked)} questions for 2,000 rows"  # (ticks ask too)


async def test_a_filter_keystroke_reads_again_only_the_targets_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each keystroke rebuilt every row's search text from its attributes (~0.2 s a
    keystroke at ~50,000 targets). Kept while the target is the stored one: a target
    that changed is read again, and a change that makes it match shows it."""
    app, session, venues = loaded_app(tmp_path, 2_000)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, 2_000)
        read: list[str] = []
        search_text = panel.rows.search_text

        def counted(target: Target) -> str:
            read.append(target.id)
            return search_text(target)

        monkeypatch.setattr(panel.rows, "search_text", counted)
        await pilot.press("slash", *"algo-0001", "enter")
        await wait_for(pilot, lambda: panel.table.row_count == 10, "algo-00010 … algo-00019")
        first = len(read)
        assert 2_000 <= first < 2_100, first  # each target read once (the first keystroke)
        a5 = venues["x3algo"].targets["a5"]
        session.store.upsert([replace(a5, name="algo-00019-zz")])
        await wait_for(pilot, lambda: panel.table.row_count == 11, "the renamed one matches")
        read.clear()
        panel.set_filter("algo-0001 zz", now=True)
        assert read == [], read[:5]  # nothing changed since it was read
        assert panel.table.row_count == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: panel.table.row_count == 2_000, "the filter cleared")


async def test_a_large_rebuild_parks_its_rows_for_the_collector_not_only_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a rebuild makes live on and hold no cycle; only the first paint parked
    them (``gc.freeze``), so every filter typed or cleared over 25,000 rows paid a young
    collection over all of them and freed nothing (~170 ms a keystroke, measured)."""
    app, _, _ = loaded_app(tmp_path, FREEZE_ABOVE + 500)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = await algorithms_shown(pilot, app, FREEZE_ABOVE + 500)
        parked: list[int] = []
        monkeypatch.setattr(rows_module, "settle_heap", lambda: parked.append(1))
        panel.set_filter("algo", now=True)  # every row matches: a rebuild of all of them
        assert parked == [1]
        panel.set_filter("algo-0000", now=True)  # ten rows: nothing worth parking
        assert parked == [1] and panel.table.row_count == 10
        panel.set_filter("", now=True)
        assert parked == [1, 1]
