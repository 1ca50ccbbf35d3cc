"""The dispatcher: journaled intents and outcomes, per-venue independence, verification."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.core.dispatcher import DispatchBusy, Dispatcher, ItemResult, Plan, PlanItem
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.operator import Operator
from console.core.store import Store
from tests.core.fakes import FakeClient


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))


def stop_plan(*pairs: tuple[str, str]) -> Plan:
    items = tuple(
        PlanItem(venue, tid, f"name-{tid}", TargetKind.ALGORITHM, Action(ActionKind.STOP))
        for venue, tid in pairs
    )
    return Plan(items, "stop some", "selection")


async def test_every_call_is_journaled_and_verified(journal: Journal) -> None:
    a = FakeClient("a", ["1", "2"])
    store = Store()
    report = await Dispatcher({"a": a}, journal, store).run(stop_plan(("a", "1"), ("a", "2")))
    assert report.all_verified
    assert report.summary() == "halted 2/2 verified"
    kinds = [e.kind for e in journal.entries()]
    assert kinds[:2] == ["intent", "intent"]  # every intent before any request
    assert kinds.count("outcome") == 2 and kinds.count("verify") == 2
    assert journal.interrupted() == []
    refreshed = store.get("a", "1")
    assert refreshed is not None and refreshed.state is State.STOPPED


async def test_already_in_state_counts_as_done(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.states["1"] = State.STOPPED
    report = await Dispatcher({"a": a}, journal).run(stop_plan(("a", "1")))
    result = report.results[("a", "1")]
    assert result.outcome.kind is OutcomeKind.ALREADY and result.verified


async def test_a_second_run_while_one_runs_dispatches_nothing(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.gate = asyncio.Event()
    dispatcher = Dispatcher({"a": a}, journal)
    first = asyncio.create_task(dispatcher.run(stop_plan(("a", "1"))))
    await asyncio.wait_for(a.called.wait(), 5)
    with pytest.raises(DispatchBusy):
        await dispatcher.run(stop_plan(("a", "1")))
    a.gate.set()
    await first
    assert len(a.calls) == 1


async def test_a_stuck_venue_does_not_hold_up_the_others(journal: Journal) -> None:
    slow, fast = FakeClient("slow", ["s"]), FakeClient("fast", ["f"])
    slow.gate = asyncio.Event()
    fast_verified = asyncio.Event()

    def seen(result: ItemResult) -> None:
        if result.item.venue == "fast" and result.verified:
            fast_verified.set()

    run = asyncio.create_task(
        Dispatcher({"slow": slow, "fast": fast}, journal).run(
            stop_plan(("slow", "s"), ("fast", "f")), seen
        )
    )
    await asyncio.wait_for(fast_verified.wait(), 5)
    assert not run.done()
    slow.gate.set()
    report = await run
    assert report.all_verified


async def test_a_venue_client_bug_becomes_uncertain_not_a_crash(journal: Journal) -> None:
    bad, good = FakeClient("bad", ["1"]), FakeClient("good", ["2"])

    def explode(_tid: str, _a: Action) -> Outcome:
        raise RuntimeError("boom")

    bad.answer = explode
    report = await Dispatcher({"bad": bad, "good": good}, journal).run(
        stop_plan(("bad", "1"), ("good", "2"))
    )
    assert report.results[("bad", "1")].outcome.kind is OutcomeKind.UNCERTAIN
    assert report.results[("good", "2")].verified
    retry = report.retry_plan()
    assert retry is not None and [i.target_id for i in retry.items] == ["1"]


async def test_an_unknown_venue_fails_its_items(journal: Journal) -> None:
    report = await Dispatcher({}, journal).run(stop_plan(("gone", "1")))
    assert report.results[("gone", "1")].outcome.kind is OutcomeKind.FAILED
    assert report.summary() == "halted 0/1 verified · 1 failed"


async def test_an_applied_call_the_reread_contradicts_is_not_verified(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.answer = lambda _t, _a: Outcome(OutcomeKind.APPLIED, "stopped (says the venue)")
    report = await Dispatcher({"a": a}, journal).run(stop_plan(("a", "1")))
    result = report.results[("a", "1")]
    assert result.outcome.ok and result.verified is False
    assert "1 not confirmed by re-read" in report.summary()
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message is not None and "not as asked" in verify[0].message


async def test_a_failed_reread_is_recorded_and_left_unverified(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.list_error = RuntimeError("HTTP 503 from venue")
    report = await Dispatcher({"a": a}, journal).run(stop_plan(("a", "1")))
    assert report.results[("a", "1")].verified is False
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message == "re-read failed: HTTP 503 from venue"
