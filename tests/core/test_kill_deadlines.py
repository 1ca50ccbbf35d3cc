"""The kill's deadline model and what a plan says it could not cover (docs/EMERGENCY.md).

Deadlines here are short so a hung fake venue costs the suite a fraction of a second;
nothing is asserted about time, only about what the report says once it ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.kill import build_kill_plan
from console.core.kill_lock import KillLock, KillLocked
from console.core.model import OutcomeKind, State, Target, TargetKind
from console.core.operator import Operator
from console.core.session import Session, SessionOptions
from console.core.store import Store
from console.venues.kit.base import RateLimit
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.kit.http import send
from console.venues.kit.pacing import Pacer, VendorAskedWait
from tests.core.fakes import FakeClient

OP = Operator("op", "host")


def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3", profile="test", operator=OP)


class Hanging(FakeClient):
    """A venue that accepts a connection and never answers (list, read or control)."""

    def __init__(self, name: str, ids: list[str], *, hang_list: bool = False) -> None:
        super().__init__(name, ids)
        self.hang_list = hang_list
        self.list_calls = 0

    async def list_targets(self) -> list[Target]:
        self.list_calls += 1
        if self.hang_list:
            await asyncio.Event().wait()
        return await super().list_targets()

    async def read_target(self, target_id: str) -> Target | None:
        if self.hang_list:
            await asyncio.Event().wait()
        return await super().read_target(target_id)


async def test_a_venue_that_never_answers_ends_in_failed_and_uncertain_calls(
    tmp_path: Path,
) -> None:
    stuck = FakeClient("stuck", [f"a{i}" for i in range(5)])
    stuck.gate = asyncio.Event()  # never set: every call hangs once sent
    healthy = FakeClient("healthy", ["h1", "h2"])
    clients = {"stuck": stuck, "healthy": healthy}
    store = Store()
    for c in clients.values():
        store.snapshot(c.name, await c.list_targets())
    dispatcher = Dispatcher(
        clients, journal(tmp_path), store, concurrency_per_venue=2, dispatch_deadline_s=0.2
    )
    report = await dispatcher.run(build_kill_plan(store, clients).plan)
    stuck_results = [r for (v, _), r in report.results.items() if v == "stuck"]
    kinds = sorted(r.outcome.kind.value for r in stuck_results)
    assert kinds == ["failed", "failed", "failed", "uncertain", "uncertain"]
    assert all("deadline" in r.outcome.message for r in stuck_results)
    assert all(
        "not sent" in r.outcome.message
        for r in stuck_results
        if r.outcome.kind is OutcomeKind.FAILED
    )
    assert len(stuck.calls) == 2  # only what was in flight was ever sent
    assert all(r.verified for (v, _), r in report.results.items() if v == "healthy")
    assert not report.all_verified


async def test_a_reread_that_never_answers_ends_not_verified(tmp_path: Path) -> None:
    client = Hanging("slow", ["a1", "a2", "a3", "a4"])
    store = Store()
    store.snapshot("slow", await client.list_targets())
    client.hang_list = True
    j = journal(tmp_path)
    dispatcher = Dispatcher({"slow": client}, j, store, verify_deadline_s=0.2)
    report = await dispatcher.run(build_kill_plan(store, {"slow": client}).plan)
    assert {r.outcome.kind for r in report.results.values()} == {OutcomeKind.APPLIED}
    assert all(r.verified is False for r in report.results.values())
    notes = [e.message for e in j.entries(kind="verify")]
    assert notes and all("no complete re-read within 0.2 s" in (n or "") for n in notes)


async def test_planning_reads_end_within_their_deadline(tmp_path: Path) -> None:
    hung = Hanging("hung", ["a"], hang_list=True)
    ok = FakeClient("ok", ["b"])
    session = Session(SessionOptions(planning_deadline_s=0.2), [hung, ok], journal(tmp_path))
    try:
        failures = await session.refresh()
        assert list(failures) == ["hung"]
        assert "no complete list within 0.2 s" in failures["hung"]
        assert [t.id for t in session.store.targets("ok")] == ["b"]
    finally:
        await session.aclose()


class Flaky(FakeClient):
    """Fails its first ``failures`` list reads with ``error``, then answers."""

    def __init__(self, name: str, ids: list[str], error: Exception, failures: int) -> None:
        super().__init__(name, ids)
        self.error = error
        self.failures = failures

    async def list_targets(self) -> list[Target]:
        if self.failures:
            self.failures -= 1
            raise self.error
        return await super().list_targets()


async def test_one_bad_planning_answer_is_retried_not_called_unreachable(
    tmp_path: Path,
) -> None:
    flaky = Flaky("pipai", ["s1", "s2"], FeedError("PipAI answered 500"), failures=1)
    session = Session(SessionOptions(), [flaky], journal(tmp_path))
    try:
        assert await session.refresh() == {}
        assert len(session.store.targets("pipai")) == 2
    finally:
        await session.aclose()


async def test_an_unreadable_venue_is_named_unreadable_never_empty(tmp_path: Path) -> None:
    bad = Flaky("x3algo", ["a"], Unreadable("x3algo answered {} for its list"), failures=99)
    session = Session(SessionOptions(), [bad], journal(tmp_path))
    try:
        failures = await session.refresh()
        assert failures["x3algo"].startswith("UNREADABLE: ")
        kp = build_kill_plan(session.store, session.clients, unreachable=failures)
        assert not kp.complete
        assert [b for b, _ in kp.problems()] == ["UNREADABLE"]
        assert kp.summary_parts() == ["1 venue(s) UNREADABLE"]
    finally:
        await session.aclose()


async def test_an_incomplete_venue_is_halted_as_far_as_it_was_read(tmp_path: Path) -> None:
    client = FakeClient("finradar", ["t1", "t2", "t3"])
    partial = [client._target("t1"), client._target("t2")]
    client.list_error = Incomplete("stopped after 2 pages (max_pages)", partial)
    session = Session(SessionOptions(), [client], journal(tmp_path))
    try:
        assert await session.refresh() == {}
        assert "INCOMPLETE" in session.incomplete["finradar"]
        kp = build_kill_plan(session.store, session.clients, incomplete=session.incomplete)
        assert sorted(i.target_id for i in kp.plan.items) == ["t1", "t2"]
        assert not kp.complete
        assert kp.problems()[0][0] == "INCOMPLETE"
    finally:
        await session.aclose()


def test_skipped_rows_and_an_emptied_venue_keep_the_plan_incomplete() -> None:
    client = FakeClient("joyride", ["e1"], TargetKind.EXPIRATION)
    client.skipped_rows = ["BTC-X: expiration 1000000000000 out of range"]
    store = Store()
    store.snapshot("joyride", [client._target("e1")])
    kp = build_kill_plan(store, {"joyride": client})
    assert not kp.complete
    said = dict(kp.problems())["UNREADABLE ROWS"]
    assert "BTC-X: expiration 1000000000000" in said and "each not addressed on its own" in said
    # A row the venue still lists (UNKNOWN: a 55-tech engine whose read fails) is planned:
    # the words say its halt is sent, not that it was left out — and only then: a row
    # whose id is planned by a twin row read cleanly stays "not addressed".
    client.skipped_rows = ["e1: listed twice"]
    said = dict(build_kill_plan(store, {"joyride": client}).problems())["UNREADABLE ROWS"]
    assert "each not addressed on its own" in said
    store.snapshot("joyride", [replace(client._target("e1"), state=State.UNKNOWN)])
    client.skipped_rows = ["e1: its status read failed", "BTC-X: out of range"]
    said = dict(build_kill_plan(store, {"joyride": client}).problems())["UNREADABLE ROWS"]
    assert "1 of them still planned, their state UNKNOWN; the rest not addressed" in said
    client.skipped_rows = ["e1: its status read failed"]
    said = dict(build_kill_plan(store, {"joyride": client}).problems())["UNREADABLE ROWS"]
    assert "each still planned, its state UNKNOWN: its halt is sent all the same" in said
    store.snapshot("joyride", [])
    kp = build_kill_plan(store, {"joyride": FakeClient("joyride", [])}, open_intents=3)
    assert kp.emptied == {"joyride": 1}
    assert [b for b, _ in kp.problems()] == ["EMPTIED", "OPEN CALLS"]


async def test_a_too_long_retry_after_fails_later_calls_at_once_unsent() -> None:
    pacer = Pacer(RateLimit(100, 60.0), cap_s=30.0)
    slot = await pacer.acquire()
    pacer.settle(slot)
    pacer.observe(429, {"retry-after": "3600"})
    with pytest.raises(VendorAskedWait) as refused:
        await pacer.acquire()
    assert refused.value.asked_s > 3000
    # send() answers for the venue without sending: a 429 carrying the vendor's wait.
    reply = await send(None, "POST", "/never", pacer=pacer)  # type: ignore[arg-type]
    assert (reply.status, reply.sent) == (429, False)
    assert float(reply.headers["retry-after"]) > 3000


async def test_a_short_retry_after_is_honoured_and_a_long_hold_is_capped() -> None:
    now = [100.0]
    pacer = Pacer(RateLimit(100, 60.0), clock=lambda: now[0], cap_s=30.0)
    pacer.observe(429, {"retry-after": "5"})
    assert pacer.delay_for() == pytest.approx(5.0)
    pacer.hold_until(now[0] + 10_000)
    assert pacer.delay_for() == pytest.approx(30.0)


def test_a_second_kill_of_the_profile_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = KillLock.beside(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    second = KillLock.beside(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    other_profile = KillLock.beside(tmp_path / "j.sqlite3", profile="demo", operator=OP)
    with first:
        with pytest.raises(KillLocked) as refused:
            second.acquire()
        assert "op@host" in refused.value.holder and f"pid {os.getpid()}" in refused.value.holder
        with other_profile:
            pass
    second.acquire()
    second.release()
    assert oct(first.path.stat().st_mode & 0o777) == "0o600"


def test_a_kill_lock_dies_with_its_process(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from console.core.kill_lock import KillLock\n"
        f"KillLock.beside(Path({str(tmp_path / 'j.sqlite3')!r}), profile='prod').acquire()\n"
        "print('held', flush=True); sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = KillLock.beside(tmp_path / "j.sqlite3", profile="prod", operator=OP)
        with pytest.raises(KillLocked, match=f"pid {holder.pid}"):
            lock.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        lock.acquire()  # the kernel released it with the process
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_state_unknown_targets_are_planned() -> None:
    # A venue that cannot say a target's state still gets it halted.
    client = FakeClient("v", ["a"])
    client.states["a"] = State.UNKNOWN
    store = Store()
    store.snapshot("v", [client._target("a")])
    assert [i.target_id for i in build_kill_plan(store, {"v": client}).plan.items] == ["a"]


def test_the_console_names_a_venue_its_feed_read_only_in_part(tmp_path: Path) -> None:
    from console.core.kill import KillScope
    from console.venues.kit.base import FeedStatus
    from console.venues.kit.feeds import describe

    client = FakeClient("pipai", ["s1", "s2"])
    session = Session(SessionOptions(), [client], journal(tmp_path))
    session.store.upsert([client._target("s1")])  # what the feed read before its cap
    why = describe(Incomplete("still more pages after 40 (max_pages)"))
    session.store.health("pipai", FeedStatus.DOWN, why)
    kp = session.control.plan_kill(KillScope(), clear_leaves_behind=False)
    assert kp.incomplete == {"pipai": why}
    assert [i.target_id for i in kp.plan.items] == ["s1"]
    assert not kp.complete
    session.store.snapshot("pipai", [client._target("s1"), client._target("s2")])
    session.store.health("pipai", FeedStatus.POLLING)
    assert session.control.plan_kill(KillScope(), clear_leaves_behind=False).complete
