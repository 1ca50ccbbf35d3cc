"""An in-memory venue for TUI tests: targets per docs/ATTRIBUTES.md, no network.

``FakeVenue`` answers like a well-behaved venue module: ``actions_for`` mirrors what the
real modules offer, ``execute`` applies the action to its own targets and records it,
and its feed pushes a snapshot whenever something changes. Tests make it misbehave on
purpose: ``fail`` a target with a chosen outcome, ``hold`` control calls until released,
or take the whole feed ``down`` with the venue's words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from console.core.journal import Journal
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
from console.core.operator import Operator
from console.core.session import Session, SessionOptions
from console.venues.base import FeedSink, FeedStatus, VenueClient, VenueSettings

FROZEN = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    """A clock tests move by hand (``clock.now += 61``)."""

    def __init__(self, now: float = FROZEN) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


CLOSE = OptionSpec(
    "close_positions",
    "Close open positions at market first",
    False,
    "every open position is closed at market, then the strategy pauses",
)


def offered(target: Target) -> list[ActionSpec]:
    """What the real venue modules offer, by kind and state (see console/venues/*)."""
    state, attrs = target.state, target.attrs
    if target.kind is TargetKind.ENGINE:
        specs = [
            ActionSpec(ActionKind.RESUME, "Resume engine", "trading restarts", accepts_reason=True)
            if attrs.get("manual_paused")
            else ActionSpec(
                ActionKind.PAUSE,
                "Pause engine",
                "orders already placed stay there",
                accepts_reason=True,
            ),
            ActionSpec(ActionKind.START, "Start engine", "trading restarts", accepts_reason=True)
            if attrs.get("manual_stopped")
            else ActionSpec(
                ActionKind.STOP,
                "Stop engine",
                "orders already placed stay there",
                accepts_reason=True,
            ),
        ]
        return specs
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
    return (
        []
        if state is State.STOPPED
        else [ActionSpec(ActionKind.STOP, "Stop sniper", "frees a slot")]
    )


AFTER = {
    ActionKind.STOP: State.STOPPED,
    ActionKind.PAUSE: State.PAUSED,
    ActionKind.RESUME: State.RUNNING,
    ActionKind.START: State.RUNNING,
}


class FakeVenue(VenueClient):
    """One venue in memory."""

    def __init__(self, name: str, api: str, targets: Iterable[Target]) -> None:
        super().__init__(VenueSettings(name=name, api=api, base_url=f"fake://{name}"))
        self.targets: dict[str, Target] = {t.id: t for t in targets}
        self.executed: list[tuple[str, Action]] = []
        self.fail: dict[str, Outcome] = {}
        self.hold: asyncio.Event | None = None
        self.down: str | None = None
        self._changed = asyncio.Event()

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
            state = _engine_after(action.kind, attrs)
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


ENGINE_FLAGS = {
    ActionKind.PAUSE: ("manual_paused", True),
    ActionKind.RESUME: ("manual_paused", False),
    ActionKind.STOP: ("manual_stopped", True),
    ActionKind.START: ("manual_stopped", False),
}


def _engine_after(kind: ActionKind, attrs: dict[str, AttrValue]) -> State:
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


# ----- sample worlds ------------------------------------------------------------------
def _t(
    venue: str,
    kind: TargetKind,
    tid: str,
    name: str,
    state: State,
    raw: str,
    attrs: Mapping[str, AttrValue],
    at: float = FROZEN,
) -> Target:
    return Target(venue, kind, tid, name, state, raw, dict(attrs), confirmed_at=at)


def engines(at: float = FROZEN) -> list[Target]:
    base: dict[str, AttrValue] = {
        "system_blocked": False,
        "emergency": False,
        "system_stopped": False,
        "soft_paused": False,
        "odds_format": "decimal",
    }
    return [
        _t(
            "55tech",
            TargetKind.ENGINE,
            "acme",
            "acme",
            State.RUNNING,
            "live",
            {
                **base,
                "client": "acme",
                "status_words": "LIVE",
                "trading_active": True,
                "manual_paused": False,
                "manual_stopped": False,
                "orders_seen": 120,
            },
            at,
        ),
        _t(
            "55tech",
            TargetKind.ENGINE,
            "bolt",
            "bolt",
            State.PAUSED,
            "manual_paused",
            {
                **base,
                "client": "bolt",
                "status_words": "MANUAL PAUSED",
                "trading_active": False,
                "manual_paused": True,
                "manual_stopped": False,
                "pause_reason": "risk check [desk]",
                "paused_at": "2025-12-31T23:50:00Z",
                "orders_seen": 3,
            },
            at,
        ),
        _t(
            "55tech",
            TargetKind.ENGINE,
            "crux",
            "crux",
            State.STOPPED,
            "manual_stopped",
            {
                **base,
                "client": "crux",
                "status_words": "MANUAL STOPPED",
                "trading_active": False,
                "manual_paused": False,
                "manual_stopped": True,
                "stop_reason": "end of day",
                "stopped_at": "2025-12-31T22:00:00Z",
                "orders_seen": 0,
            },
            at,
        ),
    ]


def algorithms(at: float = FROZEN) -> list[Target]:
    def algo(tid: str, name: str, state: State, raw: str, profit: float, win: float) -> Target:
        return _t(
            "x3algo",
            TargetKind.ALGORITHM,
            tid,
            name,
            state,
            raw,
            {
                "symbols": ("BINANCE:BTCUSDT",),
                "timeframe": "5m",
                "strategy_type": "grid",
                "trades": 42,
                "win_rate": win,
                "profit": profit,
                "profit_factor": 1.4,
                "updated_at": "2025-12-31T23:59:00Z",
            },
            at,
        )

    return [
        algo("a1", "btc-grid", State.RUNNING, "active", 1234.5, 61.0),
        algo("a2", "eth-trend", State.RUNNING, "active", -80.25, 38.5),
        algo("a3", "sol-mean", State.STOPPED, "stopped", 10.0, 50.0),
    ]


def strategies(at: float = FROZEN) -> list[Target]:
    def strat(tid: str, name: str, state: State, raw: str, positions: int, pnl: str) -> Target:
        return _t(
            "pipai",
            TargetKind.STRATEGY,
            tid,
            name,
            state,
            raw,
            {
                "template": "momentum",
                "symbols": ("BTCUSDT", "ETHUSDT"),
                "timeframe": "1h",
                "capital": "10000.00",
                "leverage": 3,
                "open_positions": positions,
                "pnl": pnl,
                "win_rate": "0.55",
                "trades": 17,
            },
            at,
        )

    return [
        strat("s1", "alpha", State.RUNNING, "deployed", 2, "512.40"),
        strat("s2", "beta", State.PAUSED, "paused", 0, "-20.00"),
    ]


def expirations(at: float = FROZEN) -> list[Target]:
    def exp(hours: int, drift: str | None = None) -> Target:
        ts = int(FROZEN) + hours * 3600
        return _t(
            "joyride",
            TargetKind.EXPIRATION,
            str(ts),
            f"exp {ts}",
            State.UNKNOWN,
            "unknown",
            {
                "expiration": ts,
                "instruments": 40,
                "calls": 20,
                "puts": 20,
                "assets": ("BTC", "SOL"),
                "by_asset": "BTC 10C/10P · SOL 10C/10P",
                "pause_source": "unknown",
                "drift": drift,
            },
            at,
        )

    return [exp(8), exp(32, "engine_missing: SOL-20260102-150-C")]


def snipers(at: float = FROZEN) -> list[Target]:
    def snipe(tid: str, ticker: str, state: State, raw: str, resolution: str | None) -> Target:
        return _t(
            "finradar",
            TargetKind.SNIPER,
            tid,
            ticker,
            state,
            raw,
            {
                "ticker": ticker,
                "window_start": "2025-12-31T22:00:00Z",
                "window_end": "2026-01-01T02:30:00Z",
                "form_types": ("8-K",),
                "resolution": resolution,
                "slots_available": 3,
                "slots_total": 5,
            },
            at,
        )

    return [
        snipe("n1", "AAPL", State.RUNNING, "ACTIVE", None),
        snipe("n2", "TSLA", State.RUNNING, "CREATED", None),
        snipe("n3", "NVDA", State.STOPPED, "STOPPED", "manual_stop"),
    ]


def fake_venues(at: float = FROZEN) -> dict[str, FakeVenue]:
    return {
        "55tech": FakeVenue("55tech", "55tech", engines(at)),
        "x3algo": FakeVenue("x3algo", "x3algo", algorithms(at)),
        "pipai": FakeVenue("pipai", "pipai", strategies(at)),
        "joyride": FakeVenue("joyride", "joyride", expirations(at)),
        "finradar": FakeVenue("finradar", "finradar", snipers(at)),
    }


OPERATOR = Operator("alice", "desk1")


def fake_session(
    tmp_path: Path,
    clock: FakeClock,
    venues: Mapping[str, FakeVenue],
    *,
    readonly: bool = False,
    label: str = "TEST",
    colour: str = "warning",
) -> Session:
    options = SessionOptions(
        profile="test",
        label=label,
        color=colour,
        readonly=readonly,
        arm_minutes=5,
        stale_after_s=30,
    )
    journal = Journal(tmp_path / "journal.sqlite3", profile="test", operator=OPERATOR)
    return Session(options, list(venues.values()), journal, clock=clock)


def preload(session: Session, venues: Mapping[str, FakeVenue]) -> None:
    """Fill the store as a first feed snapshot would (for snapshot tests: no feed tasks)."""
    for venue in venues.values():
        session.store.snapshot(venue.name, venue.targets.values())
        session.store.health(venue.name, FeedStatus.LIVE)
