"""A desk console never keeps a picture older than its hub's: a last batch lost on the
way (nothing follows it to show the gap) is caught by the hub's beat, which says the last
batch it sent; a batch that comes while the console reads the bucket is laid over what
the read took (the bucket's value it read can be older than the batch).

Seen in a loaded full run: after a re-arm, the target ran again on the hub while a
console kept showing it STOPPED until its test gave up."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from nats.js.kv import KeyValue

from console.core.kill import KillScope
from console.core.model import State
from console.desk import messages, subjects
from console.desk.batch_order import LOST_AFTER_S, BatchOrder
from console.desk.desk_control import DeskControl
from console.desk.desk_state import DeskState
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import PROFILE, Desk, running_hub
from tests.desk.test_console_desk import desk_console, until


def states(store_of: Any) -> dict[str, State]:
    return {t.key: t.state for t in store_of.store.all_targets()}


async def caught_up(state: DeskState, desk: Desk) -> None:
    await until(state, lambda: states(state) == states(desk.session), "the hub's picture")


Attached = tuple[Desk, DeskState, DeskControl]


@pytest.fixture
async def attached(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> AsyncIterator[Attached]:
    """A hub, and alice's console holding its picture."""
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (state, control),
    ):
        await caught_up(state, desk)
        yield desk, state, control


@pytest.mark.parametrize("last", ["a batch", "a full read"])
async def test_batches_lost_after_the_last_one_read_are_read_from_the_bucket(
    attached: Attached, monkeypatch: pytest.MonkeyPatch, last: str
) -> None:
    """The last thing the console took before the loss: a batch, or a full read with no
    batch after it (the desk idle) — the read's beat says which batches it holds."""
    desk, state, control = attached
    await until(state, lambda: state.batch_seq is not None, "a first batch")
    if last == "a full read":
        await state.read_bucket()
        assert state.batch_seq is not None  # the beat's count, or a batch during it
    publish, lost = desk.hub.nc.publish, []

    async def lossy(subject: str, payload: bytes = b"", *args: Any, **kw: Any) -> None:
        if subject == subjects.state_subject(PROFILE):  # every batch from now on
            lost.append(payload)
            return
        await publish(subject, payload, *args, **kw)

    monkeypatch.setattr(desk.hub.nc, "publish", lossy)
    before = state.resyncs
    report = await control.dispatch(control.plan_kill(KillScope(), clear_leaves_behind=False).plan)
    assert report.all_verified and State.STOPPED in states(desk.session).values()
    await caught_up(state, desk)  # no batch came: the beats said there were some
    assert lost and state.resyncs > before


class FirstThen:
    """A bucket watcher whose first value is on its way when ``then`` happens (the hub
    wrote the bucket, then published a batch, after the read's snapshot began)."""

    def __init__(self, watcher: Any, then: Callable[[], Awaitable[None]]) -> None:
        self.watcher, self.then, self.first = watcher, then, True

    def __aiter__(self) -> FirstThen:
        return self

    async def __anext__(self) -> Any:
        entry = await self.watcher.__anext__()
        if self.first:
            self.first = False
            await self.then()
        return entry

    async def stop(self) -> None:
        await self.watcher.stop()


async def test_a_batch_that_comes_during_a_full_read_is_not_undone_by_it(
    attached: Attached, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, state, _control = attached
    target = next(t for t in state.store.all_targets() if t.state is State.RUNNING)
    stopped = messages.TargetMsg.of(target).model_copy(update={"state": State.STOPPED})
    batch = messages.StateBatch(hub_id=desk.hub.hub_id, seq=(state.batch_seq or 0) + 1,
                                ts=0.0, targets=[stopped])  # fmt: skip
    arrived: Any = types.SimpleNamespace(data=batch.encode())  # a NATS message's data
    watchall = KeyValue.watchall

    async def watch_then_batch(kv: KeyValue, **kw: Any) -> FirstThen:
        return FirstThen(await watchall(kv, **kw), partial(state._on_batch, arrived))

    monkeypatch.setattr(KeyValue, "watchall", watch_then_batch)
    await state.read_bucket()
    got = state.store.get(target.venue, target.id)
    assert got is not None and got.state is State.STOPPED, "the read undid a newer batch"


def beat(hub_id: str, state_seq: int) -> messages.HubBeat:
    return messages.HubBeat(hub_id=hub_id, profile=PROFILE, ts=0.0, seq=0, state_seq=state_seq)


def taken(order: BatchOrder, hub_id: str, seq: int) -> bool:
    return order.take(messages.StateBatch(hub_id=hub_id, seq=seq, ts=0.0))


def test_a_beats_claim_counts_as_lost_only_once_it_has_stood_its_time() -> None:
    order = BatchOrder()
    assert not order.beat(beat("h", 5), 0.0)  # no batch yet: nothing to measure against
    assert not taken(order, "h", 5)
    assert not order.beat(beat("h", 5), 1.0)  # caught up
    assert not order.beat(beat("h", 6), 2.0)  # batch 6 may be on its way
    assert not order.beat(beat("h", 6), 2.0 + LOST_AFTER_S / 2)
    assert order.beat(beat("h", 6), 2.0 + LOST_AFTER_S)  # it is not: read again
    assert not order.beat(beat("h", 6), 2.0 + LOST_AFTER_S)  # one read per claim
    assert not taken(order, "h", 6)
    assert not order.beat(beat("h", 7), 10.0)
    assert not taken(order, "h", 7)  # came in time
    assert not order.beat(beat("h", 7), 10.0 + LOST_AFTER_S)
    assert not order.beat(beat("h", 9), 12.0)
    assert not order.beat(beat("h", 9), 12.0 + LOST_AFTER_S, queued=True)  # batches wait
    assert not order.beat(beat("h", 9), 12.0 + LOST_AFTER_S * 1.5)  # the wait began again
    assert order.beat(beat("h", 9), 12.0 + LOST_AFTER_S * 2)
    assert not order.beat(beat("other", 99), 20.0)  # a new hub's run: read at its beat
    assert taken(order, "h", 9)  # a gap shows at once


def test_a_claim_met_while_batches_flow_gives_way_to_the_next() -> None:
    """Batches every 20 ms: each beat claims one still on its way, and each is met before
    the next beat. When the flow stops on a lost batch, its claim is the one that counts."""
    order = BatchOrder()
    seq, now = 1, 0.0
    assert not taken(order, "h", seq)
    for _ in range(10):  # one beat a second, 50 batches between two beats
        assert not order.beat(beat("h", seq + 1), now)  # the next is on its way
        for _ in range(50):
            seq += 1
            assert not taken(order, "h", seq)
        now += 1.0
    # The hub sent seq + 1, the last: it never came.
    assert not order.beat(beat("h", seq + 1), now)
    assert not order.beat(beat("h", seq + 1), now + 1.0)
    assert order.beat(beat("h", seq + 1), now + LOST_AFTER_S)


def test_a_read_lays_the_batches_that_came_during_it_over_its_picture() -> None:
    order = BatchOrder()
    assert not taken(order, "h", 1)
    outer = order.start_read(beat("h", 1))
    assert not taken(order, "h", 2)
    inner = order.start_read(beat("h", 2))  # a second read begun during the first
    assert not taken(order, "h", 3)
    assert [b.seq for b in order.end_read(inner)] == [3]  # what came during it only
    assert not taken(order, "h", 4)
    assert [b.seq for b in order.end_read(outer)] == [2, 3, 4]
    assert order.seq == 4  # followed on from the last that came
    assert not taken(order, "h", 5)  # no read under way: nothing kept
    mark = order.start_read(beat("h", 7))
    assert order.end_read(mark) == [] and order.seq == 7  # none came: the read holds 7
    assert not order.beat(beat("h", 8), 10.0)  # 8 on its way ...
    assert order.beat(beat("h", 8), 10.0 + LOST_AFTER_S)  # ... or lost
    mark = order.start_read()  # no beat heard yet (a console before any hub)
    assert order.end_read(mark) == [] and order.seq is None  # the next batch is the base
