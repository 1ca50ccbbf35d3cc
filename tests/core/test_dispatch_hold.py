"""A held dispatcher starts no call until resumed (a desk hub that cannot confirm its
lease holds its calls instead of cutting the kill short); a hold that outlives the
dispatch deadline ends in *failed, not sent* with the hold's reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.core.dispatcher import Dispatcher
from console.core.kill import build_kill_plan
from console.core.model import OutcomeKind
from console.core.store import Store
from tests.core.fakes import FakeClient
from tests.core.test_kill_deadlines import journal


async def _ready(ids: list[str]) -> tuple[FakeClient, Store]:
    client = FakeClient("v", ids)
    store = Store()
    store.snapshot("v", await client.list_targets())
    return client, store


async def test_held_calls_wait_and_go_once_resumed(tmp_path: Path) -> None:
    client, store = await _ready(["a", "b", "c"])
    dispatcher = Dispatcher({"v": client}, journal(tmp_path), store, concurrency_per_venue=2)
    dispatcher.hold_calls("the desk's lease is not confirmed")
    reached = asyncio.Event()

    async def before() -> None:
        reached.set()

    dispatcher.before_calls = before
    run = asyncio.ensure_future(dispatcher.run(build_kill_plan(store, {"v": client}).plan))
    await reached.wait()  # the intents are journaled; the calls are next, and held
    dispatcher.resume()
    report = await run
    assert sorted(t for t, _ in client.calls) == ["a", "b", "c"]
    assert report.all_verified


async def test_a_hold_past_the_deadline_ends_in_not_sent_with_its_reason(tmp_path: Path) -> None:
    client, store = await _ready(["a", "b", "c"])
    dispatcher = Dispatcher(
        {"v": client}, journal(tmp_path), store, concurrency_per_venue=2, dispatch_deadline_s=0.2
    )
    dispatcher.hold_calls("the desk's lease is not confirmed")
    report = await dispatcher.run(build_kill_plan(store, {"v": client}).plan)
    assert client.calls == []
    outcomes = [r.outcome for r in report.results.values()]
    assert [o.kind for o in outcomes] == [OutcomeKind.FAILED] * 3
    assert all("not sent" in o.message and "lease is not confirmed" in o.message
               for o in outcomes)  # fmt: skip


async def test_a_resume_then_a_new_hold_in_one_turn_keeps_the_calls_held(tmp_path: Path) -> None:
    client, store = await _ready(["a", "b"])
    dispatcher = Dispatcher(
        {"v": client}, journal(tmp_path), store, concurrency_per_venue=2, dispatch_deadline_s=0.3
    )
    dispatcher.hold_calls("the lease is not confirmed")

    def flicker() -> None:  # lifted and held again in one turn, while the workers wait
        dispatcher.resume()
        dispatcher.hold_calls("the lease is not confirmed again")

    async def before() -> None:
        asyncio.get_running_loop().call_later(0.1, flicker)  # within the 0.3 s deadline

    dispatcher.before_calls = before
    report = await dispatcher.run(build_kill_plan(store, {"v": client}).plan)
    assert client.calls == []
    assert all("not sent" in r.outcome.message for r in report.results.values())
