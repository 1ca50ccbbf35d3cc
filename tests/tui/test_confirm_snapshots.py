"""Snapshots of the confirmation modal's key facts at 80x24 (issue 12, item 8): the
instruments an expiration pause covers, why a client engine is stopped. Regenerate with
``pytest -n 0 tests/tui/test_confirm_snapshots.py --snapshot-update`` after a deliberate
change, and look at the SVGs before committing them."""

from __future__ import annotations

from pathlib import Path

from tests.tui.test_snapshots import SSH, Snap, colour_allowed, make_app, settle

__all__ = ["colour_allowed"]  # the fixture: NO_COLOR in the shell must not change them


def test_confirm_pause_of_every_expiration_counts_instruments(
    snap_compare: Snap, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    assert snap_compare(app, press=["4", "v", "P"], terminal_size=SSH, run_before=settle)


def test_confirm_start_of_a_stopped_client_says_why_it_stopped(
    snap_compare: Snap, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    keys = ["1", "slash", *"crux", "enter", "S"]
    assert snap_compare(app, press=keys, terminal_size=SSH, run_before=settle)
