"""The audit screen's rows for a journal note (a decision that sent nothing) and for a
kind this version does not know: the kind as the result, the why and values as the
message, never a crash; and its query says when more rows match than it shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.core.model import Action, ActionKind
from console.core.operator import Operator
from console.tui.format import Tones
from console.tui.screens import audit_rows
from console.tui.screens.audit_rows import AuditFilter, entry_cells, query


def test_a_note_shows_its_kind_why_and_values(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="sim", operator=Operator("al", "desk"))
    journal.note("guard:pnl-floor", "x3algo", "a1", "RSI", "alert", "pnl below -1000",
                 message="values: pnl=-1200")  # fmt: skip
    [entry], more = query(journal, AuditFilter(window="all"), 0.0)
    assert not more
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


def test_a_journal_past_the_screens_limit_says_more_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screen shows the newest LIMIT rows: "5000 rows" of a 400,000-row day read as
    all of them (session 23); it now says more match."""
    monkeypatch.setattr(audit_rows, "LIMIT", 3)
    journal = Journal(tmp_path / "j.sqlite3", profile="p")
    for i in range(3):
        journal.intend("x3algo", f"a{i}", "RSI", Action(ActionKind.STOP))
    rows, more = query(journal, AuditFilter(window="all"), 0.0)
    assert [e.target_id for e in rows] == ["a2", "a1", "a0"] and not more
    journal.intend("x3algo", "a3", "RSI", Action(ActionKind.STOP))
    rows, more = query(journal, AuditFilter(window="all"), 0.0)
    assert [e.target_id for e in rows] == ["a3", "a2", "a1"] and more
