"""A gate returned by ``before_calls`` holds each call until its intent is through: a call
goes once its intent is ready, one the gate blocks ends *failed, not sent* with the gate's
reason, and one still waiting at the dispatch deadline ends *failed, not sent* too —
never a call sent for an intent that did not get where it had to."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.core.call_gate import CallBlocked, CallGate
from console.core.dispatcher import Dispatcher
from console.core.journal_rows import Intent
from console.core.kill import build_kill_plan
from console.core.model import OutcomeKind
from console.core.plan import Report
from tests.core.fakes import FakeClient
from tests.core.test_dispatch_hold import _ready
from tests.core.test_kill_deadlines import journal


class Gate:
    """Lets through the targets in ``through``; blocks the rest once ``blocked`` is set."""

    waits_for = "its intent to be stored elsewhere"

    def __init__(self) -> None:
        self.through: set[str] = set()
        self.blocked: str | None = None
        self.changed = asyncio.Event()
        self.waiting: set[str] = set()
        self.arrived = asyncio.Event()  # set as a call comes to wait here

    def ready(self, intent: Intent) -> bool:
        return intent.target_id in self.through

    async def wait(self, intent: Intent) -> None:
        self.waiting.add(intent.target_id)
        self.arrived.set()
        while not self.ready(intent):
            if self.blocked is not None:
                raise CallBlocked(self.blocked)
            self.changed.clear()
            await self.changed.wait()

    def let(self, *ids: str, blocked: str | None = None) -> None:
        self.through.update(ids)
        self.blocked = blocked
        self.changed.set()


def gated(dispatcher: Dispatcher, gate: Gate) -> None:
    async def before() -> CallGate:
        return gate

    dispatcher.before_calls = before


async def a_through_of_three(
    tmp_path: Path,
) -> tuple[FakeClient, Dispatcher, Gate, asyncio.Future[Report]]:
    """A kill of a, b and c running behind a gate that lets "a" through."""
    client, store = await _ready(["a", "b", "c"])
    dispatcher = Dispatcher({"v": client}, journal(tmp_path), store, concurrency_per_venue=3)
    gate = Gate()
    gate.through.add("a")
    gated(dispatcher, gate)
    run = asyncio.ensure_future(dispatcher.run(build_kill_plan(store, {"v": client}).plan))
    return client, dispatcher, gate, run


async def test_each_call_waits_for_its_intent_and_goes_once_through(tmp_path: Path) -> None:
    client, _, gate, run = await a_through_of_three(tmp_path)
    async with asyncio.timeout(10):
        while gate.waiting != {"b", "c"}:  # "a" went; the other two wait at the gate
            gate.arrived.clear()
            await gate.arrived.wait()
    assert [t for t, _ in client.calls] == ["a"]
    gate.let("b", "c")
    report = await run
    assert sorted(t for t, _ in client.calls) == ["a", "b", "c"]
    assert report.all_verified


async def test_a_blocked_call_is_not_sent_and_says_why(tmp_path: Path) -> None:
    client, dispatcher, gate, run = await a_through_of_three(tmp_path)
    await client.called.wait()
    gate.let(blocked="the stream did not store its intent")
    report = await run
    assert [t for t, _ in client.calls] == ["a"]  # nothing past the gate reached the venue
    failed = {k[1]: r.outcome for k, r in report.results.items() if k[1] != "a"}
    assert {o.kind for o in failed.values()} == {OutcomeKind.FAILED}
    assert all(o.message.startswith("not sent: the stream did not store its intent")
               for o in failed.values())  # fmt: skip
    assert dispatcher.journal.interrupted() == []  # each intent has its outcome


async def test_a_call_still_at_the_gate_at_the_deadline_is_not_sent(tmp_path: Path) -> None:
    client, store = await _ready(["a", "b"])
    dispatcher = Dispatcher(
        {"v": client}, journal(tmp_path), store, concurrency_per_venue=2, dispatch_deadline_s=0.2
    )
    gated(dispatcher, Gate())  # never lets anything through
    report = await dispatcher.run(build_kill_plan(store, {"v": client}).plan)
    assert client.calls == []
    outcomes = [r.outcome for r in report.results.values()]
    assert [o.kind for o in outcomes] == [OutcomeKind.FAILED] * 2
    assert all("not sent" in o.message and "its intent to be stored elsewhere" in o.message
               for o in outcomes)  # fmt: skip
