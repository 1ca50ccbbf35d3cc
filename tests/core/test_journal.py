"""The journal: append-only, intent before outcome, interrupted runs found, no secrets."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from pathlib import Path

import pytest

from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", "127.0.0.9")


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3", profile="prod", operator=OP)


def test_intent_then_outcome_share_an_op_id_and_carry_who_and_what(journal: Journal) -> None:
    intent = journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP, {}, "risk breach"))
    journal.record_outcome(
        intent, Outcome(OutcomeKind.APPLIED, "stopped", 200, 12.5, State.STOPPED)
    )
    rows = journal.entries()
    assert [r.kind for r in rows] == ["intent", "outcome"]
    assert rows[0].op_id == rows[1].op_id
    out = rows[1]
    assert (out.operator, out.host, out.ssh_client) == ("alice", "desk-1", "127.0.0.9")
    assert (out.venue, out.target_id, out.action, out.reason) == (
        "x3algo",
        "a1",
        "stop",
        "risk breach",
    )
    assert (out.outcome, out.http_status, out.latency_ms, out.state) == (
        "applied",
        200,
        12.5,
        "stopped",
    )
    assert out.ts_ms >= rows[0].ts_ms


def test_the_journal_refuses_updates_and_deletes(journal: Journal, tmp_path: Path) -> None:
    journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE entries SET outcome = 'applied'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM entries")


def test_wal_mode_is_on(journal: Journal, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The writer's own settings: a commit survives the process being killed (NORMAL),
    # and a kill's changed index pages fit in its cache (16 MiB, see journal._CACHE_KIB).
    assert journal._db is not None
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert journal._db.execute("PRAGMA cache_size").fetchone()[0] == -16_384


def test_intents_without_outcomes_are_reported_interrupted(journal: Journal) -> None:
    done = journal.intend("pipai", "s1", "grid", Action(ActionKind.PAUSE))
    journal.record_outcome(done, Outcome(OutcomeKind.APPLIED, "paused"))
    journal.intend("pipai", "s2", "dca", Action(ActionKind.PAUSE))
    interrupted = journal.interrupted()
    assert [e.target_id for e in interrupted] == ["s2"]


def test_filters_by_venue_outcome_and_time(journal: Journal) -> None:
    a = journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    journal.record_outcome(a, Outcome(OutcomeKind.FAILED, "HTTP 503"))
    b = journal.intend("finradar", "t1", "TSLA", Action(ActionKind.STOP))
    journal.record_outcome(b, Outcome(OutcomeKind.APPLIED, "stopped"))
    assert {e.venue for e in journal.entries(venue="finradar")} == {"finradar"}
    failed = journal.entries(outcome="failed")
    assert {e.target_id for e in failed} == {"a1"} and len(failed) == 2
    assert journal.entries(since_ms=10**15) == []


def test_options_and_export_as_json_lines(journal: Journal) -> None:
    intent = journal.intend(
        "pipai", "s1", "grid", Action(ActionKind.PAUSE, {"close_positions": True})
    )
    journal.record_outcome(intent, Outcome(OutcomeKind.ALREADY, "already paused"))
    out = io.StringIO()
    assert journal.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["options"] == {"close_positions": True}
    assert lines[1]["outcome"] == "already"
    assert lines[1]["time"].endswith("Z")


def test_each_rows_options_are_its_own_even_when_equal_values_differ_in_type(
    journal: Journal,
) -> None:
    for options in ({"close_positions": True}, {"close_positions": 1}, {"close_positions": "1"}):
        journal.intend("pipai", "s1", "grid", Action(ActionKind.PAUSE, options))
    recorded = [json.loads(e.options) for e in journal.entries()]
    assert recorded == [{"close_positions": True}, {"close_positions": 1}, {"close_positions": "1"}]
    assert [type(r["close_positions"]) for r in recorded] == [bool, int, str]


def test_profiles_do_not_see_each_others_interrupted_runs(tmp_path: Path) -> None:
    prod = Journal(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    demo = Journal(tmp_path / "j.sqlite3", profile="demo", operator=OP)
    prod.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    assert demo.interrupted() == []
    assert len(prod.interrupted()) == 1


async def test_outcomes_of_one_loop_turn_are_committed_together_at_its_end(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    other_process = Journal(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    intents = [journal.intend("x3algo", f"a{i}", "RSI", Action(ActionKind.STOP)) for i in range(3)]
    assert len(other_process.entries()) == 3  # intents are committed before any request
    for intent in intents:
        journal.record_outcome(intent, Outcome(OutcomeKind.APPLIED, "stopped"))
    assert len(other_process.entries()) == 3  # not yet: same turn of the loop
    await asyncio.sleep(0)  # the turn ends
    assert [e.kind for e in other_process.entries()].count("outcome") == 3
