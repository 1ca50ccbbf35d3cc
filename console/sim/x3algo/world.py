"""The simulated x3algo world: one demo user's algorithms, and how they move.

Built from the vendor context's seeded RNG so the same seed gives the same world, with
40 algorithms per unit of ``scale``. Each block of 40 holds the cases a console must
handle: one ``draft`` whose configuration is incomplete (start → 400), one in ``error``,
one ``stopped`` whose daily loss limit is hit (start → 403), a few ``paused`` and
``stopped``, the rest ``active``. One more algorithm belongs to another user (GET → 403).

Serialisation follows the documented samples: the list shows the summary fields of the
list sample, the single GET the full object. All times come from the simulator clock.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _quoted
from typing import Any, Self

from console.sim.kit.context import SimClock, VendorContext

BLOCK = 40
STRATEGY_TYPES = (
    "momentum",
    "scalping",
    "swing",
    "position",
    "arbitrage",
    "market_making",
    "mean_reversion",
    "trend",
)
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w")
_STYLE = {
    "momentum": "Momentum",
    "scalping": "Scalper",
    "swing": "Swing",
    "position": "Position",
    "arbitrage": "Arbitrage",
    "market_making": "Market Maker",
    "mean_reversion": "Mean Reversion",
    "trend": "Trend Follower",
}
_SIGNALS = (
    "RSI", "MACD", "EMA Crossover", "Bollinger", "VWAP", "Supertrend", "Ichimoku",
    "Stochastic", "ATR Breakout", "Donchian", "Opening Range", "Keltner", "ADX",
    "Heikin-Ashi", "Pivot Point",
)  # fmt: skip
_NSE = (
    "RELIANCE", "TCS", "INFY", "HDFCBANK", "ICICIBANK", "SBIN", "ITC", "LT", "AXISBANK",
    "BHARTIARTL", "KOTAKBANK", "MARUTI", "WIPRO", "HCLTECH", "TATAMOTORS", "SUNPHARMA",
    "BAJFINANCE", "ASIANPAINT",
)  # fmt: skip
_MCX = ("CRUDEOIL", "GOLD", "SILVER", "NATURALGAS")
_INDICATORS = ("RSI", "MACD", "EMA", "SMA", "ATR", "VWAP", "ADX", "STOCH")
_REJECTIONS = (
    "Broker rejected order: insufficient margin",
    "Market data feed stalled for 120 s",
    "Order rejected by exchange: price outside circuit limit",
    "Broker session expired",
)

# Per second, per active algorithm: chance of a new trade, and of falling into error.
TRADE_RATE = 0.05
ERROR_RATE = 1 / 7200


@dataclass
class Algo:
    """One algorithm, with the numbers its performance block is derived from."""

    id: str
    user_id: str
    name: str
    status: str
    strategy_type: str
    timeframe: str
    symbols: list[str]
    created_at: float
    updated_at: float
    config: dict[str, Any]
    winning: int = 0
    losing: int = 0
    gross_win: float = 0.0
    gross_loss: float = 0.0
    sharpe: float = 0.0
    max_drawdown: float = 0.0
    peak: float = 0.0
    daily_loss: float = 0.0
    missing_fields: list[str] = field(default_factory=list)
    last_execution: dict[str, Any] | None = None
    unknown_draw: float = 1.0  # below the unknown_status_rate knob → reported oddly

    @property
    def daily_limit(self) -> float | None:
        value = self.config["riskParameters"].get("maxDailyLoss")
        return float(value) if value is not None else None

    def performance(self) -> dict[str, Any]:
        trades = self.winning + self.losing
        net = self.gross_win - self.gross_loss
        return {
            "totalTrades": trades,
            "winningTrades": self.winning,
            "losingTrades": self.losing,
            "totalProfit": round(net, 2),
            "totalLoss": round(self.gross_loss, 2),
            "winRate": round(100 * self.winning / trades, 2) if trades else 0,
            "profitFactor": round(self.gross_win / self.gross_loss, 2) if self.gross_loss else 0,
            "sharpeRatio": round(self.sharpe, 2),
            "maxDrawdown": round(self.max_drawdown, 2),
            "averageWin": round(self.gross_win / self.winning, 2) if self.winning else 0,
            "averageLoss": round(self.gross_loss / self.losing, 2) if self.losing else 0,
        }

    def summary(self, status: str, clock: SimClock) -> dict[str, Any]:
        """The list item, as in the documented list sample."""
        # The four figures of performance() a list row shows, computed alone (the other
        # seven cost as much again, 25,000 times per read of a ~50,000-target world).
        trades = self.winning + self.losing
        return {
            "id": self.id,
            "name": self.name,
            "status": status,
            "active": self.status == "active",
            "strategyType": self.strategy_type,
            "timeframe": self.timeframe,
            "symbols": list(self.symbols),
            "performance": {
                "totalTrades": trades,
                "winRate": round(100 * self.winning / trades, 2) if trades else 0,
                "totalProfit": round(self.gross_win - self.gross_loss, 2),
                "profitFactor": (
                    round(self.gross_win / self.gross_loss, 2) if self.gross_loss else 0
                ),
            },
            "createdAt": clock.iso(self.created_at),
            "updatedAt": clock.iso(self.updated_at),
        }

    def summary_json(self, status: str, clock: SimClock) -> bytes:
        """:meth:`summary` as ``JSONResponse`` encodes it, byte for byte, ~2x faster than
        building the dict and encoding it (the first read of a ~50,000-target world
        lists 25,000 algorithms); any value of another type than the world gives is
        encoded the slow way, as before (a NaN still refused)."""
        trades = self.winning + self.losing
        try:
            figures = (
                _number(trades),
                _number(round(100 * self.winning / trades, 2) if trades else 0),
                _number(round(self.gross_win - self.gross_loss, 2)),
                _number(round(self.gross_win / self.gross_loss, 2) if self.gross_loss else 0),
            )
            texts = (self.id, self.name, status, self.strategy_type, self.timeframe)
            if not all(type(text) is str for text in (*texts, *self.symbols)):
                raise TypeError
        except TypeError:
            return response_json(self.summary(status, clock))
        id_, name, word, kind, frame = map(_quoted, texts)
        return (
            f'{{"id":{id_},"name":{name},"status":{word},'
            f'"active":{"true" if self.status == "active" else "false"},'
            f'"strategyType":{kind},"timeframe":{frame},'
            f'"symbols":[{",".join(map(_quoted, self.symbols))}],'
            f'"performance":{{"totalTrades":{figures[0]},"winRate":{figures[1]},'
            f'"totalProfit":{figures[2]},"profitFactor":{figures[3]}}},'
            f'"createdAt":{_quoted(clock.iso(self.created_at))},'
            f'"updatedAt":{_quoted(clock.iso(self.updated_at))}}}'
        ).encode()

    def full(self, status: str, clock: SimClock) -> dict[str, Any]:
        """The single GET: every documented field of the full object."""
        return {
            "id": self.id,
            "userId": self.user_id,
            "name": self.name,
            "status": status,
            "active": self.status == "active",
            "strategyType": self.strategy_type,
            "timeframe": self.timeframe,
            "symbols": list(self.symbols),
            **self.config,
            "performance": self.performance(),
            "createdAt": clock.iso(self.created_at),
            "updatedAt": clock.iso(self.updated_at),
            "lastExecution": self.last_execution,
        }

    def record_trade(self, rng: random.Random, at: float, clock: SimClock) -> None:
        """One closed trade: P&L, drawdown and lastExecution move with it."""
        win_share = self.winning / max(1, self.winning + self.losing) or 0.55
        symbol = rng.choice(self.symbols)
        qty = rng.choice((1, 5, 10, 25, 50, 100))
        if rng.random() < win_share:
            amount = round(rng.uniform(150, 2500), 2)
            self.winning += 1
            self.gross_win += amount
            result = f"Closed long {qty} {symbol}: +{amount:.2f}"
        else:
            amount = round(rng.uniform(100, 1800), 2)
            self.losing += 1
            self.gross_loss += amount
            self.daily_loss += amount
            result = f"Closed long {qty} {symbol}: -{amount:.2f}"
        net = self.gross_win - self.gross_loss
        self.peak = max(self.peak, net)
        self.max_drawdown = max(self.max_drawdown, self.peak - net)
        self.updated_at = at
        self.last_execution = {"timestamp": clock.iso(at), "status": "success", "result": result}


def _object_id(rng: random.Random, created_at: float, taken: set[str]) -> str:
    """A MongoDB-ObjectId-like id: 4 bytes of creation time, 8 random bytes."""
    while True:
        oid = f"{int(created_at) & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"
        if oid not in taken:
            taken.add(oid)
            return oid


def _symbols(rng: random.Random) -> list[str]:
    if rng.random() < 0.15:
        return [f"MCX:{s}" for s in rng.sample(_MCX, rng.randint(1, 2))]
    return [f"NSE:{s}" for s in rng.sample(_NSE, rng.randint(1, 4))]


def _config(rng: random.Random, symbols: list[str], complete: bool) -> dict[str, Any]:
    """The configuration sub-objects of the full GET, documented shapes."""
    max_daily = rng.choice((2000, 5000, 7500, 10000, 15000, 25000))
    conditions = [
        {
            "indicator": ind,
            "period": rng.choice((9, 14, 20, 50, 200)),
            "comparison": rng.choice(("above", "below", "crosses_above", "crosses_below")),
            "value": rng.choice((20, 30, 50, 70, 80)),
        }
        for ind in rng.sample(_INDICATORS, rng.randint(1, 3))
    ]
    return {
        "positionSizing": {
            "method": rng.choice(("risk_based", "fixed_quantity", "percentage_of_capital")),
            "riskPercentage": rng.choice((0.5, 1.0, 1.5, 2.0)),
            "stopLossPercentage": rng.choice((1.0, 1.5, 2.0, 3.0)),
        },
        "entryConditions": {
            "positionType": rng.choice(("long", "short", "both")),
            "logicalOperator": rng.choice(("AND", "OR")),
            "confirmationCandles": rng.randint(0, 3),
            "conditions": conditions if complete else [],
        },
        "exitConditions": {
            "stopLoss": {"type": "percentage", "value": rng.choice((1, 2, 3))},
            "takeProfit": {"type": "risk_reward", "ratio": rng.choice((1.5, 2, 3))},
        },
        "riskParameters": {
            "maxPositionSize": rng.choice((50000, 100000, 250000, 500000)),
            "stopLoss": rng.choice((1, 2, 3)),
            "takeProfit": rng.choice((2, 4, 6)),
            "maxDailyLoss": max_daily if complete else None,
            "maxOpenPositions": rng.randint(1, 10),
            "riskRewardRatio": rng.choice((1.5, 2, 2.5, 3)),
        },
        "executionSettings": {
            "mode": rng.choice(("paper", "live", "live")),
            "exchange": symbols[0].split(":", 1)[0],
            "orderType": rng.choice(("market", "limit")),
            "slippage": rng.choice((0.05, 0.1, 0.2)),
        },
    }


def _status_for(index_in_block: int) -> str:
    """The fixed share of special cases in every block of 40."""
    if index_in_block == 0:
        return "draft"
    if index_in_block == 1:
        return "error"
    if index_in_block == 2:
        return "daily_loss"  # stopped, with its daily loss limit reached
    if index_in_block <= 6:
        return "paused"
    if index_in_block <= 12:
        return "stopped"
    return "active"


@dataclass
class X3AlgoWorld:
    """The demo user's algorithms (and one foreign), and the motion that moves them."""

    user_id: str
    algos: dict[str, Algo]
    by_created: list[Algo]  # (createdAt, id) ascending; createdAt never changes
    foreign: Algo
    special: dict[str, str]
    rng: random.Random  # the context's: building and motion draw from the one RNG
    clock: SimClock
    trades: int = 0  # trades closed by ticks so far

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The seeded demo world: ``40 * scale`` algorithms of the demo user, plus a foreign one."""
        rng, clock = ctx.rng, ctx.clock
        user_id, algos, foreign, special = _build(rng, ctx.scale, clock)
        by_created = sorted(algos, key=lambda a: (a.created_at, a.id))
        return cls(user_id, {a.id: a for a in algos}, by_created, foreign, special, rng, clock)

    def tick(self, now: float, dt: float) -> None:
        """Advance by ``dt`` seconds: trades close, P&L drifts, rarely an error."""
        rng, clock = self.rng, self.clock
        p_trade = min(1.0, TRADE_RATE * dt)
        p_error = min(1.0, ERROR_RATE * dt)
        for algo in self.by_created:
            if algo.status != "active":
                continue
            if rng.random() < p_trade:
                algo.record_trade(rng, now, clock)
                self.trades += 1
            if rng.random() < p_error:
                algo.status = "error"
                algo.updated_at = now
                algo.last_execution = {
                    "timestamp": clock.iso(now),
                    "status": "failed",
                    "result": rng.choice(_REJECTIONS),
                }


def _build(
    rng: random.Random, scale: int, clock: SimClock
) -> tuple[str, list[Algo], Algo, dict[str, str]]:
    """The demo user's id, their algorithms, the foreign one, and the special cases' ids."""
    now = clock.now()
    taken: set[str] = set()
    user_id = _object_id(rng, now - 400 * 86400, taken)
    names: set[str] = set()
    algos: list[Algo] = []
    special: dict[str, str] = {}
    for i in range(BLOCK * max(1, scale) + 1):
        kind = _status_for(i % BLOCK) if i < BLOCK * max(1, scale) else "stopped"
        algo = _make_algo(rng, now, clock, kind, taken, names, user_id)
        if kind in ("draft", "error", "daily_loss") and kind not in special:
            special[kind] = algo.id
        algos.append(algo)
    foreign = algos.pop()
    foreign.user_id = _object_id(rng, now - 300 * 86400, taken)
    special["foreign"] = foreign.id
    return user_id, algos, foreign, special


def _make_algo(
    rng: random.Random,
    now: float,
    clock: SimClock,
    kind: str,
    taken: set[str],
    names: set[str],
    user_id: str,
) -> Algo:
    created = now - rng.uniform(2 * 86400, 240 * 86400)
    strategy = rng.choice(STRATEGY_TYPES)
    symbols = _symbols(rng)
    base = f"{rng.choice(_SIGNALS)} {_STYLE[strategy]}"
    if rng.random() < 0.4:
        base += f" — {symbols[0].split(':', 1)[1].title()}"
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base} v{n}"
    names.add(name)
    draft = kind == "draft"
    algo = Algo(
        id=_object_id(rng, created, taken),
        user_id=user_id,
        name=name,
        status="stopped" if kind == "daily_loss" else kind,
        strategy_type=strategy,
        timeframe=rng.choice(TIMEFRAMES),
        symbols=symbols,
        created_at=created,
        updated_at=created + rng.uniform(0, now - created - 60),
        config=_config(rng, symbols, complete=not draft),
        unknown_draw=rng.random(),
    )
    if draft:
        algo.missing_fields = ["entryConditions.conditions", "riskParameters.maxDailyLoss"]
        algo.updated_at = created
        return algo
    _seed_performance(rng, algo)
    if kind == "error":
        algo.last_execution = {
            "timestamp": clock.iso(algo.updated_at),
            "status": "failed",
            "result": rng.choice(_REJECTIONS),
        }
    else:
        algo.last_execution = {
            "timestamp": clock.iso(algo.updated_at),
            "status": "success",
            "result": f"Closed long {rng.choice((5, 10, 25))} {symbols[0]}",
        }
    limit = algo.daily_limit or 0.0
    algo.daily_loss = limit if kind == "daily_loss" else round(rng.uniform(0, limit * 0.6), 2)
    return algo


def _seed_performance(rng: random.Random, algo: Algo) -> None:
    trades = rng.randint(5, 400)
    win_rate = rng.uniform(0.38, 0.72)
    algo.winning = round(trades * win_rate)
    algo.losing = trades - algo.winning
    avg_win = rng.uniform(300, 1800)
    avg_loss = rng.uniform(250, 1500)
    algo.gross_win = round(algo.winning * avg_win, 2)
    algo.gross_loss = round(algo.losing * avg_loss, 2)
    net = algo.gross_win - algo.gross_loss
    algo.peak = max(0.0, net) + rng.uniform(0, 3000)
    algo.max_drawdown = max(algo.peak - net, rng.uniform(500, 8000))
    algo.sharpe = rng.uniform(-0.5, 2.8)


def _number(value: object) -> str:
    """A finite int or float as JSON writes it; TypeError for anything else."""
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float and math.isfinite(value):
        return float.__repr__(value)
    raise TypeError(value)


def response_json(content: object) -> bytes:
    """``content`` as Starlette's ``JSONResponse`` encodes it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")
