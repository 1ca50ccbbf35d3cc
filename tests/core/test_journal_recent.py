"""A journal's own rows read back from memory (``Journal.rows_after``, what a desk hub
copies to its journal stream) are the rows the file holds, value for value and type for
type — or they are read from the file: the stream's rows are hashed again by whoever
audits them, and one ``12`` where the file says ``12.0`` would break the chain there."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core.journal import Journal
from console.core.journal_rows import Entry, Intent, new_op_id
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", "127.0.0.9")
EXAMPLES = 100 if os.environ.get("CI") else 40
"""Each example writes a journal file and reads every row back after every step."""

texts = st.text(max_size=12)
numbers = st.one_of(
    st.none(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True)
)
outcomes = st.builds(
    Outcome,
    st.sampled_from(OutcomeKind),
    texts,
    st.one_of(st.none(), st.integers(100, 599)),
    numbers,
    st.one_of(st.none(), st.sampled_from(State)),
)
options = st.dictionaries(st.text(max_size=5), st.one_of(texts, st.integers(), st.booleans()))
intents = st.builds(
    lambda venue, tid, name, opts, reason: Intent(
        new_op_id(), "batch", venue, tid, name, Action(ActionKind.STOP, opts, reason)
    ),
    st.sampled_from(["x3algo", "pipai", "joyride"]),
    texts,
    texts,
    options,
    st.one_of(st.none(), texts),
)
# One step: a plan's intents (then each one's outcome and verification), or a note.
steps = st.one_of(
    st.tuples(st.just("plan"), st.lists(st.tuples(intents, outcomes), min_size=1, max_size=4)),
    st.tuples(st.just("note"), st.tuples(texts, texts, numbers)),
)


def typed(entries: list[Entry]) -> list[list[tuple[type, Any]]]:
    """Each row's values with their types: ``12 == 12.0`` would hide the difference."""
    return [
        [(type(v), repr(v)) for v in dataclasses.astuple(e)]  # repr: NaN is not NaN
        for e in entries
    ]


def apply(journal: Journal, step: tuple[str, Any]) -> None:
    kind, what = step
    if kind == "plan":
        journal.intend_many([intent for intent, _ in what])
        for intent, outcome in what:
            journal.record_outcome(intent, outcome)
            journal.record_verification(intent, State.STOPPED, "re-read")
        journal.flush()
    else:
        reason, message, value = what
        journal.note("guard:g", "x3algo", "a1", "algo", "pause", reason, message=message,
                     options={"value": value})  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(steps, min_size=1, max_size=6))
def test_rows_read_back_from_memory_are_the_files_rows(
    tmp_path_factory: Any, journal_steps: list[tuple[str, Any]]
) -> None:
    path = Path(tmp_path_factory.mktemp("j")) / "journal.sqlite3"
    journal = Journal(path, profile="prod", operator=OP)
    journal.keep_recent(5)  # fewer than most runs write: from the file too, at times
    try:
        for step in journal_steps:
            apply(journal, step)
            last = journal.entries()[-1].seq
            for seq in range(last + 1):
                assert typed(journal.rows_after(seq)) == typed(journal.entries(after_seq=seq))
    finally:
        journal.close()


def test_rows_another_process_wrote_are_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    hub, other = (Journal(path, profile="prod", operator=OP) for _ in range(2))
    hub.keep_recent(100)
    try:
        apply(hub, ("note", ("first", "", 1)))
        apply(other, ("note", ("between", "", 2)))  # (a CLI beside it, the same file)
        apply(hub, ("note", ("third", "", 3.5)))
        for seq in range(4):
            assert hub.rows_after(seq) == hub.entries(after_seq=seq)
        assert [e.reason for e in hub.rows_after(0)] == ["first", "between", "third"]
        apply(other, ("note", ("since", "", None)))
        assert [e.reason for e in hub.rows_after(2)] == ["third", "since"]
    finally:
        hub.close()
        other.close()


def test_a_checkpoint_put_off_past_the_close_does_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A desk hub checkpoints 0.5 s after a plan: the journal may be closed by then."""
    journal = Journal(tmp_path / "journal.sqlite3", profile="prod", operator=OP)
    apply(journal, ("note", ("before", "", 1)))
    journal.close()
    with caplog.at_level(logging.WARNING):
        journal.checkpoint()
    assert caplog.records == []
