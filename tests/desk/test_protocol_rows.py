"""A journal row on the wire (``JournalRowMsg``) carries exactly the journal's own row
(``Entry``): the protocol spells the columns out as a message, so a column added to the
journal must be added there too — this fails until it is."""

from __future__ import annotations

import dataclasses

from console.core.journal_rows import Entry
from console.desk import messages


def test_the_wire_row_has_the_journal_rows_columns_in_order() -> None:
    assert list(messages.JournalRowMsg.model_fields) == [f.name for f in dataclasses.fields(Entry)]


def test_a_row_goes_over_the_wire_and_back_unchanged() -> None:
    row = Entry(7, 1_700_000_000_000, "note", "op", None, "guard:pnl", "desk-1", None, "prod",
                "x3algo", "a1", "RSI", "alert", "{}", "values: pnl -5", None, None, None,
                "values", None, "ab" * 32)  # fmt: skip
    assert messages.JournalRowMsg.decode(messages.JournalRowMsg.of(row).encode()).entry() == row
