"""Which journal rows a hub stores before a plan's first call: the rows up to each
venue's first wave of intents (console.desk.intent_gate.first_wave), none beyond."""

from __future__ import annotations

from console.core.journal_rows import Entry
from console.desk.intent_gate import first_wave


def row(seq: int, kind: str, venue: str, batch: str | None = "B") -> Entry:
    return Entry(seq, 0, kind, f"op{seq}", batch, "op", "host", None, "p", venue, str(seq),
                 f"t{seq}", "stop", "{}", None, None, None, None, None, None)  # fmt: skip


def test_the_first_wave_ends_at_the_last_venues_first_intents() -> None:
    rows = [
        row(1, "outcome", "a", batch="EARLIER"),  # a row not yet mirrored: stored first
        row(2, "intent", "a"), row(3, "intent", "b"), row(4, "intent", "a"),
        row(5, "intent", "b"), row(6, "intent", "a"), row(7, "intent", "b"),
    ]  # fmt: skip
    assert first_wave(rows, "B", per_venue=2) == 5  # a: 2, 4; b: 3, 5
    assert first_wave(rows, "B", per_venue=1) == 3
    assert first_wave(rows, "B", per_venue=64) == len(rows)


def test_a_venue_with_fewer_intents_than_a_wave_needs_them_all() -> None:
    rows = [row(1, "intent", "a"), row(2, "intent", "b"), row(3, "intent", "a"),
            row(4, "intent", "a")]  # fmt: skip
    assert first_wave(rows, "B", per_venue=2) == 3  # a: 1, 3; b: its only one, 2


def test_other_batches_and_rows_of_no_intent_are_not_waited_for() -> None:
    rows = [row(1, "intent", "a", batch="OTHER"), row(2, "note", "a")]
    assert first_wave(rows, "B", per_venue=2) == 0
    assert first_wave([], "B", per_venue=2) == 0
