"""What the audit screen shows: the journal filtered, newest first, one row per entry.

The filters are the CLI's (``trading-console audit --since --venue --operator
--outcome --interrupted``) plus "this kill only" (its batch), so the screen and the
command agree on what a question returns. Intents without an outcome are marked
*INTERRUPTED — needs verification* wherever they appear. A note (a decision that sent
nothing: a skipped schedule run, a guard that only alerts) shows its kind as its result
and its why and values as its message; a kind this version does not know shows likewise. What the journal holds of a
venue's words (target names and ids, messages, reasons) is shown as printable ``Text``,
never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from rich.text import Text

from console.core.journal import Journal
from console.core.journal_rows import Entry, iso_ms
from console.tui.format import Tones, one_line
from console.tui.kill.columns import Col
from console.tui.kill.report import words_cell

WINDOWS: tuple[tuple[str, float | None], ...] = (
    ("24h", 86400.0),
    ("1h", 3600.0),
    ("15m", 900.0),
    ("all", None),
)
OUTCOMES: tuple[str | None, ...] = (None, "applied", "already", "rejected", "failed", "uncertain")
LIMIT = 5000
"""Rows shown at most (the newest); the CLI exports everything."""

SPECS = (
    Col("Time (UTC)", min_width=18),
    Col("Venue", priority=1, min_width=6, max_width=16),
    Col("Target", min_width=12, max_width=48),
    Col("Action", priority=2, min_width=5),
    Col("Kind", min_width=7),
    Col("Result", min_width=13, max_width=34),
    Col("HTTP", priority=5, min_width=4),
    Col("ms", priority=6, min_width=3),
    Col("Operator", priority=4, min_width=8, max_width=40),
    Col("Message", priority=3, min_width=12),
)
"""What happened first (time, where, to what, what came of it), then who and the words.
Time, target, kind and result always show (at 80 columns too); the others give way
first, the latency first of all."""
COLUMNS = tuple(c.label for c in SPECS)
FULL_TIME_WIDTH = 120
"""Below this many columns the time shows as ``01-01T00:00:00.000`` (no year, no Z)."""

T = TypeVar("T")


def cycle(values: Sequence[T], current: T) -> T:
    """The value after ``current`` (wrapping); the first when ``current`` is unknown."""
    try:
        return values[(list(values).index(current) + 1) % len(values)]
    except ValueError:
        return values[0]


@dataclass(frozen=True)
class AuditFilter:
    window: str = "24h"
    venue: str | None = None
    operator: str | None = None
    outcome: str | None = None
    batch_id: str | None = None
    interrupted_only: bool = False
    linked: tuple[str, ...] = ()
    """Batches shown with ``batch_id``: the retries and re-stops of that kill."""

    def since_ms(self, now: float) -> int | None:
        seconds = dict(WINDOWS).get(self.window)
        return None if seconds is None else int((now - seconds) * 1000)

    def next_window(self) -> AuditFilter:
        return replace(self, window=cycle([w for w, _ in WINDOWS], self.window))

    def describe(self) -> str:
        if self.interrupted_only:
            return "INTERRUPTED calls only (every time, venue and operator)"
        parts = [
            f"time {self.window}",
            f"venue {self.venue or 'all'}",
            f"operator {self.operator or 'all'}",
            f"outcome {self.outcome or 'all'}",
        ]
        if self.batch_id:
            retries = f" + {len(self.linked)} retry batch(es)" if self.linked else ""
            parts.append(f"this kill only (batch {self.batch_id[:8]}{retries})")
        return " · ".join(parts)


def query(journal: Journal, f: AuditFilter, now: float) -> tuple[list[Entry], bool]:
    """Entries matching ``f``, newest first, at most :data:`LIMIT`; and whether more
    match (the screen says so: "5000 rows" of a 400,000-row day read as all of them)."""
    if f.interrupted_only:
        found = journal.interrupted()
    else:
        batches = [f.batch_id, *f.linked] if f.batch_id else [None]
        found = [
            entry
            for batch in batches
            for entry in journal.entries(
                since_ms=f.since_ms(now),
                venue=f.venue,
                operator=f.operator,
                outcome=f.outcome,
                batch_id=batch,
                limit=LIMIT + 1,  # one past: "more than" is all it needs to know
            )
        ]
        if len(batches) > 1:
            found = sorted(found, key=lambda e: e.seq)
    return list(reversed(found[-LIMIT:])), len(found) > LIMIT


def result_cell(entry: Entry, interrupted: bool, tones: Tones) -> Text:
    if entry.kind == "intent":
        if interrupted:
            return Text(" INTERRUPTED — needs verification ", tones.danger, overflow="ellipsis")
        return Text("intent", "dim")
    if entry.kind == "verify":
        state = (entry.state or "unknown").upper()
        return Text(f"→ {state}", tones.warn if state == "UNKNOWN" else tones.plain)
    if entry.kind != "outcome":  # a note (a decision that sent nothing), or a kind unknown here
        return Text(one_line(entry.kind or "?", 20).upper(), tones.plain)
    word = (entry.outcome or "?").upper()
    return (
        Text(word, tones.ok) if word in ("APPLIED", "ALREADY") else Text(f" {word} ", tones.danger)
    )


def entry_cells(entry: Entry, interrupted: bool, tones: Tones) -> tuple[Text | str, ...]:
    message = one_line(entry.message or "", 300)
    if entry.kind == "intent" and entry.reason:
        message = f"reason: {one_line(entry.reason, 200)}"
    elif entry.kind not in ("outcome", "verify") and entry.reason:  # a note: why, then values
        message = f"{one_line(entry.reason, 200)}" + (f" · {message}" if message else "")
    who = f"{entry.operator}@{entry.host}" + (
        f" (ssh {entry.ssh_client})" if entry.ssh_client else ""
    )
    return (
        iso_ms(entry.ts_ms),
        words_cell(entry.venue),
        words_cell(f"{entry.target_name} · {entry.target_id}"),
        words_cell(entry.action),
        entry.kind,
        result_cell(entry, interrupted, tones),
        "" if entry.http_status is None else str(entry.http_status),
        "" if entry.latency_ms is None else f"{entry.latency_ms:.0f}",
        words_cell(who),
        words_cell(message),
    )
