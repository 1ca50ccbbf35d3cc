"""Snapshots of the overview (issue 12 item 12): the strip above the panels at 200x60,
the Overview tab (``0``) at 80x24. Regenerate with
``pytest -n 0 tests/tui/test_overview_snapshots.py --snapshot-update`` after a deliberate
change, and look at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from console.tui.widgets.overview import Overview
from tests.tui.test_snapshots import BIG, SSH, Snap, colour_allowed, make_app, settle

__all__ = ["colour_allowed"]  # the autouse fixture: NO_COLOR must not change the snapshot


async def overview_drawn(pilot: Pilot[None]) -> None:
    """The cards refresh on their own timer: draw them now, after the data is in."""
    await settle(pilot)
    for overview in pilot.app.screen.query(Overview):
        overview.refresh_cards(force=True)
    await pilot.pause()


def test_overview_strip_at_200x60(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert snap_compare(app, press=["2"], terminal_size=BIG, run_before=overview_drawn)


def test_overview_tab_at_80x24(snap_compare: Snap, tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def tab_zero(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("0")
        await overview_drawn(pilot)

    assert snap_compare(app, terminal_size=SSH, run_before=tab_zero)
