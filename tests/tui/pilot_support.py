"""Helpers for Pilot tests: wait on conditions (never on time), read what a panel shows."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.pilot import Pilot

from console.core.journal_rows import Entry
from console.tui.app import ConsoleApp
from console.tui.panels import TargetPanel


async def wait_for(
    pilot: Pilot[None], predicate: Callable[[], bool], what: str = "", *, rounds: int = 400
) -> None:
    """Let the app run until ``predicate()`` holds (bounded; fails with ``what``)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def burst(app: ConsoleApp, *keys: tuple[str, str]) -> None:
    """Keys (name, character) sent at once, as a terminal delivers a fast typist's keys:
    ``pilot.press`` waits for the app to settle between keys, which hides races."""
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app.post_message(event)


def panel(app: ConsoleApp) -> TargetPanel:
    return app.active_panel


def cell(app: ConsoleApp, key: str, column: str) -> str:
    """The text a visible row shows in ``column`` ('' when the row is not shown)."""
    table = app.active_panel.table
    if not table.has_row(key):
        return ""
    return str(table.get_cell(key, column))


def row_keys(app: ConsoleApp) -> list[str]:
    table = app.active_panel.table
    return table.ordered_keys()


def journal(app: ConsoleApp) -> list[Entry]:
    return app.state.journal.entries()


def log_text(app: ConsoleApp) -> str:
    from textual.widgets import RichLog

    log = app.screen_stack[0].query_one("#outcome-log", RichLog)
    return " ".join(" ".join(line.text for line in log.lines).split())


async def show_row(pilot: Pilot[None], app: ConsoleApp, words: str) -> None:
    """Filter the active panel to ``words`` with the keyboard and leave the filter box."""
    await pilot.press("slash", *words, "enter")
    await wait_for(pilot, lambda: app.active_panel.filter_text == words, f"filter {words}")
