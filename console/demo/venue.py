"""An in-memory venue: the fixed demo world's targets, answering like a real venue module.

``MemoryVenue`` serves the demo world (``console/demo/world.py``) that the TUI tests and
snapshots drive: ``actions_for`` mirrors what the real modules offer, ``execute`` applies the
action to its own targets and records it, and its feed pushes a snapshot whenever
something changes. Tests make it misbehave on purpose: ``fail`` a target with a chosen
outcome, ``hold`` control calls until released, or take the whole feed ``down`` with
the venue's words. ``KillableMemoryVenue`` also knows its emergency-stop action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace

from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    AttrValue,
    OptionSpec,
    Outcome,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.core.ports import (
    Capabilities,
    ControlRate,
    FeedSink,
    FeedStatus,
    VenueClient,
    VenueSettings,
)

CLOSE = OptionSpec(
    "close_positions",
    "Close open positions at market first",
    False,
    "every open position is closed at market, then the strategy pauses",
)


# What each real venue module declares (console/venues/*, ``CAPABILITIES``), by api; a
# test holds the two equal. A memory venue of another api declares nothing special.
DEMO_CAPABILITIES: dict[str, Capabilities] = {
    "55tech": Capabilities(control_rate=ControlRate("rest", 2000, 60.0)),
    "x3algo": Capabilities(
        exposure_attrs=(("profit", 1.0),), control_rate=ControlRate("trading", 100, 60.0)
    ),
    "pipai": Capabilities(
        exposure_attrs=(("open_positions", 1e9), ("pnl", 1.0), ("capital", 1e-3)),
        control_rate=ControlRate("weight", 1200, 60.0, weight=5),
        clears_leaves_behind="close_positions",
    ),
    "joyride": Capabilities(reports_pause_state=False, control_rate=ControlRate("admin", 20, 1.0)),
    "finradar": Capabilities(control_rate=ControlRate("requests", 120, 60.0)),
}


def _engine_specs(attrs: dict[str, AttrValue]) -> list[ActionSpec]:
    if attrs.get("manual_paused"):
        first = ActionSpec(
            ActionKind.RESUME, "Resume engine", "trading restarts", accepts_reason=True
        )
    else:
        first = ActionSpec(
            ActionKind.PAUSE,
            "Pause engine",
            "orders already placed stay there",
            accepts_reason=True,
        )
    if attrs.get("manual_stopped"):
        second = ActionSpec(
            ActionKind.START, "Start engine", "trading restarts", accepts_reason=True
        )
    else:
        second = ActionSpec(
            ActionKind.STOP, "Stop engine", "orders already placed stay there", accepts_reason=True
        )
    return [first, second]


def offered(target: Target) -> list[ActionSpec]:
    """What the real venue modules offer, by kind and state (see console/venues/*)."""
    state = target.state
    if target.kind is TargetKind.ENGINE:
        return _engine_specs(dict(target.attrs))
    if target.kind is TargetKind.ALGORITHM:
        if state is State.STOPPED:
            return [ActionSpec(ActionKind.START, "Start algorithm", "it trades again")]
        return [ActionSpec(ActionKind.STOP, "Stop algorithm", "open positions stay open")]
    if target.kind is TargetKind.STRATEGY:
        if state is State.PAUSED:
            return [ActionSpec(ActionKind.RESUME, "Resume", "new entries again")]
        return [
            ActionSpec(
                ActionKind.PAUSE,
                "Pause",
                "open positions stay open unless chosen",
                options=(CLOSE,),
            )
        ]
    if target.kind is TargetKind.EXPIRATION:
        return [
            ActionSpec(ActionKind.PAUSE, "Pause expiration", "resting orders stay on the book"),
            ActionSpec(ActionKind.RESUME, "Resume expiration", "new orders accepted again"),
        ]
    if state is State.STOPPED:
        return []
    return [ActionSpec(ActionKind.STOP, "Stop sniper", "frees a slot")]


AFTER = {
    ActionKind.STOP: State.STOPPED,
    ActionKind.PAUSE: State.PAUSED,
    ActionKind.RESUME: State.RUNNING,
    ActionKind.START: State.RUNNING,
}

ENGINE_FLAGS = {
    ActionKind.PAUSE: ("manual_paused", True),
    ActionKind.RESUME: ("manual_paused", False),
    ActionKind.STOP: ("manual_stopped", True),
    ActionKind.START: ("manual_stopped", False),
}


def engine_after(kind: ActionKind, attrs: dict[str, AttrValue]) -> State:
    """Set the manual flag as 55-tech would and derive its status words and state."""
    flag, value = ENGINE_FLAGS[kind]
    attrs[flag] = value
    if attrs.get("manual_stopped"):
        words, state = "MANUAL STOPPED", State.STOPPED
    elif attrs.get("manual_paused"):
        words, state = "MANUAL PAUSED", State.PAUSED
    else:
        words, state = "LIVE", State.RUNNING
    attrs["status_words"] = words
    attrs["trading_active"] = state is State.RUNNING
    return state


class MemoryVenue(VenueClient):
    """One venue in memory."""

    def __init__(self, name: str, api: str, targets: Iterable[Target]) -> None:
        super().__init__(VenueSettings(name=name, api=api, base_url=f"memory://{name}"))
        self.targets: dict[str, Target] = {t.id: t for t in targets}
        self.executed: list[tuple[str, Action]] = []
        self.fail: dict[str, Outcome] = {}
        self.hold: asyncio.Event | None = None
        self.down: str | None = None
        self._changed = asyncio.Event()

    @property
    def capabilities(self) -> Capabilities:
        return DEMO_CAPABILITIES.get(self.settings.api, Capabilities())

    def poke(self) -> None:
        self._changed.set()

    async def list_targets(self) -> list[Target]:
        if self.down:
            raise ConnectionError(self.down)
        return list(self.targets.values())

    async def read_target(self, target_id: str) -> Target | None:
        if self.down:
            raise ConnectionError(self.down)
        return self.targets.get(target_id)

    def actions_for(self, target: Target) -> list[ActionSpec]:
        return offered(target)

    async def execute(self, target_id: str, action: Action) -> Outcome:
        self.executed.append((target_id, action))
        if self.hold is not None:
            await self.hold.wait()
        if target_id in self.fail:
            return self.fail[target_id]
        target = self.targets[target_id]
        state = AFTER[action.kind]
        if target.kind is TargetKind.EXPIRATION:
            self.poke()
            return Outcome(OutcomeKind.APPLIED, f"{action.kind.value}d", 200, 5.0, state)
        attrs = dict(target.attrs)
        if target.kind is TargetKind.ENGINE:
            state = engine_after(action.kind, attrs)
        elif target.state is state:
            return Outcome(OutcomeKind.ALREADY, f"already {state.value}", 200, 5.0, state)
        self.targets[target_id] = replace(target, state=state, raw_status=state.value, attrs=attrs)
        self.poke()
        return Outcome(OutcomeKind.APPLIED, f"{action.kind.value} accepted", 200, 5.0, state)

    async def run_feed(self, sink: FeedSink) -> None:
        while True:
            self._changed.clear()
            if self.down:
                sink.health(self.name, FeedStatus.DOWN, self.down)
            else:
                sink.snapshot(self.name, list(self.targets.values()))
                sink.health(self.name, FeedStatus.LIVE)
            await self._changed.wait()


class KillableMemoryVenue(MemoryVenue):
    """A memory venue whose kill action follows the real modules' documented rules."""

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        if target.kind is TargetKind.ENGINE:
            return None if target.attrs.get("manual_stopped") else Action(ActionKind.STOP)
        if target.kind is TargetKind.STRATEGY:
            if target.state in (State.RUNNING, State.UNKNOWN):
                return Action(ActionKind.PAUSE, {"close_positions": clear_leaves_behind})
            return None
        if target.kind is TargetKind.EXPIRATION:
            return Action(ActionKind.PAUSE)
        if target.kind is TargetKind.ALGORITHM:
            running = target.state in (State.RUNNING, State.PAUSED, State.UNKNOWN)
            return Action(ActionKind.STOP) if running else None
        return None if target.state is State.STOPPED else Action(ActionKind.STOP)
