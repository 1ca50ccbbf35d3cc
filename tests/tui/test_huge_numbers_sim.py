"""x3algo listing counts of 400 digits and amounts of 1e300: the console keeps running
and shows them compact (before: ``as_number`` raised OverflowError while the algorithms
panel drew its trades column, and the console exited)."""

from __future__ import annotations

from pathlib import Path

from console.core.journal import Journal
from console.core.operator import Operator
from console.core.session import SessionOptions
from console.sim.server import SimServer
from console.tui.app import ConsoleApp
from console.venues.registry import session_for
from tests.support import set_knobs, settings_for
from tests.tui.pilot_support import cell, wait_for


async def test_the_console_shows_numbers_no_venue_could_mean(
    sim: SimServer, tmp_path: Path
) -> None:
    set_knobs(sim, "x3algo", huge_numbers=True)
    journal = Journal(tmp_path / "j.sqlite3", profile="t", operator=Operator("alice", "desk1"))
    session = session_for(SessionOptions(profile="t", label="SIM"),
                          [settings_for(sim, "x3algo")], journal)  # fmt: skip
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count > 0, "algorithms")
        key = f"x3algo/{next(iter(session.store.targets('x3algo'))).id}"
        await wait_for(pilot, lambda: cell(app, key, "trades") != "", "the trades cell")
        assert cell(app, key, "trades") == ">1e308"
        assert cell(app, key, "profit") == "1e+300"
        await pilot.press("0")  # the overview sums them
        await pilot.pause()
    assert app.return_code in (None, 0)
