"""A burst of outcomes (a large plan's end, a modal closed on a running plan's results)
is written into the log a chunk at a time, in order, and keys are answered between
chunks: written at once, 5,000 results held the loop ~1–2 s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, PlanItem
from console.tui.widgets.outcomes import LINES_AT_ONCE, LOG_LINES, OutcomesView
from tests.tui.pilot_support import wait_for


def results(n: int) -> list[ItemResult]:
    return [
        ItemResult(
            PlanItem(
                "x3algo",
                f"id{i}",
                f"algo {i:05d}",
                TargetKind.ALGORITHM,
                Action(ActionKind.STOP),
                State.RUNNING,
            ),
            Outcome(OutcomeKind.APPLIED, f"algorithm {i} stopped", 200, 12.0, State.STOPPED),
        )
        for i in range(n)
    ]


class LogApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("k", "seen", "a key")]

    def __init__(self) -> None:
        super().__init__()
        self.waiting_when_pressed: int | None = None

    def compose(self) -> ComposeResult:
        yield OutcomesView()

    def action_seen(self) -> None:
        self.waiting_when_pressed = self.query_one(OutcomesView).waiting


def numbers(app: App[None]) -> Iterator[int]:
    """The algorithms named in the log, top to bottom."""
    for line in app.query_one("#outcome-log", RichLog).lines:
        for found in re.findall(r"algo (\d{5})", line.text):
            yield int(found)


async def test_a_burst_is_written_a_chunk_at_a_time_in_order_and_a_note_after_it() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(OutcomesView)
        view.write_results(results(1_000), 0.0)
        view.note("the plan's end")
        assert list(numbers(app)) == list(range(LINES_AT_ONCE))  # one chunk, at once
        assert view.waiting == 1_000 - LINES_AT_ONCE + 1
        await wait_for(pilot, lambda: view.waiting == 0, "every chunk written")
        assert list(numbers(app)) == list(range(1_000))
        last = app.query_one("#outcome-log", RichLog).lines[-1].text
        assert "the plan's end" in last


async def test_a_key_is_answered_while_a_burst_is_being_written() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(OutcomesView)
        view.write_results(results(5_000), 0.0)
        await pilot.press("k")
        assert app.waiting_when_pressed is not None and app.waiting_when_pressed > 0
        await wait_for(pilot, lambda: view.waiting == 0, "every chunk written")
        assert list(numbers(app))[-1] == 4_999


async def test_a_turn_lost_with_a_dismissed_screen_is_taken_over_by_the_next_tick() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(OutcomesView)
        view.write_results(results(LINES_AT_ONCE * 2), 0.0)
        view._turn = object()  # its callback gone with its screen: the scheduled one is void
        await pilot.pause()
        assert view.waiting == LINES_AT_ONCE  # stuck without a tick
        view.write_results([], 1.0)  # the tick
        await wait_for(pilot, lambda: view.waiting == 0, "the rest written")
        assert list(numbers(app)) == list(range(LINES_AT_ONCE * 2))


async def test_a_burst_larger_than_the_log_writes_only_what_the_log_keeps() -> None:
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(OutcomesView)
        view.write_results(results(LOG_LINES + 3 * LINES_AT_ONCE), 0.0)
        assert view.waiting == LOG_LINES - LINES_AT_ONCE  # the oldest would be dropped
        await wait_for(pilot, lambda: view.waiting == 0, "every chunk written")
        shown = list(numbers(app))
        assert shown == sorted(shown) and shown[-1] == LOG_LINES + 3 * LINES_AT_ONCE - 1
