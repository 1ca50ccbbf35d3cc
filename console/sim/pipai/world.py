"""The simulated PipAI account: strategies, their positions, lifecycle and motion.

Everything is drawn from the vendor's seeded RNG and stamped from the world clock, so
a frozen clock with motion off answers byte-identically for the same seed. Events are
handed to ``emit(strategy_id, type, data)``; the WebSocket hub decides who hears them.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from console.sim.kit.context import VendorContext

STATUSES = ("draft", "deployed", "paused", "stopped", "error")
TEMPLATES = ("tpl_grid", "tpl_dca", "tpl_momentum", "tpl_meanrev")
TIMEFRAMES = ("1m", "5m", "15m", "1h", "4h", "1d")
UNKNOWN_STATUS = "hibernating"
MAX_POSITIONS = 5

# Rough reference prices (USDT) the positions and fills are quoted around.
PRICES: dict[str, float] = {
    "BTCUSDT": 66000.0,
    "ETHUSDT": 3200.0,
    "SOLUSDT": 150.0,
    "BNBUSDT": 590.0,
    "XRPUSDT": 0.52,
    "ADAUSDT": 0.45,
    "DOGEUSDT": 0.15,
    "AVAXUSDT": 34.0,
    "LINKUSDT": 14.5,
    "DOTUSDT": 6.8,
    "LTCUSDT": 82.0,
    "ARBUSDT": 1.05,
    "OPUSDT": 2.3,
    "NEARUSDT": 5.9,
    "TRXUSDT": 0.12,
}
CAPITALS = (1000, 2500, 5000, 10000, 15000, 25000, 50000)
FLAVOURS = ("", "", "", "Conservative ", "Aggressive ", "Swing ", "Night ", "Core ")
TEMPLATE_WORDS = {
    "tpl_grid": "grid",
    "tpl_dca": "DCA",
    "tpl_momentum": "momentum",
    "tpl_meanrev": "mean-reversion",
}
# Per block of 30 strategies: mostly deployed, some paused, one of each other status.
STATUS_BLOCK = ("draft", "stopped", "error", *("paused",) * 5, *("deployed",) * 22)


class StateError(Exception):
    """A lifecycle call not allowed in the strategy's status (409 INVALID_STATE)."""


class ParamError(Exception):
    """A request parameter PipAI would refuse (400 INVALID_PARAMETER)."""


@dataclass
class Position:
    id: str
    symbol: str
    side: str
    qty: str
    entry: float


@dataclass
class Strategy:
    """One strategy; money kept in integer cents so no float reaches a decimal string."""

    id: str
    name: str
    template_id: str
    params: dict[str, Any]
    symbols: list[str]
    timeframe: str
    capital: str
    leverage: int
    status: str
    deployed_at: str | None
    created_at: str
    updated_at: str
    pnl_cents: int = 0
    total_trades: int = 0
    wins: int = 0
    positions: list[Position] = field(default_factory=list)
    oddity: float = 1.0  # seeded draw against the unknown_status_rate knob

    def win_rate(self) -> str:
        if self.total_trades == 0:
            return "0.000"
        return str((Decimal(self.wins) / Decimal(self.total_trades)).quantize(Decimal("0.001")))

    def as_json(self, unknown_status_rate: float) -> dict[str, Any]:
        status = UNKNOWN_STATUS if self.oddity < unknown_status_rate else self.status
        return {
            "id": self.id,
            "name": self.name,
            "template_id": self.template_id,
            "params": self.params,
            "symbols": self.symbols,
            "timeframe": self.timeframe,
            "capital": self.capital,
            "leverage": self.leverage,
            "status": status,
            "deployed_at": self.deployed_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "stats": {
                "open_positions": len(self.positions),
                "total_pnl": cents(self.pnl_cents),
                "total_trades": self.total_trades,
                "win_rate": self.win_rate(),
            },
        }


def cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def price_str(value: float) -> str:
    digits = 2 if value >= 10 else 4 if value >= 0.1 else 5
    return f"{value:.{digits}f}"


def encode_cursor(created_at: str) -> str:
    raw = json.dumps({"created_at": created_at}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at = json.loads(raw)["created_at"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ParamError("cursor is not a valid pagination cursor") from exc
    if not isinstance(created_at, str):
        raise ParamError("cursor is not a valid pagination cursor")
    return created_at


Emit = Callable[[str, str, dict[str, Any]], None]


class PipAIWorld:
    """The account's strategies, newest first, plus their motion."""

    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.emit: Emit = lambda sid, kind, data: None
        self.strategies: dict[str, Strategy] = {}
        self.newest_first: list[Strategy] = []
        self._asc_created: list[str] = []
        rng = ctx.rng
        self._build(rng, 30 * max(1, ctx.scale))
        self.motion_rng = random.Random(rng.getrandbits(64))
        self._ids_rng = random.Random(rng.getrandbits(64))

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The seeded account: ``30 * scale`` strategies, newest first."""
        return cls(ctx)

    # ----- building -------------------------------------------------------------------
    def _build(self, rng: random.Random, count: int) -> None:
        now = int(self.ctx.clock.now())
        statuses = [STATUS_BLOCK[i % len(STATUS_BLOCK)] for i in range(count)]
        rng.shuffle(statuses)
        names: set[str] = set()
        ids: set[str] = set()
        created = now - rng.randint(3600, 6 * 3600)
        for status in statuses:
            sid = _new_id(rng, ids)
            s = self._new_strategy(rng, sid, status, created, now, names)
            self.newest_first.append(s)
            self.strategies[sid] = s
            created -= rng.randint(900, 4 * 3600)
        self._asc_created = [s.created_at for s in reversed(self.newest_first)]

    def _new_strategy(
        self, rng: random.Random, sid: str, status: str, created: int, now: int, names: set[str]
    ) -> Strategy:
        template = rng.choice(TEMPLATES)
        symbols = sorted(rng.sample(sorted(PRICES), rng.choice((1, 1, 1, 2, 3))))
        timeframe = "1d" if template == "tpl_dca" and rng.random() < 0.7 else rng.choice(TIMEFRAMES)
        capital_units = rng.choice(CAPITALS)
        clock = self.ctx.clock
        deployed = updated = None
        if status != "draft":
            deployed = created + int((now - created) * rng.uniform(0.05, 0.5))
            updated = deployed
            if status != "deployed":
                updated = deployed + int((now - deployed) * rng.uniform(0.1, 0.9))
        s = Strategy(
            id=sid,
            name=_unique_name(names, _name(rng, template, symbols, timeframe)),
            template_id=template,
            params=_params(rng, template, symbols[0], timeframe),
            symbols=symbols,
            timeframe=timeframe,
            capital=f"{capital_units}.00",
            leverage=rng.choice((1, 1, 1, 2, 3, 3, 5, 10)),
            status=status,
            deployed_at=clock.iso(deployed) if deployed is not None else None,
            created_at=clock.iso(created),
            updated_at=clock.iso(updated if updated is not None else created + 120),
            oddity=rng.random(),
        )
        if status != "draft":
            s.total_trades = rng.randint(0, 400)
            s.wins = round(s.total_trades * rng.uniform(0.35, 0.7))
            s.pnl_cents = int(capital_units * 100 * rng.uniform(-0.06, 0.14))
        held = {"deployed": (0, 4), "paused": (0, 2), "error": (0, 1)}.get(status, (0, 0))
        for _ in range(rng.randint(*held)):
            s.positions.append(self._position(rng, s))
        return s

    def _position(self, rng: random.Random, s: Strategy) -> Position:
        symbol = rng.choice(s.symbols)
        entry = PRICES[symbol] * rng.uniform(0.97, 1.03)
        notional = int(s.capital.split(".")[0]) * s.leverage / 4
        qty = notional / entry
        return Position(
            id=f"pos_{rng.getrandbits(40):010x}",
            symbol=symbol,
            side=rng.choice(("long", "long", "short")),
            qty=f"{qty:.4f}" if qty < 1000 else f"{qty:.0f}",
            entry=entry,
        )

    # ----- reads ----------------------------------------------------------------------
    def page(
        self,
        *,
        limit: int,
        cursor: str | None,
        status: str | None,
        template_id: str | None,
        unknown_status_rate: float,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page, newest first; the cursor is the last item's ``created_at`` [INF]."""
        start = 0
        if cursor is not None:
            older = bisect.bisect_left(self._asc_created, decode_cursor(cursor))
            start = len(self.newest_first) - older
        out: list[dict[str, Any]] = []
        last: Strategy | None = None
        more = False
        for s in itertools.islice(self.newest_first, start, None):
            item = s.as_json(unknown_status_rate)
            if (status and item["status"] != status) or (
                template_id and s.template_id != template_id
            ):
                continue
            if len(out) == limit:
                more = True
                break
            out.append(item)
            last = s
        return out, encode_cursor(last.created_at) if more and last else None

    # ----- lifecycle ------------------------------------------------------------------
    def pause(self, sid: str, close_positions: bool) -> Strategy:
        """Deployed → paused; with ``close_positions`` every position is closed first."""
        s = self.strategies[sid]
        if s.status != "deployed":
            raise StateError(f"Strategy is {s.status}; only a deployed strategy can be paused")
        if close_positions:
            while s.positions:
                self._close(s, s.positions[0], reason="pause_close_positions")
        s.status = "paused"
        s.updated_at = self.ctx.clock.iso()
        self._lifecycle(s, "paused", close_positions=close_positions)
        return s

    def deploy(self, sid: str, *, capital: str | None, leverage: int | None) -> Strategy:
        """Draft or paused → deployed; overrides apply to this run only (not stored)."""
        s = self.strategies[sid]
        if s.status not in ("draft", "paused"):
            raise StateError(
                f"Strategy is {s.status}; only a draft or paused strategy can be deployed"
            )
        if capital is not None and Decimal(capital) < Decimal("100"):
            raise ParamError(f"capital {capital} is under the template minimum of 100.00")
        now = self.ctx.clock.iso()
        s.status = "deployed"
        s.deployed_at = s.updated_at = now
        self._lifecycle(s, "deployed")
        return s

    def set_status(self, sid: str, status: str, message: str = "") -> Strategy:
        """World command: force a status (tests, demos), announced like the real thing."""
        s = self.strategies[sid]
        s.status = status
        s.updated_at = self.ctx.clock.iso()
        if status == "deployed":
            s.deployed_at = s.updated_at
        if status in ("deployed", "paused"):
            self._lifecycle(s, status)
        elif status == "error":
            self._lifecycle(s, "error", message=message or "Exchange rejected order: margin")
        return s

    def set_positions(self, sid: str, count: int) -> Strategy:
        s = self.strategies[sid]
        rng = self._ids_rng
        while len(s.positions) < count:
            s.positions.append(self._position(rng, s))
        del s.positions[count:]
        return s

    def _lifecycle(self, s: Strategy, kind: str, **extra: Any) -> None:
        data: dict[str, Any] = {"strategy_id": s.id, "status": s.status, **extra}
        if kind == "deployed":
            data["deployed_at"] = s.deployed_at
        self.emit(s.id, kind, data)

    # ----- motion ---------------------------------------------------------------------
    def tick(self, now: float, dt: float) -> None:
        """P&L drift, positions opened and closed, orders placed/filled, rarely an error."""
        rng = self.motion_rng
        for s in self.newest_first:
            if s.status == "deployed":
                self._move_deployed(rng, s, dt)
            elif s.status == "paused" and s.positions and rng.random() < 0.01 * dt:
                self._close(s, rng.choice(s.positions), reason="exit_rule")

    def _move_deployed(self, rng: random.Random, s: Strategy, dt: float) -> None:
        if s.positions:
            capital_cents = int(s.capital.split(".")[0]) * 100
            s.pnl_cents += int(rng.gauss(0, capital_cents * 0.0004 * math.sqrt(dt)))
        if len(s.positions) < MAX_POSITIONS and rng.random() < 0.02 * dt:
            pos = self._position(rng, s)
            self._order(s, pos.symbol, "buy" if pos.side == "long" else "sell", pos.qty, pos.entry)
            s.positions.append(pos)
            self.emit(s.id, "position_opened", self._position_data(s, pos, pos.entry))
        for pos in list(s.positions):
            if rng.random() < 0.015 * dt:
                self._close(s, pos, reason=rng.choice(("exit_rule", "exit_rule", "stop_loss")))
        if rng.random() < 0.005 * dt:
            symbol = rng.choice(s.symbols)
            order_id = self._order_id()
            data = {"strategy_id": s.id, "order_id": order_id, "symbol": symbol, "reason": "stale"}
            self.emit(s.id, "order_placed", {**data, "side": "buy", "type": "limit"})
            self.emit(s.id, "order_cancelled", data)
        if rng.random() < 0.00003 * dt:
            s.status = "error"
            s.updated_at = self.ctx.clock.iso()
            self._lifecycle(s, "error", message="Exchange rejected order: insufficient margin")

    def _close(self, s: Strategy, pos: Position, *, reason: str) -> None:
        rng = self.motion_rng
        exit_price = pos.entry * rng.uniform(0.985, 1.02)
        side = "sell" if pos.side == "long" else "buy"
        self._order(s, pos.symbol, side, pos.qty, exit_price)
        move = (exit_price - pos.entry) / pos.entry * (1 if pos.side == "long" else -1)
        notional_cents = int(int(s.capital.split(".")[0]) * s.leverage / 4 * 100)
        pnl = int(notional_cents * move)
        s.pnl_cents += pnl
        s.total_trades += 1
        s.wins += pnl > 0
        s.positions.remove(pos)
        data = self._position_data(s, pos, exit_price)
        data.update({"realized_pnl": cents(pnl), "reason": reason})
        self.emit(s.id, "position_closed", data)

    def _position_data(self, s: Strategy, pos: Position, price: float) -> dict[str, Any]:
        return {
            "strategy_id": s.id,
            "position_id": pos.id,
            "symbol": pos.symbol,
            "side": pos.side,
            "qty": pos.qty,
            "price": price_str(price),
            "open_positions": len(s.positions),
            "total_pnl": cents(s.pnl_cents),
        }

    def _order(self, s: Strategy, symbol: str, side: str, qty: str, price: float) -> None:
        data = {"strategy_id": s.id, "order_id": self._order_id(), "symbol": symbol, "side": side}
        self.emit(s.id, "order_placed", {**data, "type": "market", "qty": qty})
        self.emit(s.id, "order_filled", {**data, "qty": qty, "price": price_str(price)})

    def _order_id(self) -> str:
        return f"ord_{self._ids_rng.getrandbits(48):012x}"

    def deployed_ids(self) -> list[str]:
        return [s.id for s in self.newest_first if s.status == "deployed"]


def _new_id(rng: random.Random, taken: set[str]) -> str:
    """``strat_`` plus 6 to 8 hex digits, as the docs show, never reused."""
    while True:
        sid = f"strat_{rng.getrandbits(32):08x}"[: 12 + rng.randint(0, 2)]
        if sid not in taken:
            taken.add(sid)
            return sid


def _unique_name(taken: set[str], name: str) -> str:
    """Names are unique per account: a clash gets ``#2``, ``#3`` ... like a person would."""
    value, n = name, 2
    while value in taken:
        value, n = f"{name} #{n}", n + 1
    taken.add(value)
    return value


def _name(rng: random.Random, template: str, symbols: list[str], timeframe: str) -> str:
    bases = "/".join(sym.removesuffix("USDT") for sym in symbols)
    when = "daily" if template == "tpl_dca" and timeframe == "1d" else timeframe
    return f"{rng.choice(FLAVOURS)}{bases} {TEMPLATE_WORDS[template]} {when}"


def _params(rng: random.Random, template: str, symbol: str, timeframe: str) -> dict[str, Any]:
    ref = PRICES[symbol]
    if template == "tpl_grid":
        return {
            "grid_levels": rng.choice((6, 8, 10, 12, 20)),
            "upper_price": price_str(ref * 1.1),
            "lower_price": price_str(ref * 0.9),
            "rebalance_threshold": "0.02",
        }
    if template == "tpl_dca":
        return {"interval": timeframe, "buy_amount": str(rng.choice((50, 100, 250, 500)))}
    if template == "tpl_momentum":
        return {
            "lookback": rng.choice((14, 20, 50)),
            "entry_threshold": rng.choice(("0.01", "0.015", "0.02")),
            "stop_loss": rng.choice(("0.02", "0.03", "0.05")),
        }
    return {
        "window": rng.choice((20, 50, 100)),
        "z_entry": rng.choice(("1.5", "2.0", "2.5")),
        "z_exit": rng.choice(("0.0", "0.5")),
    }
