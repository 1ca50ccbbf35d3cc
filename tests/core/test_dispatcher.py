"""The dispatcher: journaled intents and outcomes, per-venue independence, verification."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from console.core.dispatcher import DispatchBusy, Dispatcher
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target, TargetKind
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, PlanItem
from console.core.store import Store
from tests.core.fakes import FakeClient, quick


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
    report = await quick(Dispatcher({"a": a}, journal, store)).run(
        stop_plan(("a", "1"), ("a", "2"))
    )
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
    report = await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1")))
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
    report = await quick(Dispatcher({"bad": bad, "good": good}, journal)).run(
        stop_plan(("bad", "1"), ("good", "2"))
    )
    assert report.results[("bad", "1")].outcome.kind is OutcomeKind.UNCERTAIN
    assert report.results[("good", "2")].verified
    retry = report.retry_plan()
    assert retry is not None and [i.target_id for i in retry.items] == ["1"]


async def test_an_unknown_venue_fails_its_items(journal: Journal) -> None:
    report = await quick(Dispatcher({}, journal)).run(stop_plan(("gone", "1")))
    assert report.results[("gone", "1")].outcome.kind is OutcomeKind.FAILED
    assert report.summary() == "halted 0/1 verified · 1 failed"


async def test_an_applied_call_the_reread_contradicts_is_not_verified(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.answer = lambda _t, _a: Outcome(OutcomeKind.APPLIED, "stopped (says the venue)")
    report = await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1")))
    result = report.results[("a", "1")]
    assert result.outcome.ok and result.verified is False
    assert "1 not confirmed by re-read" in report.summary()
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message is not None and "not as asked" in verify[0].message


async def test_a_failed_reread_is_recorded_and_left_unverified(journal: Journal) -> None:
    a = FakeClient("a", ["1"])
    a.list_error = RuntimeError("HTTP 503 from venue")
    report = await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1")))
    assert report.results[("a", "1")].verified is False
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message == "re-read failed: HTTP 503 from venue"


async def test_calls_leave_in_plan_order_at_most_the_venue_concurrency_at_a_time(
    journal: Journal,
) -> None:
    ids = [str(i) for i in range(10)]
    a = FakeClient("a", ids)
    a.gate = asyncio.Event()
    dispatcher = Dispatcher({"a": a}, journal, concurrency_per_venue=3)
    run = asyncio.create_task(dispatcher.run(stop_plan(*(("a", i) for i in ids))))
    await asyncio.wait_for(a.called.wait(), 5)
    await asyncio.sleep(0.01)
    assert [tid for tid, _ in a.calls] == ["0", "1", "2"]  # three in flight, the first three
    a.gate.set()
    report = await asyncio.wait_for(run, 5)
    assert [tid for tid, _ in a.calls] == ids
    assert report.all_verified


async def test_the_journal_is_checkpointed_after_a_plan_never_during_it(tmp_path: Path) -> None:
    seen: list[int] = []

    class Watched(Journal):
        def checkpoint(self) -> None:
            seen.append(sum(1 for e in self.entries() if e.kind == "verify"))
            super().checkpoint()

    journal = Watched(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))
    a = FakeClient("a", ["1", "2"])
    await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1"), ("a", "2")))
    assert seen == [2]  # once, with every verification already written


async def test_a_delayed_checkpoint_follows_the_report_and_waits_for_a_plan_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []  # whether a plan ran at each checkpoint

    class Watched(Journal):
        def checkpoint(self) -> None:
            seen.append(dispatcher.busy)
            super().checkpoint()

    journal = Watched(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))
    a = FakeClient("a", ["1", "2"])
    dispatcher = Dispatcher({"a": a}, journal)
    dispatcher.checkpoint_delay_s = 0.01  # (a desk hub's: the report leaves first)
    fired: asyncio.Queue[None] = asyncio.Queue()
    timer = dispatcher._checkpoint_between_plans

    def fire() -> None:
        timer()
        fired.put_nowait(None)

    monkeypatch.setattr(dispatcher, "_checkpoint_between_plans", fire)
    await dispatcher.run(stop_plan(("a", "1")))
    assert seen == []  # run returned (the report) before any checkpoint
    a.called.clear()
    a.gate = asyncio.Event()
    second = asyncio.create_task(dispatcher.run(stop_plan(("a", "2"))))
    await asyncio.wait_for(a.called.wait(), 5)
    await asyncio.wait_for(fired.get(), 5)  # the first plan's turn came while one runs
    assert seen == []
    a.gate.set()
    await asyncio.wait_for(second, 5)
    await asyncio.wait_for(fired.get(), 5)
    assert seen == [False]  # once, after the second plan, between plans


async def test_the_collector_is_restored_whether_plans_end_or_are_cancelled(
    journal: Journal,
) -> None:
    before = gc.get_threshold()
    a = FakeClient("a", ["1"])
    await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1")))
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)
    b, c = FakeClient("b", ["1"]), FakeClient("c", ["1"])
    b.gate, c.gate = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(Dispatcher({"b": b}, journal).run(stop_plan(("b", "1"))))
    second = asyncio.create_task(Dispatcher({"c": c}, journal).run(stop_plan(("c", "1"))))
    await asyncio.wait_for(asyncio.gather(b.called.wait(), c.called.wait()), 5)
    assert gc.get_freeze_count() > 0 and gc.get_threshold()[0] >= 10_000
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert gc.get_threshold()[0] >= 10_000  # the other plan still runs
    c.gate.set()
    await asyncio.wait_for(second, 5)
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


class CountingClient(FakeClient):
    """Yields once inside each call, so calls that may overlap do overlap."""

    in_flight = 0
    most = 0

    async def execute(self, target_id: str, action: Action) -> Outcome:
        CountingClient.in_flight += 1
        CountingClient.most = max(CountingClient.most, CountingClient.in_flight)
        await asyncio.sleep(0)  # a yield, not a wait: lets any other call start
        try:
            return await super().execute(target_id, action)
        finally:
            CountingClient.in_flight -= 1


@pytest.mark.parametrize("serial", [True, False])
async def test_serial_runs_one_call_at_a_time_venue_after_venue_in_plan_order(
    journal: Journal, serial: bool
) -> None:
    a, b = CountingClient("a", ["1", "2"]), CountingClient("b", ["3"])
    CountingClient.most = 0
    dispatcher = Dispatcher({"a": a, "b": b}, journal)
    dispatcher.serial = serial
    report = await dispatcher.run(stop_plan(("b", "3"), ("a", "1"), ("a", "2")))
    assert report.all_verified
    outcomes = [e.target_id for e in journal.entries() if e.kind == "outcome"]
    if serial:
        assert CountingClient.most == 1
        assert outcomes == ["3", "1", "2"]  # venue after venue, each in plan order
    else:
        assert CountingClient.most == 3  # side by side: what a real kill does


@pytest.mark.parametrize("serial", [True, False])
async def test_intents_are_journaled_in_the_order_their_calls_leave(
    journal: Journal, serial: bool
) -> None:
    a, b = FakeClient("a", ["1", "2", "3"]), FakeClient("b", ["4", "5"])
    dispatcher = Dispatcher({"a": a, "b": b}, journal)
    dispatcher.serial = serial
    plan = stop_plan(("a", "1"), ("a", "2"), ("a", "3"), ("b", "4"), ("b", "5"))
    report = await dispatcher.run(plan)
    assert report.all_verified
    intents = [e.target_id for e in journal.entries() if e.kind == "intent"]
    if serial:
        assert intents == ["1", "2", "3", "4", "5"]  # venue after venue, as they are called
    else:
        assert intents == ["1", "4", "2", "5", "3"]  # venues side by side, each in plan order


async def test_a_re_read_that_answers_another_target_verifies_nothing(journal: Journal) -> None:
    """A venue whose read of "1" returns target "2" (a client bug, a mixed-up cache):
    "2"'s state is never taken as "1"'s."""
    a = FakeClient("a", ["1", "2"])
    a.states["2"] = State.STOPPED
    asked = a.read_target

    async def mixed_up(target_id: str) -> Target | None:
        return await asked("2")

    a.read_target = mixed_up  # type: ignore[method-assign]
    report = await quick(Dispatcher({"a": a}, journal)).run(stop_plan(("a", "1")))
    (result,) = report.results.values()
    assert result.verified is False and result.verified_state is State.UNKNOWN
    notes = [e.message for e in journal.entries() if e.kind == "verify"]
    assert any("gave another target ('2')" in (n or "") for n in notes), notes
