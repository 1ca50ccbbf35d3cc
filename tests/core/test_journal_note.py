"""Notes in the journal: a decision that sends nothing (a skipped run, a guard that only
alerts) is a ``note`` row in the hash chain; journals from before notes are migrated on
open with every row kept byte for byte."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core import journal_chain
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", None)
KIND_CHECK = re.compile(r"CHECK \(kind = .*?'note'\)", re.S)
OLD_TABLE = KIND_CHECK.sub("CHECK (kind IN ('intent', 'outcome', 'verify'))", journal_chain.TABLE)
assert OLD_TABLE != journal_chain.TABLE
COLUMNS = ", ".join((*journal_chain.FIELDS, "hash"))


def journal_at(path: Path) -> Journal:
    return Journal(path, profile="sim", operator=OP)


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def a_call(journal: Journal, target: str = "a1", *, outcome: bool = True) -> None:
    intent = journal.intend(
        "x3algo", target, f"algo {target}", Action(ActionKind.STOP, {}, "drill")
    )
    if outcome:
        journal.record_outcome(
            intent, Outcome(OutcomeKind.APPLIED, "stopped", 200, 12.5, State.STOPPED)
        )
        journal.record_verification(intent, State.STOPPED, "re-read: stopped")


def a_guard_note(journal: Journal) -> None:
    journal.note(
        "guard:pnl-floor", "x3algo", "a1", "algo a1", "alert",
        "guard pnl-floor (pnl_below) fired on algo a1 on x3algo: pnl=-1200, threshold=-1000",
        message="values: pnl=-1200.0, threshold=-1000.0",
        options={"rule": "pnl_below", "values": {"pnl": -1200.0, "threshold": -1000.0}},
    )  # fmt: skip


def test_a_note_is_a_row_of_its_own_kind_in_the_chain(tmp_path: Path) -> None:
    journal = journal_at(tmp_path / "j.sqlite3")
    a_call(journal)
    a_guard_note(journal)
    a_call(journal, "a2")
    rows = journal.entries()
    assert [r.kind for r in rows] == ["intent", "outcome", "verify", "note", "intent", "outcome",
                                      "verify"]  # fmt: skip
    [note] = journal.entries(kind="note")
    assert (note.operator, note.host, note.profile) == ("guard:pnl-floor", "desk-1", "sim")
    assert (note.venue, note.target_id, note.action) == ("x3algo", "a1", "alert")
    assert (
        "pnl=-1200" in (note.reason or "")
        and note.message == "values: pnl=-1200.0, threshold=-1000.0"
    )
    assert note.as_json()["options"]["values"] == {"pnl": -1200.0, "threshold": -1000.0}
    assert note.outcome is None and note.state is None and note.hash
    check = journal.verify_chain()
    assert check.ok and check.rows == 7 and check.head == rows[-1].hash
    assert journal.entries(operator="guard:pnl-floor") == [note]


def test_a_note_is_never_an_interrupted_intent_nor_a_settled_state(tmp_path: Path) -> None:
    journal = journal_at(tmp_path / "j.sqlite3")
    a_guard_note(journal)
    assert journal.interrupted() == []
    assert journal.last_settled("x3algo") == {}
    a_call(journal, "a2", outcome=False)  # a call cut short is still interrupted
    assert [e.target_id for e in journal.interrupted()] == ["a2"]


def test_tampering_with_a_note_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = journal_at(path)
    a_call(journal)
    a_guard_note(journal)
    a_call(journal, "a2")
    seq = journal.entries(kind="note")[0].seq
    db = raw(path)
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET reason = 'nothing to see' WHERE seq = ?", (seq,))
    db.close()
    check = journal_at(path).verify_chain()
    assert not check.ok and check.broken_seq == seq


def test_audit_verify_passes_and_audit_lists_the_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                  venues=[])  # fmt: skip
    journal = Journal(profile.parent / "journal.sqlite3", profile="sim")
    a_call(journal)
    journal.note("alice", "finradar", "schedule:nvda", "nvda", "skip", "earnings call late")
    journal.close()
    assert main(["--config", str(profile), "audit", "--verify"]) == 0
    assert capsys.readouterr().out.startswith("journal chain OK: 4 rows")
    assert main(["--config", str(profile), "audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert "alice@" in lines[3] and " skip note:" in lines[3]
    assert "reason='earnings call late'" in lines[3]


def old_journal(path: Path, source: Path, *, lost_tail: int = 0) -> list[tuple[object, ...]]:
    """A journal file with the schema from before notes holding ``source``'s rows (a
    chained journal written by this code), the last ``lost_tail`` deleted from the end."""
    rows = raw(source).execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()
    db = raw(path)
    db.execute(OLD_TABLE)
    db.execute(journal_chain.META)
    for statement in journal_chain.INDEXES_AND_TRIGGERS:
        db.execute(statement)
    db.execute("INSERT INTO journal_meta VALUES ('chain_from', '1')")
    db.execute("INSERT INTO journal_meta VALUES ('chain_format', ?)", (journal_chain.CHAIN_FORMAT,))
    db.executemany(f"INSERT INTO entries ({COLUMNS}) VALUES ({', '.join('?' * 21)})", rows)
    if lost_tail:
        db.execute("DROP TRIGGER entries_no_delete")
        db.execute("DELETE FROM entries WHERE seq > ?", (len(rows) - lost_tail,))
        db.execute(journal_chain.INDEXES_AND_TRIGGERS[4])
    with pytest.raises(sqlite3.IntegrityError):  # the old CHECK refuses a note
        db.execute(
            "INSERT INTO entries (ts_ms, kind, op_id, operator, host, profile, venue,"
            " target_id, target_name, action) VALUES (1, 'note', 'x', 'a', 'h', 'p', 'v', 't',"
            " 'n', 'skip')"
        )
    db.close()
    return rows[: len(rows) - lost_tail]


def test_a_journal_from_before_notes_is_migrated_with_every_row_unchanged(
    tmp_path: Path,
) -> None:
    source = journal_at(tmp_path / "new.sqlite3")
    a_call(source)
    a_call(source, "a2", outcome=False)
    a_call(source, "a3")
    head = source.chain_head()
    source.close()
    path = tmp_path / "old.sqlite3"
    before = old_journal(path, tmp_path / "new.sqlite3")

    journal = journal_at(path)  # opening migrates
    after = raw(path).execute(f"SELECT {COLUMNS} FROM entries ORDER BY seq").fetchall()
    assert after == before  # seq, every field and hash, as they were
    assert [type(v) for r in after for v in r] == [type(v) for r in before for v in r]
    check = journal.verify_chain()
    assert check.ok and check.rows == len(before) and check.head == head
    assert [e.target_id for e in journal.interrupted()] == ["a2"]
    a_guard_note(journal)  # the migrated table takes notes, in the same chain
    assert journal.verify_chain().ok and journal.verify_chain().rows == len(before) + 1
    db = raw(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    assert "'note'" in sql
    names = {n for (n,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"entries_op", "entries_ts", "entries_target", "entries_no_update",
            "entries_no_delete", "entries_no_replace"} <= names  # fmt: skip
    assert "entries_note_migration" not in names
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM entries WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE entries SET reason = 'x' WHERE seq = 1")
    assert journal_at(path).verify_chain().ok  # a second open migrates nothing more


def test_rows_deleted_from_the_end_before_the_migration_still_show(tmp_path: Path) -> None:
    source = journal_at(tmp_path / "new.sqlite3")
    a_call(source)
    a_call(source, "a2")
    source.close()
    path = tmp_path / "old.sqlite3"
    kept = old_journal(path, tmp_path / "new.sqlite3", lost_tail=2)
    check = journal_at(path).verify_chain()
    assert not check.ok and check.broken_seq == len(kept) + 1
    assert "deleted from the end" in check.why


def test_a_journal_from_before_notes_opened_read_only_is_read_as_it_is(tmp_path: Path) -> None:
    source = journal_at(tmp_path / "new.sqlite3")
    a_call(source)
    source.close()
    path = tmp_path / "old.sqlite3"
    before = old_journal(path, tmp_path / "new.sqlite3")
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    journal_chain.ensure_schema(ro)  # cannot migrate: leaves it, does not fail
    check = journal_chain.verify(ro)
    assert check.ok and check.rows == len(before)
    sql = ro.execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    assert "'note'" not in sql
    ro.close()


def test_rows_after_a_seq_are_read_by_their_place_in_the_chain_not_their_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk hub mirrors rows after the last one in the stream: a wall clock that
    steps back between two rows must not hide the second (it is selected by seq)."""
    journal = journal_at(tmp_path / "j.sqlite3")
    journal.note("test", "x3algo", "-", "-", "note", "first")
    [first] = journal.entries()
    monkeypatch.setattr("console.core.journal.now_ms", lambda: first.ts_ms - 60_000)
    journal.note("test", "x3algo", "-", "-", "note", "written after, stamped a minute earlier")
    [later] = journal.entries(after_seq=first.seq)
    assert later.seq == first.seq + 1 and later.ts_ms < first.ts_ms
    assert journal.entries(since_ms=first.ts_ms) == [first]  # what a time filter would see
