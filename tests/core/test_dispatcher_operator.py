"""A plan run as another operator (automation's ``schedule:<name>``) is journaled as that
operator — intent, outcome and verification — in the same file and chain, and the
journal's own operator is untouched for the next plan."""

from __future__ import annotations

from pathlib import Path

from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.model import Action, ActionKind, TargetKind
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem
from console.core.store import Store
from tests.core.fakes import FakeClient


def plan(kind: ActionKind, *ids: str) -> Plan:
    items = tuple(
        PlanItem("a", tid, f"name-{tid}", TargetKind.ALGORITHM, Action(kind, reason="close"))
        for tid in ids
    )
    return Plan(items, f"{kind} some", "selection")


async def test_a_run_as_another_operator_journals_every_row_as_that_operator(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path / "j.sqlite3", profile="p", operator=Operator("op", "host"))
    store = Store()
    dispatcher = Dispatcher({"a": FakeClient("a", ["1", "2", "3"])}, journal, store)
    schedule = Operator("schedule:close", "host")

    ran = await dispatcher.run(plan(ActionKind.PAUSE, "1", "2"), operator=schedule)
    by_hand = await dispatcher.run(plan(ActionKind.STOP, "3"))

    assert ran.all_verified and by_hand.all_verified
    rows = journal.entries(batch_id=ran.batch_id)
    assert sorted(e.kind for e in rows) == ["intent"] * 2 + ["outcome"] * 2 + ["verify"] * 2
    assert {(e.operator, e.host, e.profile) for e in rows} == {("schedule:close", "host", "p")}
    assert {e.operator for e in journal.entries(batch_id=by_hand.batch_id)} == {"op"}
    assert journal.operator == Operator("op", "host")
    assert journal.verify_chain().ok  # one chain, both operators' rows in it
    known = store.known("a", "1")
    assert known is not None and known.set_by == "schedule:close@host"


async def test_an_uncertain_call_ends_what_the_console_knew(tmp_path: Path) -> None:
    """A pause applied, then a resume that may or may not have landed: the store no
    longer offers "paused, set here" (an independent Joyride's round had resumed while
    its row still read PAUSED)."""
    from console.core.model import Outcome, OutcomeKind

    journal = Journal(tmp_path / "j.sqlite3", profile="p", operator=Operator("op", "host"))
    store = Store()
    client = FakeClient("a", ["1"])
    dispatcher = Dispatcher({"a": client}, journal, store)
    await dispatcher.run(plan(ActionKind.PAUSE, "1"))
    assert store.known("a", "1") is not None
    client.answer = lambda _id, _action: Outcome(OutcomeKind.UNCERTAIN, "no answer")
    await dispatcher.run(plan(ActionKind.RESUME, "1"))
    assert store.known("a", "1") is None
