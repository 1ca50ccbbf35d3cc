"""The journal's account of the last kill: what ``w`` tells a console that did not run it."""

from __future__ import annotations

from pathlib import Path

from console.core.journal import Journal
from console.core.journal_rows import Intent, new_op_id
from console.core.last_kill import KILL_NOTE, last_kill
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", None)


def a_kill(journal: Journal, batch: str, venues: list[str]) -> list[Intent]:
    stop = Action(ActionKind.STOP)
    intents = [
        Intent(new_op_id(), batch, v, f"{v}-{i}", f"t{i}", stop) for i, v in enumerate(venues)
    ]
    journal.note("alice", "", "", "", KILL_NOTE, "the kill's targets need a re-arm", batch_id=batch)
    journal.intend_many(intents)
    return intents


def test_a_journal_that_names_no_kill_has_none(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="p", operator=OP)
    journal.note("guard:x", "", "", "", "guard", "a guard note")  # not a kill
    assert last_kill(journal) is None


def test_the_last_kill_is_counted_from_its_own_rows(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="p", operator=OP)
    a_kill(journal, "0" * 32, ["x3algo"])  # an earlier kill: not the one told
    first, second, third, _unanswered = a_kill(
        journal, "f" * 32, ["x3algo", "x3algo", "joyride", "pipai"]
    )
    stopped = Outcome(OutcomeKind.APPLIED, "stopped", 200, 1.0, State.STOPPED)
    journal.record_outcome(first, stopped)
    journal.record_outcome(second, Outcome(OutcomeKind.FAILED, "500", 500, 1.0))
    journal.record_outcome(third, Outcome(OutcomeKind.APPLIED, "paused", 200, 1.0, State.PAUSED))
    journal.record_verification(first, State.STOPPED, "re-read: stopped")
    journal.record_verification(second, State.RUNNING, "re-read: running")
    journal.record_verification(
        third, State.PAUSED, "not re-read: joyride cannot report pause state"
    )
    journal.flush()  # (the fourth: no answer recorded — a kill cut short)
    record = last_kill(journal)
    assert record is not None and record.batch_id == "f" * 32
    words = record.words()
    assert " by alice: 4 targets · answered: 2 applied, 1 failed · " in words, words
    assert "1 without an answer in the journal" in words
    assert ("re-read: 1 halted, 1 halted by the venue's answer only (not re-read), "
            "2 NOT verified halted · batch ffffffff") in words  # fmt: skip
