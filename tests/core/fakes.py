"""An in-memory venue client for core tests: records calls, answers as told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from console.core.dispatcher import Dispatcher
from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    Outcome,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.core.ports import Capabilities
from console.venues.kit.base import FeedSink, VenueClient, VenueSettings

_AFTER = {
    ActionKind.STOP: State.STOPPED,
    ActionKind.PAUSE: State.PAUSED,
    ActionKind.RESUME: State.RUNNING,
    ActionKind.START: State.RUNNING,
}


class FakeClient(VenueClient):
    """Targets held in a dict; ``execute`` moves them unless ``answer`` says otherwise."""

    def __init__(self, name: str, ids: list[str], kind: TargetKind = TargetKind.ALGORITHM) -> None:
        super().__init__(VenueSettings(name=name, api="fake", base_url="http://127.0.0.1:9"))
        self.kind = kind
        self.states = {i: State.RUNNING for i in ids}
        self.calls: list[tuple[str, Action]] = []
        self.answer: Callable[[str, Action], Outcome | None] = lambda _id, _a: None
        self.gate: asyncio.Event | None = None
        self.list_error: Exception | None = None
        self.called = asyncio.Event()
        self.caps = Capabilities()  # what a test has this venue declare

    @property
    def capabilities(self) -> Capabilities:
        return self.caps

    def _target(self, tid: str) -> Target:
        state = self.states[tid]
        return Target(self.name, self.kind, tid, f"name-{tid}", state, state.value)

    async def list_targets(self) -> list[Target]:
        if self.list_error:
            raise self.list_error
        return [self._target(t) for t in self.states]

    async def read_target(self, target_id: str) -> Target | None:
        if self.list_error:
            raise self.list_error
        return self._target(target_id) if target_id in self.states else None

    def actions_for(self, target: Target) -> list[ActionSpec]:
        return [ActionSpec(ActionKind.STOP, "Stop", "open positions stay open")]

    async def execute(self, target_id: str, action: Action) -> Outcome:
        self.calls.append((target_id, action))
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        told = self.answer(target_id, action)
        if told is not None:
            return told
        after = _AFTER[action.kind]
        if self.states[target_id] == after:
            return Outcome(OutcomeKind.ALREADY, f"already {after.value}", 200, 1.0, after)
        self.states[target_id] = after
        return Outcome(OutcomeKind.APPLIED, f"{after.value}", 200, 1.0, after)

    async def run_feed(self, sink: FeedSink) -> None:
        sink.snapshot(self.name, await self.list_targets())
        await asyncio.Event().wait()

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        return None if target.state.halted else Action(ActionKind.STOP)


def quick(dispatcher: Dispatcher) -> Dispatcher:
    """``dispatcher`` with its settling waits cut to one short one: a test whose re-read
    contradicts a call on purpose otherwise waits the real 3.75 s (0.25 + 0.5 + 1 + 2)
    for nothing. The waits themselves are tested in ``tests/core/test_settle.py``."""
    dispatcher.settle_delays_s = (0.01,)
    return dispatcher
