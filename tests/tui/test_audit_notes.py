"""The audit screen's rows for a journal note (a decision that sent nothing) and for a
kind this version does not know: the kind as the result, the why and values as the
message, never a crash."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.core.operator import Operator
from console.tui.format import Tones
from console.tui.screens.audit_rows import AuditFilter, entry_cells, query


def test_a_note_shows_its_kind_why_and_values(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="sim", operator=Operator("al", "desk"))
    journal.note("guard:pnl-floor", "x3algo", "a1", "RSI", "alert", "pnl below -1000",
                 message="values: pnl=-1200")  # fmt: skip
    [entry] = query(journal, AuditFilter(window="all"), 0.0)
    cells = entry_cells(entry, False, Tones.monochrome())
    assert cells[4] == "note"
    assert isinstance(cells[5], Text) and cells[5].plain == "NOTE"
    assert str(cells[8]).startswith("guard:pnl-floor@desk")
    assert str(cells[9]) == "pnl below -1000 · values: pnl=-1200"


def test_an_unknown_kind_is_shown_not_a_crash() -> None:
    entry = Entry(1, 0, "annotation", "op", None, "al", "desk", None, "sim", "x3algo", "a1",
                  "RSI", "alert", "{}", None, None, None, None, "words", None)  # fmt: skip
    cells = entry_cells(entry, False, Tones.monochrome())
    assert cells[4] == "annotation" and str(cells[5]) == "ANNOTATION" and str(cells[9]) == "words"
