"""Item 13 of issue 12: columns take the room there is, and numbers are never cut.

At 200 columns a name longer than the declared 16 shows whole (names grow with the
terminal); a number is as wide as its widest value at every width, 80 included
(``-152,134.56``, not ``-152,134.…``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.cells import cell_len

from console.core.session import Session
from console.tui.app import ConsoleApp
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for

LONG_NAME = "ADX Position — Asianpaint weekly"


def widen(venues: dict[str, FakeVenue]) -> None:
    """x3algo's first algorithm gets a long name and a six-figure loss."""
    algos = venues["x3algo"].targets
    a1 = algos["a1"]
    algos["a1"] = replace(a1, name=LONG_NAME, attrs={**a1.attrs, "profit": -152134.56})


def width(app: ConsoleApp, column: str) -> int:
    return app.active_panel.table.columns[column].width


@pytest.mark.parametrize("size", [(80, 24), (120, 32), (200, 60)])
async def test_numbers_are_never_cut_at_any_width(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock, size: tuple[int, int]
) -> None:
    widen(venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.has_row("x3algo/a1"))
        await wait_for(pilot, lambda: width(app, "profit") >= cell_len("-152,134.56"), "fit")


async def test_names_grow_with_the_terminal(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    widen(venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.has_row("x3algo/a1"))
        await wait_for(pilot, lambda: width(app, "name") >= cell_len(LONG_NAME), "names")
        table = app.active_panel.table
        used = sum(c.width + 2 * table.cell_padding for c in table.columns.values())
        assert used <= table.size.width  # every column in view: nothing scrolls sideways


async def test_at_80_columns_names_keep_their_width_and_the_table_scrolls(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    widen(venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.has_row("x3algo/a1"))
        assert width(app, "name") == 16
