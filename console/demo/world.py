"""The demo world: fixed targets for every venue, a frozen clock, a session on them.

One small world per venue, per docs/ATTRIBUTES.md, with fixed names, ids and times
(2026-01-01T00:00:00Z), and the awkward cases a panel must show: a paused and a stopped
client, a stopped algorithm, a paused strategy, an expiration with drift, a stopped
sniper. The TUI tests and snapshots use it (through ``tests/tui/fakes.py``): small
enough to read in a snapshot, in-process so each comes out the same byte for byte.
The README's screenshots draw the world a demo user gets instead, the simulator's
seed-1 world served in-process (``console/cli/screenshot_world.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from console.core.journal import Journal
from console.core.model import AttrValue, State, Target, TargetKind
from console.core.operator import Operator
from console.core.ports import FeedStatus
from console.core.session import Session, SessionOptions
from console.core.trend import PNL_ATTRS
from console.demo.venue import KillableMemoryVenue, MemoryVenue

FROZEN = 1_767_225_600.0  # 2026-01-01T00:00:00Z

OPERATOR = Operator("alice", "desk1")
"""Who the demo world's journal says acted (never the real user: screenshots are shared)."""

STREAMING_APIS = frozenset({"55tech", "pipai"})
"""Venues whose feed is a push stream; the others are polled over REST."""

EVENT_HISTORY = (3, 5, 4, 8, 12, 9, 7, 14, 18, 11, 6, 9, 13, 16, 10, 8, 12, 15, 9, 7)
"""Stream events per second over the last 20 seconds, for the event-rate sparkline."""

PNL_HISTORY: Mapping[str, tuple[AttrValue, ...]] = {
    "a1": (880.0, 902.5, 955.0, 941.25, 1010.0, 1062.75, 1048.0, 1120.5, 1175.0, 1210.0),
    "a2": (95.0, 72.5, 80.0, 41.25, 12.0, 18.5, -20.75, -45.0, -38.5, -62.0),
    "s1": ("401.10", "433.80", "428.00", "470.25", "489.90", "476.30", "505.10", "498.75"),
    "s2": ("64.00", "41.50", "12.25", "-5.80", "3.10"),
}
"""P&L by target id, one value a second before the clock's second (the target's own P&L
is the newest), for the Trend column: btc-grid and alpha rising, eth-trend and beta
falling; sol-mean (stopped) has no history, so its trend is empty."""


class FrozenClock:
    """A clock moved only by hand (``clock.now += 61``)."""

    def __init__(self, now: float = FROZEN) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


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


def memory_venues(at: float = FROZEN, *, killable: bool = False) -> dict[str, MemoryVenue]:
    """The five venues of the demo world, by name (name = api)."""
    kind = KillableMemoryVenue if killable else MemoryVenue
    return {
        "55tech": kind("55tech", "55tech", engines(at)),
        "x3algo": kind("x3algo", "x3algo", algorithms(at)),
        "pipai": kind("pipai", "pipai", strategies(at)),
        "joyride": kind("joyride", "joyride", expirations(at)),
        "finradar": kind("finradar", "finradar", snipers(at)),
    }


def demo_session(
    journal_path: Path,
    clock: FrozenClock,
    venues: Mapping[str, MemoryVenue],
    **options: object,
) -> Session:
    """A session on ``venues`` at ``clock``; any :class:`SessionOptions` field settable.

    Defaults: profile ``test``, label ``DEMO`` in the warning colour, not read-only,
    5-minute arming, stale after 30 s. The journal records :data:`OPERATOR`.
    """
    defaults: dict[str, object] = {
        "profile": "test",
        "label": "DEMO",
        "color": "warning",
        "arm_minutes": 5,
        "stale_after_s": 30,
    }
    settings = SessionOptions(**{**defaults, **options})  # type: ignore[arg-type]
    journal = Journal(journal_path, profile=settings.profile, operator=OPERATOR)
    return Session(settings, list(venues.values()), journal, clock=clock)


def preload(session: Session, venues: Mapping[str, MemoryVenue]) -> None:
    """Fill the store as a first feed snapshot would (no feed tasks: nothing moves).

    A streaming venue (55-tech, PipAI) is LIVE and gets :data:`EVENT_HISTORY` as its
    last seconds of stream events, ending at the clock's second, so the event-rate
    sparkline has a fixed shape; the others are POLLING, as their real feeds are.
    Targets in :data:`PNL_HISTORY` get that P&L trail first (once per store).
    """
    store = session.store
    for venue in venues.values():
        record_pnl(session, venue.targets.values())
        store.snapshot(venue.name, venue.targets.values())
        if venue.settings.api in STREAMING_APIS:
            store.health(venue.name, FeedStatus.LIVE)
            record_events(session, venue.name, EVENT_HISTORY)
        else:
            store.health(venue.name, FeedStatus.POLLING)


def record_events(session: Session, venue: str, per_second: tuple[int, ...]) -> None:
    """Count ``per_second[i]`` stream events in each of the seconds before the clock's."""
    clock = session.clock
    if not isinstance(clock, FrozenClock):
        raise TypeError("record_events moves the clock: it needs a FrozenClock")
    now = clock.now
    try:
        for ago, count in zip(range(len(per_second), 0, -1), per_second, strict=True):
            clock.now = now - ago
            session.store.count_events(venue, count)
    finally:
        clock.now = now


def record_pnl(session: Session, targets: Iterable[Target]) -> None:
    """Write each target's :data:`PNL_HISTORY`, one value a second, before the clock's
    second, as a feed would have; a target whose trail already exists is left alone."""
    clock = session.clock
    if not isinstance(clock, FrozenClock):
        raise TypeError("record_pnl moves the clock: it needs a FrozenClock")
    store = session.store
    now = clock.now
    try:
        for target in targets:
            history = PNL_HISTORY.get(target.id, ())
            name = PNL_ATTRS.get(target.kind)
            if not history or name is None or store.pnl_history(target.venue, target.id):
                continue
            for ago, value in zip(range(len(history), 0, -1), history, strict=True):
                clock.now = now - ago
                store.upsert([replace(target, attrs={**target.attrs, name: value})])
    finally:
        clock.now = now
