"""The journal's hash chain: sound rows verify, a rewritten row is named, concurrent
writers never fork it, journals from before the chain are migrated in place."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console.core import journal_chain
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", "127.0.0.9")
EXAMPLES = 2000 if os.environ.get("CI") else 200
# The two encoding equivalences below compare a written-out encoder with the generic one
# over a handful of type branches (None, text, int, float and its NaN/Infinity forms,
# anything else through the encoder itself); text goes through the very function the
# generic encoder uses. Each branch is pinned by an explicit example, every run; the
# drawn ones only vary them. 500 in CI (2,000 before: some 3 s of CPU for no branch
# more), 200 locally as before.
ENCODING_EXAMPLES = 500 if os.environ.get("CI") else 200


def journal_at(path: Path, profile: str = "prod") -> Journal:
    return Journal(path, profile=profile, operator=OP)


def a_kill(journal: Journal, n: int = 3, venue: str = "x3algo") -> None:
    """n intents in one transaction, then their outcomes and verifications."""
    from console.core.journal_rows import Intent, new_op_id

    intents = [
        Intent(
            new_op_id(),
            "batch-1",
            venue,
            f"a{i}",
            f"algo {i}",
            Action(ActionKind.STOP, {}, "drill"),
        )
        for i in range(n)
    ]
    journal.intend_many(intents)
    for intent in intents:
        journal.record_outcome(
            intent, Outcome(OutcomeKind.APPLIED, "stopped", 200, 12.5, State.STOPPED)
        )
        journal.record_verification(intent, State.STOPPED, "re-read: stopped")


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_a_sound_journal_verifies_and_its_head_is_the_last_rows_hash(tmp_path: Path) -> None:
    journal = journal_at(tmp_path / "j.sqlite3")
    assert journal.chain_head() == ""
    a_kill(journal)
    check = journal.verify_chain()
    rows = journal.entries()
    assert check.ok and check.rows == len(rows) == 9 and check.unchained == 0
    assert check.head == journal.chain_head() == rows[-1].hash
    assert [r.seq for r in rows] == list(range(1, 10))
    assert len({r.hash for r in rows}) == 9
    assert check.summary() == f"journal chain OK: 9 rows, head {rows[-1].hash[:16]}"
    before = journal.chain_head()
    journal.intend("x3algo", "a9", "algo 9", Action(ActionKind.STOP))
    assert journal.chain_head() != before  # each row moves the receipt


def test_the_documented_formula_recomputes_every_hash_with_hashlib_and_json(tmp_path: Path) -> None:
    """An auditor needs nothing but sqlite3, json and hashlib (docs/EMERGENCY.md)."""
    journal = journal_at(tmp_path / "j.sqlite3")
    journal.intend(
        "pipai", "s1", "grid é ✓", Action(ActionKind.PAUSE, {"close_positions": True}, "r")
    )
    a_kill(journal, 2)
    previous = ""
    db = raw(tmp_path / "j.sqlite3")
    columns = ", ".join(journal_chain.FIELDS)
    for row in db.execute(f"SELECT {columns}, hash FROM entries ORDER BY seq"):
        canonical = json.dumps(list(row[:-1]), ensure_ascii=True, separators=(",", ":"))
        previous = hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()
        assert row[-1] == previous
    assert previous == journal.chain_head()


def test_an_intent_rewritten_into_applied_after_drop_trigger_is_caught(tmp_path: Path) -> None:
    journal = journal_at(tmp_path / "j.sqlite3")
    a_kill(journal)
    db = raw(tmp_path / "j.sqlite3")
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET kind = 'outcome', outcome = 'applied' WHERE seq = 2")
    check = journal_at(tmp_path / "j.sqlite3").verify_chain()
    assert not check.ok
    assert check.broken_seq == 2 and check.rows == 1
    assert "was altered" in check.why
    assert check.summary().startswith("journal chain BROKEN at seq 2:")


def test_a_rewritten_row_whose_hash_was_recomputed_breaks_the_next_row(tmp_path: Path) -> None:
    journal = journal_at(tmp_path / "j.sqlite3")
    a_kill(journal)
    db = raw(tmp_path / "j.sqlite3")
    db.execute("DROP TRIGGER entries_no_update")
    first = db.execute(
        f"SELECT {', '.join(journal_chain.FIELDS)} FROM entries WHERE seq = 1"
    ).fetchone()
    forged = list(first)
    forged[journal_chain.FIELDS.index("target_name")] = "someone else"
    db.execute("UPDATE entries SET target_name = 'someone else', hash = ? WHERE seq = 1",
               (journal_chain.link("", forged),))  # fmt: skip
    check = journal.verify_chain()
    assert not check.ok and check.broken_seq == 2


def test_deleted_rows_and_removed_hashes_are_named(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    a_kill(journal_at(path))
    db = raw(path)
    db.execute("DROP TRIGGER entries_no_delete")
    db.execute("DELETE FROM entries WHERE seq IN (4, 5)")
    check = journal_at(path).verify_chain()
    assert (check.ok, check.broken_seq) == (False, 6)
    assert "seq 4-5 deleted" in check.why

    path2 = tmp_path / "tail.sqlite3"
    a_kill(journal_at(path2))
    db2 = raw(path2)
    db2.execute("DROP TRIGGER entries_no_delete")
    db2.execute("DELETE FROM entries WHERE seq > 7")
    check = journal_at(path2).verify_chain()
    assert (check.ok, check.broken_seq) == (False, 8)
    assert "deleted from the end" in check.why

    path3 = tmp_path / "nohash.sqlite3"
    a_kill(journal_at(path3))
    db3 = raw(path3)
    db3.execute("DROP TRIGGER entries_no_update")
    db3.execute("UPDATE entries SET hash = NULL WHERE seq = 3")
    check = journal_at(path3).verify_chain()
    assert (check.ok, check.broken_seq) == (False, 3) and "no hash" in check.why


def test_insert_or_replace_on_an_existing_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = journal_at(path)
    journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    db = raw(path)
    columns = ", ".join(journal_chain.FIELDS)
    row = list(db.execute(f"SELECT {columns}, hash FROM entries WHERE seq = 1").fetchone())
    row[journal_chain.FIELDS.index("outcome")] = "applied"
    marks = ", ".join("?" * len(row))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(f"INSERT OR REPLACE INTO entries ({columns}, hash) VALUES ({marks})", row)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(f"REPLACE INTO entries ({columns}, hash) VALUES ({marks})", row)
    db.execute("PRAGMA recursive_triggers = ON")  # a writer's own setting changes nothing
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(f"INSERT OR REPLACE INTO entries ({columns}, hash) VALUES ({marks})", row)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("INSERT OR REPLACE INTO journal_meta (key, value) VALUES ('chain_from', '99')")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE journal_meta SET value = '99'")
    assert journal.entries()[0].outcome is None
    assert journal.verify_chain().ok


def test_a_second_open_restores_dropped_triggers(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal_at(path).intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    raw(path).execute("DROP TRIGGER entries_no_replace")
    journal_at(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw(path).execute("INSERT OR REPLACE INTO entries (seq, ts_ms, kind, op_id, operator,"
                          " host, profile, venue, target_id, target_name, action)"
                          " VALUES (1, 0, 'intent', 'x', 'a', 'b', 'c', 'd', 'e', 'f', 'stop')")  # fmt: skip


def test_the_kind_check_admits_the_four_kinds_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal_at(path).close()
    db = raw(path)
    insert = ("INSERT INTO entries (ts_ms, kind, op_id, operator, host, profile, venue,"
              " target_id, target_name, action) VALUES (0, ?, 'x', 'a', 'h', 'p', 'v', 't', 'n', 's')")  # fmt: skip
    for kind in ("intent", "outcome", "verify", "note"):
        db.execute(insert, (kind,))
    for kind in ("Intent", "outcome ", "", "other"):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.execute(insert, (kind,))


def test_a_journal_with_the_earlier_in_list_kind_check_is_used_as_it_is(tmp_path: Path) -> None:
    """Journals created before the CHECK was written as ``=`` … ``OR`` (same kinds, cheaper
    per row) are not rewritten: they open, take every kind of row and verify."""
    path = tmp_path / "j.sqlite3"
    earlier = "CHECK (kind IN ('intent', 'outcome', 'verify', 'note'))"
    table = re.sub(r"CHECK \(kind = .*?'note'\)", earlier, journal_chain.TABLE, flags=re.S)
    assert earlier in table
    db = raw(path)
    db.execute(table)
    db.execute(journal_chain.META)
    db.execute("INSERT INTO journal_meta VALUES ('chain_from', '1')")
    db.execute("INSERT INTO journal_meta VALUES ('chain_format', ?)", (journal_chain.CHAIN_FORMAT,))
    for statement in journal_chain.INDEXES_AND_TRIGGERS:
        db.execute(statement)
    db.close()
    journal = journal_at(path)
    a_kill(journal, 3)
    journal.note("guard:drawdown", "x3algo", "a1", "algo 1", "alert", "over the limit")
    check = journal.verify_chain()
    assert check.ok and check.rows == 10 and journal.failed is None
    sql = raw(path).execute("SELECT sql FROM sqlite_master WHERE name = 'entries'").fetchone()[0]
    assert earlier in sql  # left as it was


OLD_SCHEMA = """
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('intent', 'outcome', 'verify')), op_id TEXT NOT NULL,
    batch_id TEXT, operator TEXT NOT NULL, host TEXT NOT NULL, ssh_client TEXT,
    profile TEXT NOT NULL, venue TEXT NOT NULL, target_id TEXT NOT NULL,
    target_name TEXT NOT NULL, action TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}',
    reason TEXT, outcome TEXT, http_status INTEGER, latency_ms REAL, message TEXT, state TEXT
);
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""


def test_a_journal_from_before_the_chain_is_migrated_and_its_old_rows_marked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    db = raw(path)
    db.executescript(OLD_SCHEMA)
    for i in range(4):
        db.execute(
            "INSERT INTO entries (ts_ms, kind, op_id, operator, host, profile, venue, target_id,"
            " target_name, action) VALUES (?, 'intent', ?, 'bob', 'h', 'prod', 'x3algo', ?, 'n', 'stop')",
            (1000 + i, f"op{i}", f"t{i}"),
        )
    db.close()
    journal = journal_at(path)
    assert journal.verify_chain().ok  # nothing chained yet: the old rows alone
    a_kill(journal, 2)
    rows = journal.entries()
    assert [r.hash is None for r in rows] == [True] * 4 + [False] * 6
    check = journal_at(path).verify_chain()  # a second open migrates nothing more
    assert check.ok and (check.rows, check.unchained) == (6, 4)
    assert check.summary().endswith("(+4 rows from before the chain)")
    meta = dict(raw(path).execute("SELECT key, value FROM journal_meta"))
    assert meta["chain_from"] == "5"
    # an old row given a hash afterwards, or a chained row stripped of it, is a break
    db = raw(path)
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET hash = 'x' WHERE seq = 2")
    assert journal.verify_chain().broken_seq == 2


def test_two_journal_objects_interleaving_on_one_file_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    console, cli = journal_at(path, "prod"), journal_at(path, "prod")
    for round_ in range(20):
        a_kill(console if round_ % 2 else cli, 3)
        cli.intend("finradar", f"t{round_}", "TSLA", Action(ActionKind.STOP))
        console.intend("pipai", f"s{round_}", "grid", Action(ActionKind.PAUSE))
    check = console.verify_chain()
    assert check.ok and check.rows == 20 * 11
    assert cli.chain_head() == console.chain_head() == check.head


WRITER = textwrap.dedent(
    """
    import sys
    from console.core.journal import Journal
    from console.core.journal_rows import Intent, new_op_id
    from console.core.model import Action, ActionKind, Outcome, OutcomeKind
    journal = Journal(sys.argv[1], profile=sys.argv[2])
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    sys.stdin.readline()  # both start together
    for i in range(int(sys.argv[3])):
        intents = [Intent(new_op_id(), None, "x3algo", f"{sys.argv[2]}-{i}-{k}", "n",
                          Action(ActionKind.STOP)) for k in range(5)]
        journal.intend_many(intents)
        for intent in intents:
            journal.record_outcome(intent, Outcome(OutcomeKind.APPLIED, "ok"))
    journal.close()
    print(journal.failed)
    """
)


def test_two_processes_writing_one_journal_at_once_never_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal_at(path)  # created (and migrated) once, as the console would
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, "60"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("cli", "console")
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert [o.strip() for o in outs] == ["None", "None"]  # neither fell back
    check = journal_at(path).verify_chain()
    assert check.ok and check.rows == 2 * 60 * 10
    kinds = [e.profile for e in journal_at(path).entries(all_profiles=True)]
    assert kinds.count("cli") == kinds.count("console") == 600


def test_export_carries_each_rows_hash(tmp_path: Path) -> None:
    import io

    journal = journal_at(tmp_path / "j.sqlite3")
    a_kill(journal, 1)
    out = io.StringIO()
    journal.export_jsonl(out)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[-1]["hash"] == journal.chain_head()


_values = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
)


@settings(max_examples=ENCODING_EXAMPLES, deadline=None)
@given(st.lists(_values, max_size=8))
@example([None, "", "\ud800", '"\\\x00\x1b\u2028\U0001f600', "é", True, False, 0])
@example([-(2**63), 2**63 - 1, 0.0, -0.0, float("inf"), float("-inf"), 5e-324, 1e16])
@example([1.7976931348623157e308, 0.1, -1.5, 123456789.0])
@example([float("nan")])  # not drawn (allow_nan=False), but its branch is compared only here
def test_the_per_part_encoding_is_the_canonical_encoding(values: list[object]) -> None:
    assert "[" + journal_chain.elements(values) + "]" == journal_chain.encode(values)
    texts = [v for v in values if v is None or isinstance(v, str)]
    assert journal_chain.strings(texts) == journal_chain.elements(texts)


_text = st.one_of(st.none(), st.text())


@settings(max_examples=ENCODING_EXAMPLES, deadline=None)
@given(_text, st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
       st.one_of(st.none(), st.floats()), _text, _text)  # fmt: skip
@example(None, None, None, None, None)
@example("", 0, float("nan"), "\ud800\x00", '"\\')
@example("APPLIED", -(2**63), float("inf"), "\u2028\U0001f600", "é")
@example("x", 2**63 - 1, float("-inf"), "\x1b[2J", "")
@example("x", 200, -0.0, "m", "s")
@example("x", 1, 5e-324, "m", "s")
@example("x", 1, 1e16, "m", "s")
def test_the_written_out_encodings_are_the_canonical_encoding(
    outcome: str | None, status: int | None, latency: float | None, message: str | None,
    state: str | None,
) -> None:  # fmt: skip
    """The outcome's five fields and an intent's own fields are encoded without
    :func:`elements`'s loop: the same text, whatever the values."""
    from console.core.journal_rows import Intent

    result = (outcome, status, latency, message, state)
    assert journal_chain.result_elements(*result) == journal_chain.elements(result)
    intent = Intent(message or "", outcome, state or "", message or "", outcome or "",
                    Action(ActionKind.PAUSE, {"close": bool(status)}, message))  # fmt: skip
    assert intent._canon == (journal_chain.strings(intent._ids),
                             journal_chain.strings(intent._what))  # fmt: skip


@settings(max_examples=EXAMPLES // 4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    name=st.text(),
    reason=st.one_of(st.none(), st.text()),
    message=st.text(),
    status=st.one_of(st.none(), st.integers()),
    latency=st.one_of(st.none(), st.floats()),
)
def test_whatever_a_venue_says_is_stored_as_hashed(
    name: str, reason: str | None, message: str, status: int | None, latency: float | None
) -> None:
    """Odd text (lone surrogates, NULs, escapes), huge or NaN numbers: the row is stored
    as it was hashed, so the chain verifies."""
    journal = Journal(":memory:", profile="p", operator=OP)
    intent = journal.intend("x3algo", name, name, Action(ActionKind.STOP, {}, reason))
    journal.record_outcome(intent, Outcome(OutcomeKind.FAILED, message, status, latency))
    journal.record_verification(intent, State.UNKNOWN, message)
    assert journal.failed is None
    check = journal.verify_chain()
    assert check.ok and check.rows == 3, check
