"""The settling re-reads: only the unsettled targets, until they read as asked, bounded."""

from __future__ import annotations

import asyncio

from console.core.model import State, Target, TargetKind
from console.core.settle import settle


def target(tid: str, state: State) -> Target:
    return Target("v", TargetKind.ALGORITHM, tid, tid, state, state.value, {}, 0.0)


async def test_reads_again_only_the_unsettled_until_they_read_as_asked() -> None:
    reads: list[list[str]] = []
    seen = {"a": target("a", State.RUNNING), "b": target("b", State.STOPPED)}
    states = iter([State.RUNNING, State.STOPPED])

    async def reread(ids: list[str]) -> dict[str, Target | None]:
        reads.append(ids)
        return {i: target(i, next(states)) for i in ids}

    def unsettled(now: dict[str, Target | None]) -> list[str]:
        return [k for k, t in now.items() if t is not None and t.state is not State.STOPPED]

    out = await settle(seen, unsettled, reread, delays=(0.001, 0.001, 0.001, 0.001))
    assert reads == [["a"], ["a"]]  # b never read again; a until it read stopped
    assert out["a"] is not None and out["a"].state is State.STOPPED


async def test_stops_at_a_failed_read_and_within_its_bound() -> None:
    calls = 0

    async def failing(ids: list[str]) -> None:
        nonlocal calls
        calls += 1

    def always(now: dict[str, Target | None]) -> list[str]:
        return ["a"]

    seen: dict[str, Target | None] = {"a": target("a", State.RUNNING)}
    await settle(seen, always, failing, delays=(0.001, 0.001))
    assert calls == 1  # a read that fails ends it: the first read's result stands

    async def running(ids: list[str]) -> dict[str, Target | None]:
        nonlocal calls
        calls += 1
        return {"a": target("a", State.RUNNING)}

    calls = 0
    await settle(seen, always, running, delays=(0.001, 0.001, 5.0), at_most_s=4.0)
    assert calls == 2  # the 5 s wait would pass the bound: not taken


async def test_a_re_read_that_never_answers_is_cut_at_the_bound() -> None:
    """The waits and the re-reads share one bound: a venue whose re-read hangs costs the
    kill ``at_most_s``, not a verify deadline per re-read."""
    never = asyncio.Event()

    async def hanging(ids: list[str]) -> dict[str, Target | None]:
        await never.wait()
        return {}

    seen: dict[str, Target | None] = {"a": target("a", State.RUNNING)}
    out = await asyncio.wait_for(settle(seen, lambda now: ["a"], hanging,
                                        delays=(0.001,), at_most_s=0.05), 30)  # fmt: skip
    assert out["a"] is not None and out["a"].state is State.RUNNING  # the first read stands
