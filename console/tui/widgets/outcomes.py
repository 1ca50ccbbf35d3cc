"""Outcomes on screen: a progress line for the running plan and a log of every answer.

Every target's outcome is written here (as it is in the journal), in words, with the
vendor's message, and for anything that did not work, what the operator can do next.
Target names and vendor messages are shown printable (no terminal escapes).
Results are buffered by the app and written once per tick, so a 10,000-target plan does
not redraw 20,000 times; a burst larger than :data:`LINES_AT_ONCE` (a plan's end, a modal
closed on a running plan's results) goes in a chunk after each screen refresh, so keys
are answered between chunks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import RichLog

from console.core.model import OutcomeKind
from console.core.plan import ItemResult, Report
from console.tui.format import Tones, fmt_clock, one_line, printable_text, state_word
from console.tui.theme_follow import following_theme
from console.tui.widgets.live_static import LiveStatic

LOG_LINES = 5000
"""The log's lines kept (the oldest go first)."""
LINES_AT_ONCE = 100
"""The most entries written into the log at once (~20 ms of the loop; each costs ~0.2 ms
to wrap and store): 5,000 results written together held the loop ~1–2 s. A tick that
also redraws thousands of changed rows holds it with them: 200 a chunk left 5–6 of a
4,000-target plan's callbacks over 100 ms on a slow hour, 100 left 2."""

RETRY_HINT = "palette (: or ctrl+p): Retry failed"

Entry = tuple[ItemResult, float] | Text
"""A result and when it was written (described in the log's tones), or a note's line."""

ADVICE = {
    OutcomeKind.REJECTED: "the venue refused: fix what it says, or act on the venue's own UI",
    OutcomeKind.FAILED: "nothing changed as far as we know: check the venue's health in the "
    f"header, then retry ({RETRY_HINT})",
    OutcomeKind.UNCERTAIN: "no answer: it may or may not have happened; read the row's "
    "re-read state before retrying",
}


def advice(result: ItemResult) -> str:
    """What to do next, for a result that needs the operator; empty when all is well."""
    if not result.outcome.ok:
        return ADVICE.get(result.outcome.kind, "")
    if result.done_but_unread:
        return ("answered done, but no re-read could read it: check it on the venue's "
                "side (a retry is answered 'already' and reads it no better)")  # fmt: skip
    if result.verified is False:
        seen = state_word(result.verified_state) if result.verified_state else "UNKNOWN"
        return f"re-read shows {seen}, not as asked: retry ({RETRY_HINT}) or check the venue"
    return ""


def describe(result: ItemResult, now: float, tones: Tones) -> Text:
    """One log entry for one result: the outcome, or later its verification by re-read."""
    item, outcome = result.item, result.outcome
    text = Text()
    text.append(
        f"{fmt_clock(now)} {item.action.kind.value.upper()} {item.venue}/{item.target_name}: "
    )
    seen = state_word(result.verified_state) if result.verified_state else "UNKNOWN"
    if result.verified is None:
        style = tones.ok if outcome.ok else tones.danger
        text.append(f" {outcome.kind.value.upper()} ", style)
        detail = [one_line(outcome.message, 600)] if outcome.message else []
        if outcome.http_status is not None:
            detail.append(f"HTTP {outcome.http_status}")
        if outcome.latency_ms is not None:
            detail.append(f"{outcome.latency_ms:.0f} ms")
        if outcome.warning:
            detail.append(f"warning: {one_line(outcome.warning, 160)}")
        text.append(" " + " · ".join(detail))
        if not outcome.ok:
            text.append(f" — next: {advice(result)}", "bold")
    elif result.verified:
        text.append(f" VERIFIED {seen} ", tones.ok)
    elif result.by_answer:  # its venue cannot report the state: nothing re-read it
        text.append(f" {seen} by the venue's answer only (cannot be re-read)")
    elif outcome.ok:
        text.append(" NOT VERIFIED ", tones.danger)
        text.append(f" — next: {advice(result)}", "bold")
    else:
        text.append(f" re-read shows {seen}")
    return printable_text(text)


def progress(report: Report, *, running: bool) -> Text:
    """``Pause 3 strategies: 2/3 answered · halted 1/3 verified · 1 failed``."""
    problems = sum(1 for r in report.results.values() if r.needs_retry)
    text = _head(running=running, alarming=running or bool(problems))
    text.append(
        f" {report.plan.title}: {report.done}/{len(report.plan)} answered · {report.summary()}"
    )
    if problems and not running:
        text.append(f" — {problems} need attention: {RETRY_HINT}", "bold")
    return printable_text(text)  # a plan's title names its target


def _head(*, running: bool, alarming: bool) -> Text:
    """`` RUNNING `` or `` DONE ``: in reverse video while running or when something needs
    attention (words carry it too: never colour alone)."""
    text = Text()  # (a span, not the text's own style: what follows stays plain)
    text.append(" RUNNING " if running else " DONE ", "reverse bold" if alarming else "bold")
    return text


class OutcomeLog(RichLog):
    """The log keeps its newest line in view when it changes height.

    The progress line above it wraps to two lines when a plan needs attention, which
    takes a line from the log just as the last outcomes are written; RichLog scrolls to
    the end only on a write, so the newest line (the re-read) would sit below the fold.
    """

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=False, x_axis=False)


class OutcomesView(Vertical):
    """The strip at the bottom of the main screen; ``l`` makes it tall."""

    def __init__(self) -> None:
        super().__init__(id="outcomes")
        self.tones = Tones.monochrome()
        self._written: deque[Entry] = deque(maxlen=LOG_LINES)
        """What the log holds, to write again in a theme switched to."""
        self._waiting: deque[Entry] = deque(maxlen=LOG_LINES)
        """What is still to be written, oldest first (:data:`LINES_AT_ONCE` at a time).
        As the log, it keeps the newest :data:`LOG_LINES`: a burst larger than that
        would only write lines the log then drops (a 50,000-target plan's results
        finished behind a dialog: ~10 s of chunks for nothing)."""
        self._turn: object | None = None
        """The next chunk's turn, while a burst is being written."""

    def compose(self) -> ComposeResult:
        yield LiveStatic(Text("no action yet this session", "dim"), id="progress")
        yield OutcomeLog(
            id="outcome-log", max_lines=LOG_LINES, wrap=True, markup=False, auto_scroll=True
        )

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)

    def _retone(self, tones: Tones) -> None:
        """Every line again in the new theme's colours (a log written in the old one's
        would show them until it scrolled away)."""
        self.tones = tones
        self.query_one(RichLog).clear()
        # written again, in order (the newest kept: extendleft would drop those instead)
        self._waiting = deque([*self._written, *self._waiting], maxlen=LOG_LINES)
        self._written.clear()
        self._turn = None
        self._drain()

    def write_results(self, results: Iterable[ItemResult], now: float) -> None:
        """Each tick: its results join those waiting, and the next chunk is written (the
        tick also takes over a turn lost with a screen dismissed before its refresh)."""
        self._waiting.extend((result, now) for result in results)
        self._turn = None
        self._drain()

    @property
    def waiting(self) -> int:
        """Entries not yet in the log (a burst being written a chunk at a time)."""
        return len(self._waiting)

    def _drain(self) -> None:
        """Write the oldest :data:`LINES_AT_ONCE` waiting entries; the next chunk's turn
        comes after the next refresh (keys queued meanwhile are answered first)."""
        waiting = self._waiting
        chunk = [waiting.popleft() for _ in range(min(LINES_AT_ONCE, len(waiting)))]
        self._written.extend(chunk)
        tones = self.tones
        lines = [line if isinstance(line, Text) else describe(*line, tones) for line in chunk]
        if lines:  # as one write: each line wraps on its own, but the log measures,
            log = self.query_one(RichLog)  # stores and scrolls once (~0.1 ms a write)
            log.write(Text("\n").join(lines), expand=True)
        if waiting and self._turn is None:
            self._turn = turn = object()
            self.call_after_refresh(self._next_turn, turn)

    def _next_turn(self, turn: object) -> None:
        if turn is self._turn:  # (not one a tick took over)
            self._turn = None
            self._drain()

    def show_progress(self, report: Report, *, running: bool) -> None:
        self.query_one("#progress", LiveStatic).show(progress(report, running=running))

    def show_kill(self, words: str, *, running: bool, attention: bool) -> None:
        """The line above the log for an emergency stop (its report is its own screen):
        ``RUNNING`` from the moment it is sent (the plans' own progress takes the line at
        the next redraw), ``DONE`` and its summary at its end — never "no action yet"
        above a kill's summary."""
        text = _head(running=running, alarming=running or attention)
        text.append(f" {words}")
        self.query_one("#progress", LiveStatic).show(printable_text(text))

    def note(self, text: str) -> None:
        self._waiting.append(printable_text(Text(text)))  # after the results before it
        if self._turn is None:  # else in the burst's turn
            self._drain()
