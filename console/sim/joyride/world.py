"""Joyride's simulated world: daily option rounds, their instruments, DB and engine flags.

Joyride is a 0DTE options exchange with one round per day settling at 08:00 UTC. The
admin kill switch pauses every instrument of one expiration in two phases: a durable DB
flag first, then the in-memory matching engine. The two can disagree (an engine that
restarted and does not know some instruments yet, or one already at the target value),
and the pause call reports that drift in its counts. This module keeps both flags per
instrument so the simulator can reproduce those counts exactly, while the public
instrument list (like the real one) never shows either flag.

Independent of ``console.venues`` on purpose: the simulator is a second reading of the
contract, not a mirror of the client.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, Self

from console.sim.kit.context import VendorContext

DAY_S = 86_400
SETTLEMENT_HOUR_UTC = 8
TWAP_WINDOW_S = 30 * 60
ROUND_EPOCH_MS = 1_735_718_400_000  # 2025-01-01 08:00 UTC, as documented
MICROS = 1_000_000
ROUNDS_LISTED = 4
STRIKES_PER_SIDE_AT_SCALE_1 = 8

# asset -> (typical spot in USDC, tick size in micros)
ASSETS: dict[str, tuple[float, int]] = {
    "BTC": (96_000.0, 100_000),
    "ETH": (3_300.0, 10_000),
    "SOL": (150.0, 1_000),
}
_NICE_STEPS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)
# Status words no client knows, shown under the ``unknown_status_rate`` knob only.
UNKNOWN_WORDS = ("hibernating", "frozen_for_audit", "limbo")
# Hostile knobs (docs/venues/joyride.md): the row the ``bad_row`` knob adds, its
# impossible expiration (10^12: milliseconds where seconds belong, past year 9999), the
# ids ``dot_ids`` adds, and what ``escape_names`` puts after every asset symbol (an OSC
# retitling the terminal, a clear-screen and a colour).
BAD_ROW_ID = "SOL_USDC-BADROW-150-C"
BAD_EXPIRATION = 10**12
DOT_IDS = (".", "..")
ESCAPE = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"


@dataclass(slots=True)
class Instrument:
    """One option instrument. ``paused`` is the hidden DB flag (never serialised)."""

    id: str
    asset: str
    strike: int  # USDC micros
    option_type: str  # "call" | "put"
    expiration: int  # Unix seconds
    tick_size: int
    paused: bool = False
    open_positions: int = 0
    resting_orders: int = 0

    def public_json(self) -> str:
        """:meth:`public` as ``json.dumps(..., separators=(",", ":"))`` writes it, ~3.5x
        faster: a ~50,000-target world lists ~120,000 instruments (22 MB), and encoding
        their dicts took ~310 ms of the simulator's CPU (the console's cores)."""
        exact = (type(self.strike), type(self.tick_size), type(self.expiration)) == (int,) * 3
        if not exact or type(self.id) is not str or type(self.option_type) is not str:
            return _dumps(self.public())
        return (
            f'{{"id":{_quoted(self.id)},"strike":{self.strike!r},"option_type":'
            f'{_quoted(self.option_type)},"expiration":{self.expiration!r},'
            f'"tick_size":{self.tick_size!r},"min_size":100,"contract_size":1,'
            f'"price_decimals":6,"size_decimals":3}}'
        )

    def public(self) -> dict[str, Any]:
        """The documented shape: no ``paused`` field, ever."""
        return {
            "id": self.id,
            "strike": self.strike,
            "option_type": self.option_type,
            "expiration": self.expiration,
            "tick_size": self.tick_size,
            "min_size": 100,
            "contract_size": 1,
            "price_decimals": 6,
            "size_decimals": 3,
        }


def next_expirations(now: float, count: int) -> list[int]:
    """The next ``count`` daily 08:00 UTC instants strictly after ``now``."""
    day = datetime.fromtimestamp(now, UTC).replace(
        hour=SETTLEMENT_HOUR_UTC, minute=0, second=0, microsecond=0
    )
    first = int(day.timestamp())
    if first <= now:
        first += DAY_S
    return [first + i * DAY_S for i in range(count)]


def expiry_code(expiration: int) -> str:
    """``28FEB26``-style date code used inside instrument ids ({DMMMYY})."""
    d = datetime.fromtimestamp(expiration, UTC)
    return f"{d.day}{d.strftime('%b').upper()}{d.year % 100:02d}"


def strike_step(spot: float, count: int) -> int:
    """A round strike spacing (whole dollars) so ``count`` strikes span about ±16% of spot."""
    target = spot * 0.32 / max(count, 1)
    step = 1
    for nice in _NICE_STEPS:
        if nice <= target:
            step = nice
    return step


@dataclass
class JoyrideWorld:
    """All listed instruments plus the engine's view of them."""

    seed: int
    strikes_per_side: int
    rng: random.Random
    # Spot drift draws from its own seeded RNG, apart from the one that built the world.
    motion_rng: random.Random
    spots: dict[str, float] = field(default_factory=dict)
    by_expiration: dict[int, list[Instrument]] = field(default_factory=dict)
    index: dict[str, Instrument] = field(default_factory=dict)
    # The matching engine's in-memory flags; an id absent here is unknown to the engine.
    engine: dict[str, bool] = field(default_factory=dict)
    # The last pause value set per round, inherited by instruments created later.
    round_paused: dict[int, bool] = field(default_factory=dict)
    version: int = 0
    _listing: tuple[tuple[int, float, bool, bool, bool], bytes] | None = None

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The listed rounds (``ROUNDS_LISTED``) of every asset, strikes scaled by ``scale``."""
        rng, seed, now = ctx.rng, ctx.seed, ctx.clock.now()
        world = cls(
            seed=seed,
            strikes_per_side=STRIKES_PER_SIDE_AT_SCALE_1 * max(1, ctx.scale),
            rng=rng,
            motion_rng=random.Random(f"{seed}:joyride:motion"),
        )
        for asset, (spot, _) in ASSETS.items():
            world.spots[asset] = round(spot * rng.uniform(0.92, 1.08), 2)
        for expiration in next_expirations(now, ROUNDS_LISTED):
            for asset in ASSETS:
                world.create_instruments(asset, expiration, world.spots[asset])
        return world

    # ----- reading ---------------------------------------------------------------
    def expirations(self) -> list[int]:
        return sorted(self.by_expiration)

    def listing(
        self,
        unknown_status_rate: float,
        *,
        bad_row: bool = False,
        dot_ids: bool = False,
        escape_names: bool = False,
    ) -> bytes:
        """The JSON body of ``GET /v1/market/instruments``, cached until the world changes.

        Hostile knobs change only this body, never the world: ``bad_row`` adds one row
        (:data:`BAD_ROW_ID`) expiring at 10^12; ``dot_ids`` adds two rows of the first
        round with ids ``.`` and ``..``; ``escape_names`` puts terminal escape
        sequences after every asset symbol of every id (``BTC\\x1b]0;pwned…_USDC-…``).
        """
        key = (self.version, unknown_status_rate, bad_row, dot_ids, escape_names)
        if self._listing is not None and self._listing[0] == key:
            return self._listing[1]
        rows: list[str] = []  # each row's JSON, as json.dumps writes it in the list
        for expiration in self.expirations():
            word = self.unknown_word(expiration, unknown_status_rate)
            for inst in self.by_expiration[expiration]:
                if word is None and not escape_names:
                    rows.append(inst.public_json())
                    continue
                row = inst.public()
                if word is not None:
                    row["status"] = word  # undocumented field, only under the knob
                if escape_names:
                    asset, _, rest = inst.id.partition("_")
                    row["id"] = f"{asset}{ESCAPE}_{rest}"
                rows.append(_dumps(row))
        if rows and (bad_row or dot_ids):
            template = self.by_expiration[self.expirations()[0]][0].public()
            extra = []
            if bad_row:
                extra.append({**template, "id": BAD_ROW_ID, "expiration": BAD_EXPIRATION})
            if dot_ids:
                extra += [{**template, "id": dot} for dot in DOT_IDS]
            middle = len(rows) // 2  # not first, not last: a reader must skip past it
            rows[middle:middle] = [_dumps(row) for row in extra]
        body = ("[" + ",".join(rows) + "]").encode()
        self._listing = (key, body)
        return body

    def unknown_word(self, expiration: int, rate: float) -> str | None:
        """A seeded choice of rounds whose instruments carry a status nobody knows."""
        if rate <= 0:
            return None
        pick = random.Random(f"{self.seed}:joyride:unknown:{expiration}")
        if pick.random() >= rate:
            return None
        return pick.choice(UNKNOWN_WORDS)

    def find(self, instrument_id: str) -> Instrument | None:
        return self.index.get(instrument_id)

    def ticker(self, inst: Instrument, now: float) -> dict[str, Any]:
        """Best bid/ask in integer micros (null when the book is empty), a crude fair value."""
        if inst.resting_orders == 0:
            return {
                "instrument_id": inst.id,
                "best_bid": None,
                "best_ask": None,
                "bid_size": None,
                "ask_size": None,
                "spread": None,
            }
        spot = round(self.spots.get(inst.asset, 0.0) * MICROS)
        intrinsic = max(0, spot - inst.strike if inst.option_type == "call" else inst.strike - spot)
        hours = max(0.0, (inst.expiration - now) / 3600)
        fair = intrinsic + round(spot * 0.004 * (hours / 24) ** 0.5)
        half = max(inst.tick_size, fair // 50)
        bid = max(inst.tick_size, (fair - half) // inst.tick_size * inst.tick_size)
        ask = bid + max(inst.tick_size, 2 * half // inst.tick_size * inst.tick_size)
        return {
            "instrument_id": inst.id,
            "best_bid": bid,
            "best_ask": ask,
            "bid_size": 100 * (1 + inst.resting_orders),
            "ask_size": 100 * (1 + inst.open_positions % 7),
            "spread": ask - bid,
        }

    # ----- admin -----------------------------------------------------------------
    def pause_by_expiration(self, expiration: int, paused: bool) -> dict[str, Any]:
        """DB first (only rows whose flag changes), then mirror the whole round into the
        engine: an engine instrument behind its row (an earlier engine phase that failed,
        ``drift`` with ``engine_already`` before the same call) is flipped and counted
        even when no row changed (``db_updated`` 0, ``engine_updated`` > 0).
        ``engine_missing`` names the changed rows the engine does not know."""
        rows = self.by_expiration.get(expiration, ())
        changed = {i.id for i in rows if i.paused != paused}
        engine_updated = 0
        engine_missing: list[str] = []
        for inst in rows:
            inst.paused = paused
            current = self.engine.get(inst.id)
            if current is None:
                if inst.id in changed:
                    engine_missing.append(inst.id)
            elif current != paused:
                self.engine[inst.id] = paused
                engine_updated += 1
        if expiration in self.by_expiration:
            self.round_paused[expiration] = paused
        return {
            "expiration": expiration,
            "paused": paused,
            "db_updated": len(changed),
            "engine_updated": engine_updated,
            "engine_missing": engine_missing,
        }

    def create_instruments(self, asset: str, expiration: int, spot_price: float) -> int:
        """A strike ladder of calls and puts around ``spot_price``; existing ids are kept.

        New instruments of a round that is already paused inherit the pause.
        """
        count = self.strikes_per_side
        step = strike_step(spot_price, count)
        centre = max(step, round(spot_price / step) * step)
        low = centre - step * (count // 2)
        if low < step:
            low = step
        tick = ASSETS.get(asset, (spot_price, 1_000))[1]
        paused = self.round_paused.get(expiration, False)
        rows = self.by_expiration.setdefault(expiration, [])
        code = expiry_code(expiration)
        created = 0
        for i in range(count):
            strike = low + i * step
            for option_type, letter in (("call", "C"), ("put", "P")):
                inst_id = f"{asset}_USDC-{code}-{strike}-{letter}"
                if inst_id in self.index:
                    continue
                inst = Instrument(
                    id=inst_id,
                    asset=asset,
                    strike=strike * MICROS,
                    option_type=option_type,
                    expiration=expiration,
                    tick_size=tick,
                    paused=paused,
                    open_positions=self.rng.randrange(0, 25),
                    resting_orders=self.rng.randrange(0, 12),
                )
                rows.append(inst)
                self.index[inst_id] = inst
                self.engine[inst_id] = paused
                created += 1
        if created:
            self.version += 1
        return created

    def settle(
        self, expiration: int, twap_prices: dict[str, float], next_expiration: int | None
    ) -> dict[str, Any]:
        """Settle a round: its instruments leave the list; optionally open the next round."""
        rows = self.by_expiration.pop(expiration, [])
        self.round_paused.pop(expiration, None)
        settlements = []
        per_asset: dict[str, list[Instrument]] = {}
        for inst in rows:
            self.index.pop(inst.id, None)
            self.engine.pop(inst.id, None)
            per_asset.setdefault(inst.asset, []).append(inst)
        for asset, insts in sorted(per_asset.items()):
            price = float(twap_prices.get(asset, self.spots.get(asset, 0.0)))
            micros = round(price * MICROS)
            itm = sum(
                1
                for i in insts
                if (i.option_type == "call" and micros > i.strike)
                or (i.option_type == "put" and micros < i.strike)
            )
            settlements.append(
                {
                    "asset": asset,
                    "expiration": expiration,
                    "twap_price": price,
                    "settled_instruments": len(insts),
                    "in_the_money": itm,
                }
            )
        created = 0
        if next_expiration is not None:
            for asset in ASSETS:
                spot = float(twap_prices.get(asset, self.spots[asset]))
                created += self.create_instruments(asset, next_expiration, spot)
        if rows:
            self.version += 1
        return {
            "settled_instruments": len(rows),
            "settled_positions": sum(i.open_positions for i in rows),
            "cancelled_orders": sum(i.resting_orders for i in rows),
            "created_instruments": created,
            "settlements": settlements,
        }

    def drift(self, expiration: int, missing: int, engine_already: int) -> dict[str, Any]:
        """Make ``missing`` instruments unknown to the engine and ``engine_already`` ones
        already at the value the next flip would set (the two drift cases of the docs).
        On a round just paused, ``engine_already`` leaves that many engine instruments
        live, as a pause that failed in its engine phase would: a repeated pause answers
        ``db_updated`` 0, ``engine_updated`` = that many."""
        rows = sorted(self.by_expiration.get(expiration, ()), key=lambda i: i.id)
        if missing < 0 or engine_already < 0 or missing + engine_already > len(rows):
            raise ValueError(
                f"expiration {expiration} has {len(rows)} instruments; "
                f"cannot drift {missing} + {engine_already}"
            )
        gone = rows[:missing]
        ahead = rows[missing : missing + engine_already]
        for inst in gone:
            self.engine.pop(inst.id, None)
        for inst in ahead:
            self.engine[inst.id] = not inst.paused
        return {"missing": [i.id for i in gone], "engine_already": [i.id for i in ahead]}

    def peek(self, expiration: int) -> dict[str, Any]:
        """The hidden flags of one round (for tests; the public API cannot show them)."""
        rows = self.by_expiration.get(expiration, [])
        in_engine = [self.engine[i.id] for i in rows if i.id in self.engine]
        return {
            "expiration": expiration,
            "instruments": len(rows),
            "db_paused": sum(1 for i in rows if i.paused),
            "engine_paused": sum(1 for p in in_engine if p),
            "engine_known": len(in_engine),
            "round_paused": self.round_paused.get(expiration),
        }

    # ----- motion ------------------------------------------------------------------
    def tick(self, now: float, dt: float) -> None:
        """Spots drift; every round past its expiration settles and a new one is listed."""
        self._drift_spots(dt)
        self.settle_due(now)

    def _drift_spots(self, dt: float) -> None:
        rng = self.motion_rng
        for asset, spot in self.spots.items():
            self.spots[asset] = round(max(0.01, spot * (1 + rng.gauss(0, 0.0004) * dt)), 2)

    def settle_due(self, now: float) -> list[int]:
        """Settle every round whose expiration has passed and list a new one for each."""
        settled = []
        for expiration in self.expirations():
            if expiration > now:
                break
            latest = max(self.by_expiration)
            following = latest + DAY_S if len(self.by_expiration) <= ROUNDS_LISTED else None
            self.settle(expiration, dict(self.spots), following)
            settled.append(expiration)
        return settled


def settlement_clock(now: float) -> dict[str, Any]:
    """``GET /v1/oracle/settlement``: the next 08:00 UTC and its 30-minute TWAP window."""
    next_settlement = next_expirations(now, 1)[0]
    twap_start = next_settlement - TWAP_WINDOW_S
    return {
        "next_settlement": next_settlement,
        "twap_window_start": twap_start,
        "seconds_to_twap_window": max(0, int(twap_start - now)),
        "seconds_to_settlement": max(0, int(next_settlement - now)),
        "in_twap_window": twap_start <= now < next_settlement,
    }


def _dumps(row: dict[str, Any]) -> str:
    """One row as the listing writes it (ASCII, compact)."""
    return json.dumps(row, separators=(",", ":"))
