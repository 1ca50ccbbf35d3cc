"""The simulated 55-tech world: client engines, the global flags, and order activity.

Kept apart from the HTTP and WebSocket layers so both read one model and so the world
can be built, moved and rendered without a server (tests, the demo banner).

Everything the API shows is derived here from the seeded RNG and the simulator clock,
so a frozen clock with motion off renders byte-identical JSON for the same seed.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from console.sim.kit.context import SimClock, SimRateLimit, VendorContext

# Each API key's documented budget: 2,000 requests per rolling minute.
RATE_LIMIT = 2000
RATE_WINDOW_S = 60.0

# The six documented `status` strings, most severe first (precedence is [INF]).
EMERGENCY = "emergency"
SYSTEM_STOPPED = "system_stopped"
SOFT_PAUSED = "soft_paused"
MANUAL_STOPPED = "manual_stopped"
MANUAL_PAUSED = "manual_paused"
LIVE = "live"
# What a target reports under the `unknown_status_rate` knob: a value no client knows.
UNKNOWN_STATUS = "hibernating"

ODDS_FORMATS = ("decimal", "decimal", "decimal", "american", "hong_kong", "fractional")
EXCHANGES = ("betfair", "matchbook", "smarkets", "betdaq", "pinnacle")

_FIRST = (
    "Northbridge", "Atlas", "Bluewater", "Crescent", "Redfern", "Kestrel", "Halcyon",
    "Meridian", "Oakridge", "Silverline", "Tidewater", "Granite", "Harbor", "Ironwood",
    "Lakeside", "Summit", "Westgate", "Ashford", "Beacon", "Cobalt", "Falcon Ridge",
    "Greystone", "Juniper", "Larkspur", "Marlow", "Pinecrest", "Quayside", "Rowan",
    "Sterling", "Whitcombe",
)  # fmt: skip
_SECOND = (
    "Sports Trading", "Capital", "Markets", "Wagering", "Analytics", "Quant", "Partners",
    "Trading Co", "Odds Lab", "Exchange Desk", "Syndicate", "Betting Group", "Risk", "Labs",
)  # fmt: skip
_PAUSE_REASONS = (
    "Model recalibration after a late line move",
    "Exchange API maintenance window",
    "Risk review requested by the trading desk",
    "Liquidity too thin on Asian handicap lines",
)
_STOP_REASONS = (
    "Daily loss limit reached",
    "Compliance hold pending KYC refresh",
    "Account migration to new exchange wallet",
    "End of season: markets closed",
)


@dataclass
class Order:
    """One order of a client engine, in the shape of the `orders` channel payload [INF]."""

    order_id: int
    fixture_id: int
    outcome_id: int
    exchange: str
    exchange_order_id: str
    order_cents: int
    order_stake: float
    placed_at: str
    status: str = "PLACED"
    matched_status: str = "UNMATCHED"
    matched_stake: float = 0.0
    matched_at: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "fixtureId": self.fixture_id,
            "outcomeId": self.outcome_id,
            "exchange": self.exchange,
            "exchangeOrderId": self.exchange_order_id,
            "orderStatus": self.status,
            "matchedStatus": self.matched_status,
            "orderCents": self.order_cents,
            "orderStake": self.order_stake,
            "matchedStake": self.matched_stake,
            "placedAt": self.placed_at,
            "matchedAt": self.matched_at,
        }


@dataclass
class Engine:
    """One client's trading engine (one API key)."""

    client: str
    name: str
    key: str
    odds_format: str
    bucket: SimRateLimit
    unknown_draw: float  # seeded: reported unknown when below `unknown_status_rate`
    manual_paused: bool = False
    paused_at: float | None = None
    pause_reason: str | None = None
    manual_stopped: bool = False
    stopped_at: float | None = None
    stop_reason: str | None = None
    revoked: bool = False
    index: int = 0  # position of its key in the credentials (the revoked_keys knob counts it)
    orders: dict[int, Order] = field(default_factory=dict)


@dataclass
class GlobalFlag:
    """One of the three global (all-clients) blocks, with why and since when."""

    active: bool = False
    reason: str | None = None
    since: float | None = None


@dataclass
class GlobalFlags:
    emergency: GlobalFlag = field(default_factory=GlobalFlag)
    system_stop: GlobalFlag = field(default_factory=GlobalFlag)
    soft_pause: GlobalFlag = field(default_factory=GlobalFlag)

    @property
    def blocked(self) -> bool:
        return self.emergency.active or self.system_stop.active or self.soft_pause.active

    def strongest(self) -> GlobalFlag | None:
        """The most severe active flag: it supplies `systemReason` and the duration."""
        for flag in (self.emergency, self.system_stop, self.soft_pause):
            if flag.active:
                return flag
        return None

    def fields(self, now: float) -> dict[str, Any]:
        """The global part of a status answer (also the `emergency` channel payload)."""
        top = self.strongest()
        return {
            "systemTradingBlocked": self.blocked,
            "emergencyActive": self.emergency.active,
            "systemStopped": self.system_stop.active,
            "softPaused": self.soft_pause.active,
            "systemReason": top.reason if top else None,
            "systemDurationSeconds": int(now - top.since)
            if top and top.since is not None
            else None,
        }


# How order activity is reported: (engine, INSERT or UPDATE, order payload, old values).
Emit = Callable[[Engine, str, dict[str, Any], dict[str, Any]], None]


class FiftyFiveWorld:
    """Every client engine plus the global flags, and the rules that move them.

    Order activity of each tick is handed to ``emit`` (the WebSocket hub, once it exists).
    """

    def __init__(
        self, rng: random.Random, scale: int, clock: SimClock, bucket: Callable[[], SimRateLimit]
    ) -> None:
        self.clock = clock
        self.emit: Emit = lambda engine, kind, payload, old: None
        self.flags = GlobalFlags()
        self.engines: list[Engine] = []
        self.by_key: dict[str, Engine] = {}
        self.by_client: dict[str, Engine] = {}
        self._motion = random.Random(rng.random())
        self._next_order = 100_000 + rng.randrange(900_000)
        self._build(rng, max(1, scale), bucket)

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The seeded world of ``4 * scale`` engines, each with its key's rate bucket."""
        return cls(ctx.rng, ctx.scale, ctx.clock, lambda: ctx.rate_limit(RATE_LIMIT, RATE_WINDOW_S))

    # ----- building --------------------------------------------------------------
    def _build(self, rng: random.Random, scale: int, bucket: Callable[[], SimRateLimit]) -> None:
        count = 4 * scale
        combos = len(_FIRST) * len(_SECOND)
        picks = rng.sample(range(combos), min(count, combos))
        names = [f"{_FIRST[i // len(_SECOND)]} {_SECOND[i % len(_SECOND)]}" for i in picks]
        for extra in range(count - len(names)):  # only past scale 105
            names.append(f"{names[extra % len(picks)]} {extra // len(picks) + 2}")
        paused_at, stopped_at = rng.sample(range(count), 2)
        now = self.clock.now()
        for index, name in enumerate(names):
            engine = Engine(
                client=_slug(name),
                name=name,
                key=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                odds_format=rng.choice(ODDS_FORMATS),
                bucket=bucket(),
                unknown_draw=rng.random(),
                index=index,
            )
            draw = rng.random()
            if index == paused_at or (index != stopped_at and draw < 0.06):
                engine.manual_paused = True
                engine.paused_at = now - rng.randrange(300, 7200)
                engine.pause_reason = rng.choice(_PAUSE_REASONS)
            elif index == stopped_at or draw < 0.12:
                engine.manual_stopped = True
                engine.stopped_at = now - rng.randrange(600, 86_400)
                engine.stop_reason = rng.choice(_STOP_REASONS)
            self.engines.append(engine)
            self.by_key[engine.key] = engine
            self.by_client[engine.client] = engine

    # ----- reading -----------------------------------------------------------------
    def status_of(self, engine: Engine, unknown_rate: float) -> str:
        if engine.unknown_draw < unknown_rate:
            return UNKNOWN_STATUS
        flags = self.flags
        if flags.emergency.active:
            return EMERGENCY
        if flags.system_stop.active:
            return SYSTEM_STOPPED
        if flags.soft_pause.active:
            return SOFT_PAUSED
        if engine.manual_stopped:
            return MANUAL_STOPPED
        if engine.manual_paused:
            return MANUAL_PAUSED
        return LIVE

    def trading_active(self, engine: Engine) -> bool:
        return not (engine.manual_paused or engine.manual_stopped or self.flags.blocked)

    def status_body(self, engine: Engine, unknown_rate: float) -> dict[str, Any]:
        """TradingStatusResponse, every nullable field present (null when unset)."""
        iso = self.clock.iso
        return {
            "client": engine.client,
            "clientName": engine.name,
            "oddsFormat": engine.odds_format,
            "status": self.status_of(engine, unknown_rate),
            "tradingActive": self.trading_active(engine),
            "manualPaused": engine.manual_paused,
            "manualPausedAt": iso(engine.paused_at) if engine.paused_at is not None else None,
            "manualPauseReason": engine.pause_reason,
            "manualStopped": engine.manual_stopped,
            "manualStoppedAt": iso(engine.stopped_at) if engine.stopped_at is not None else None,
            "manualStopReason": engine.stop_reason,
            **self.flags.fields(self.clock.now()),
        }

    # ----- manual controls (Project decision 1) -------------------------------------
    def control(self, engine: Engine, verb: str, reason: str | None) -> str:
        """Apply one control verb; returns the documented `result` value."""
        now = self.clock.now()
        if verb == "pause":
            if engine.manual_paused:
                return "already_paused"
            engine.manual_paused, engine.paused_at, engine.pause_reason = True, now, reason
            return "pause_applied"
        if verb == "stop":
            if engine.manual_stopped:
                return "already_stopped"
            engine.manual_stopped, engine.stopped_at, engine.stop_reason = True, now, reason
            return "stop_applied"
        if verb == "resume":
            if engine.manual_stopped:
                return "start_required"
            if not engine.manual_paused:
                return "already_live"
            engine.manual_paused, engine.paused_at, engine.pause_reason = False, None, None
            return "resume_applied"
        if verb == "start":
            if not engine.manual_stopped:
                return "already_live"
            engine.manual_stopped, engine.stopped_at, engine.stop_reason = False, None, None
            return "start_applied"
        raise ValueError(f"unknown verb {verb!r}")

    def set_flag(self, name: str, active: bool, reason: str | None) -> dict[str, Any]:
        """Raise or lower a global flag; returns the changed payload fields' old values."""
        now = self.clock.now()
        before = self.flags.fields(now)
        flag: GlobalFlag = getattr(self.flags, name)
        if active and not flag.active:
            flag.since = now
        flag.active = active
        flag.reason = (reason or None) if active else None
        if not active:
            flag.since = None
        after = self.flags.fields(now)
        return {k: v for k, v in before.items() if after[k] != v}

    # ----- order activity ------------------------------------------------------------
    def place_order(self, engine: Engine) -> Order:
        rng = self._motion
        self._next_order += 1
        order = Order(
            order_id=self._next_order,
            fixture_id=rng.randrange(10_000_000, 19_999_999),
            outcome_id=rng.choice((1, 2, 3, 101, 102)),
            exchange=rng.choice(EXCHANGES),
            exchange_order_id=f"{rng.getrandbits(48):012x}",
            order_cents=rng.randrange(120, 450),
            order_stake=float(rng.randrange(10, 500) * 5),
            placed_at=self.clock.iso(),
        )
        engine.orders[order.order_id] = order
        if len(engine.orders) > 20:  # keep the book small: forget the oldest
            del engine.orders[next(iter(engine.orders))]
        return order

    def fill_order(self, order: Order) -> dict[str, Any]:
        """Fill an open order; returns the previous values of the changed fields."""
        old = {"orderStatus": order.status, "matchedStake": order.matched_stake}
        order.status, order.matched_status = "FILLED", "MATCHED"
        order.matched_stake = order.order_stake
        order.matched_at = self.clock.iso()
        return old

    def tick(self, now: float, dt: float) -> None:
        """Live engines place orders and open orders fill, each reported by ``emit``."""
        rng = self._motion
        emit = self.emit
        for engine in self.engines:
            if not self.trading_active(engine):
                continue
            for order in [o for o in engine.orders.values() if o.status == "PLACED"]:
                if rng.random() < 0.4 * dt:
                    old = self.fill_order(order)
                    emit(engine, "UPDATE", order.payload(), old)
            if rng.random() < 0.8 * dt:
                emit(engine, "INSERT", self.place_order(engine).payload(), {})


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
