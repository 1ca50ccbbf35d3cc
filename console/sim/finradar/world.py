"""The simulated FinRadar Sniper world: accounts, sniper targets and their lifecycle.

Kept apart from the HTTP layer (``console.sim.finradar.api``) so that the state machine can
be read, and tested, on its own:

* ``CREATED`` (start in the future) -> ``ACTIVE`` at ``start_time`` when one of the
  account's plan slots is free (it waits otherwise) -> ``STOPPED`` at ``end_time``
  (``window_expired``), when a filing fires (``filing_hit``) or on a stop
  (``manual_stop``). ``STOPPED`` is final.
* Only ``ACTIVE`` targets use a slot; a paid account has 5.

Scale multiplies the primary account's scheduled (``CREATED``) targets and its history
(``STOPPED``): one API key is one account, so ``ACTIVE`` never exceeds its 5 slots at
any scale. A second account exists so that "owned by another user -> 404" is real.
All times are UNIX seconds from the simulator clock; the world draws from one seeded RNG.
"""

from __future__ import annotations

import bisect
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from console.sim.finradar.data import (
    ANY_FORMS,
    BASE62,
    FORM_FILTERS,
    HEADLINE,
    TICKERS,
    WEBHOOKS,
)
from console.sim.kit.context import VendorContext

CREATED, ACTIVE, STOPPED = "CREATED", "ACTIVE", "STOPPED"
WINDOW_EXPIRED, MANUAL_STOP, FILING_HIT = "window_expired", "manual_stop", "filing_hit"
# What a target reports under the ``unknown_status_rate`` knob: a word no client knows.
ODD_STATUS = "SUSPENDED"
PAID_SLOTS = 5
MAX_DURATION_MIN = 1440

# Motion: chance per second that one ACTIVE sniper sees its filing, and that the
# account's owner creates a new sniper into a free slot.
HIT_PER_S = 1 / 600
CREATE_PER_S = 1 / 90

Iso = Callable[[float], str]


class WorldError(Exception):
    """A request the world refuses: HTTP status, error code, message, extra body fields."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}


@dataclass(slots=True)
class Sniper:
    target_id: str
    ticker: str
    status: str
    start_time: float
    end_time: float
    created_at: float
    seq: int
    form_types: list[str] | None
    webhook_url: str | None
    oddity: float  # seeded draw: reported with ODD_STATUS when below unknown_status_rate
    filing_uuid: str | None = None
    resolution_reason: str | None = None
    stopped_at: float | None = None
    last_event: dict[str, Any] | None = None


@dataclass
class Account:
    """One FinRadar user: an API key, a plan, and its snipers in creation order."""

    account_id: str
    api_key: str
    plan: str = "paid"
    slots_total: int = PAID_SLOTS
    ordered: list[tuple[float, int, str]] = field(default_factory=list)
    by_id: dict[str, Sniper] = field(default_factory=dict)
    live: dict[str, Sniper] = field(default_factory=dict)  # CREATED and ACTIVE
    active: int = 0
    _newest: list[Sniper] | None = field(default=None, repr=False, compare=False)

    @property
    def slots_available(self) -> int:
        return max(0, self.slots_total - self.active)

    def add(self, sniper: Sniper) -> None:
        bisect.insort(self.ordered, (sniper.created_at, sniper.seq, sniper.target_id))
        self._newest = None
        self.by_id[sniper.target_id] = sniper
        if sniper.status != STOPPED:
            self.live[sniper.target_id] = sniper
        if sniper.status == ACTIVE:
            self.active += 1

    def newest_first(self) -> list[Sniper]:
        """Every sniper, newest first (kept until one is added: each page of a list read
        asks for it, and building it again was O(targets) per page). Not to be changed."""
        if self._newest is None:
            self._newest = [self.by_id[key[2]] for key in reversed(self.ordered)]
        return self._newest


class FinRadarWorld:
    """Every account's snipers, their lifecycle, and how they are written on the wire."""

    def __init__(self, rng: random.Random, now: float, scale: int, iso: Iso) -> None:
        self.rng = rng
        self.iso = iso
        self._seq = 0
        self._ids: set[str] = set()
        self._deck: list[str] = []
        self._dealt = False
        self.primary = Account("acct_" + self._base62(10), self._api_key())
        self.other = Account("acct_" + self._base62(10), self._api_key())
        self.accounts_by_key = {a.api_key: a for a in (self.primary, self.other)}
        base = float(int(now))
        self._seed_account(self.primary, base, active=min(PAID_SLOTS, 2 + scale), scale=scale)
        self._seed_account(self.other, base, active=1, scale=0)

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The two seeded accounts; the primary's schedule and history grow with ``scale``."""
        return cls(ctx.rng, ctx.clock.now(), ctx.scale, ctx.clock.iso)

    # ----- ids and seeding ---------------------------------------------------------
    def _base62(self, n: int) -> str:
        return "".join(self.rng.choice(BASE62) for _ in range(n))

    def _api_key(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def _new_id(self) -> str:
        while True:
            target_id = "tgt_" + self._base62(12)
            if target_id not in self._ids:
                self._ids.add(target_id)
                return target_id

    def _sniper(self, ticker: str, status: str, created: float, start: float, end: float) -> Sniper:
        self._seq += 1
        return Sniper(
            target_id=self._new_id(),
            ticker=ticker,
            status=status,
            start_time=start,
            end_time=end,
            created_at=created,
            seq=self._seq,
            form_types=_copy(self.rng.choice(FORM_FILTERS)),
            webhook_url=self.rng.choice(WEBHOOKS),
            oddity=self.rng.random(),
        )

    def _ticker(self) -> str:
        """Tickers dealt from shuffled decks, headline names first, so repeats are rare."""
        if not self._deck:
            rest = [t for t in TICKERS if t not in HEADLINE]
            first, second = list(HEADLINE), rest
            if self._dealt:
                first, second = list(TICKERS), []
            self.rng.shuffle(first)
            self.rng.shuffle(second)
            self._deck = second + first  # dealt from the end
            self._dealt = True
        return self._deck.pop()

    def _seed_account(self, account: Account, now: float, *, active: int, scale: int) -> None:
        """Live snipers first (they get the headline tickers), then scheduled, then history."""
        rng = self.rng
        for _ in range(active):
            created = now - rng.randint(5 * 60, 90 * 60)
            end = created + 60 * rng.choice((120, 240, 480, 720, 1440))
            account.add(self._sniper(self._ticker(), ACTIVE, created, created, end))
        for _ in range(2 * scale):
            created = now - rng.randint(10 * 60, 12 * 3600)
            start = now + rng.randint(10 * 60, 3 * 86400)
            end = start + 60 * rng.choice((60, 120, 390, 960))
            account.add(self._sniper(self._ticker(), CREATED, created, start, end))
        reasons = [WINDOW_EXPIRED, MANUAL_STOP, FILING_HIT]
        rng.shuffle(reasons)
        for i in range(7 * scale or 2):
            # created at least 12 h ago: every window (<= 9 h) has ended by now
            created = now - rng.randint(12 * 3600, 30 * 86400)
            start = created + rng.choice((0, 0, 600, 3600))
            end = start + 60 * rng.choice((30, 60, 120, 240, 480))
            sniper = self._sniper(self._ticker(), STOPPED, created, start, end)
            reason = reasons[i] if i < len(reasons) else rng.choice(reasons)
            if reason == WINDOW_EXPIRED:
                self._resolve(sniper, WINDOW_EXPIRED, end)
            elif reason == MANUAL_STOP:
                self._resolve(sniper, MANUAL_STOP, rng.uniform(start + 60, end - 60))
            else:
                self._hit(sniper, rng.uniform(start + 60, end - 60))
            account.add(sniper)

    # ----- lifecycle -----------------------------------------------------------------
    def _resolve(self, sniper: Sniper, reason: str, at: float) -> None:
        sniper.status = STOPPED
        sniper.resolution_reason = reason
        sniper.stopped_at = float(int(at))

    def _hit(self, sniper: Sniper, at: float) -> None:
        """The sniper's filing arrived: it stops with ``filing_hit`` and a summary."""
        self._resolve(sniper, FILING_HIT, at)
        rng = self.rng
        cik = TICKERS.get(sniper.ticker, "0000000000")
        forms = sniper.form_types or list(ANY_FORMS)
        form = rng.choice(forms)
        year = self.iso(at)[2:4]
        accession = f"{cik}-{year}-{rng.randint(1, 999999):06d}"
        sniper.filing_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        sniper.last_event = {
            "event_type": "sniper.filing_hit",
            "occurred_at": self.iso(at),
            "accession_number": accession,
            "form_type": form,
            "issuer_cik": cik,
            "filed_at": self.iso(at - rng.randint(5, 90)),
            "filing_url": (
                f"https://www.sec.gov/Archives/edgar/data/{int(cik)}/"
                f"{accession.replace('-', '')}/{accession}-index.htm"
            ),
        }

    def _leave_live(self, account: Account, sniper: Sniper, was: str) -> None:
        account.live.pop(sniper.target_id, None)
        if was == ACTIVE:
            account.active -= 1

    def stop(self, account: Account, target_id: str, now: float) -> Sniper | None:
        """Stop a CREATED/ACTIVE sniper; a STOPPED one is returned unchanged (idempotent)."""
        sniper = account.by_id.get(target_id)
        if sniper is None:
            return None
        if sniper.status != STOPPED:
            was = sniper.status
            self._resolve(sniper, MANUAL_STOP, now)
            self._leave_live(account, sniper, was)
        return sniper

    def detached(self, target_id: str, ticker: str, now: float, *, seq: int) -> Sniper:
        """An ACTIVE sniper that belongs to no account (the ``dot_ids`` knob's), made
        without a random draw so the seeded world is unchanged."""
        return Sniper(
            target_id=target_id,
            ticker=ticker,
            status=ACTIVE,
            start_time=now - 600,
            end_time=now + 3600,
            created_at=now - 600,
            seq=seq,
            form_types=None,
            webhook_url=None,
            oddity=1.0,
        )

    def stop_detached(self, sniper: Sniper, now: float) -> None:
        """Stop a detached sniper (idempotent, as :meth:`stop`)."""
        if sniper.status != STOPPED:
            self._resolve(sniper, MANUAL_STOP, now)

    def fire(self, target_id: str, now: float) -> Sniper:
        """A filing for an ACTIVE sniper arrives now (admin command and motion)."""
        account, sniper = self.find(target_id)
        if sniper.status != ACTIVE:
            raise ValueError(f"{target_id} is {sniper.status}, only an ACTIVE sniper can fire")
        self._hit(sniper, now)
        self._leave_live(account, sniper, ACTIVE)
        return sniper

    def expire(self, target_id: str, now: float) -> Sniper:
        """End a CREATED/ACTIVE sniper's window now (``window_expired``)."""
        account, sniper = self.find(target_id)
        if sniper.status == STOPPED:
            raise ValueError(f"{target_id} is already STOPPED")
        was = sniper.status
        sniper.end_time = min(sniper.end_time, float(int(now)))
        self._resolve(sniper, WINDOW_EXPIRED, now)
        self._leave_live(account, sniper, was)
        return sniper

    def find(self, target_id: str) -> tuple[Account, Sniper]:
        for account in (self.primary, self.other):
            sniper = account.by_id.get(target_id)
            if sniper is not None:
                return account, sniper
        raise KeyError(target_id)

    def create(
        self,
        account: Account,
        now: float,
        *,
        ticker: str,
        start: float | None,
        end: float | None,
        duration_min: int | None,
        form_types: list[str] | None,
        webhook_url: str | None,
    ) -> Sniper:
        """Create a sniper as POST /targets does; raises :class:`WorldError` when refused."""
        canonical = canonical_ticker(ticker)
        if canonical not in TICKERS:
            raise WorldError(400, "UNKNOWN_TICKER", f"Unknown ticker {ticker!r}")
        now = float(int(now))
        begin = now if start is None or start <= now else float(int(start))
        finish = float(int(end)) if end is not None else begin + 60 * (duration_min or 60)
        if finish <= begin:
            raise WorldError(400, "VALIDATION_ERROR", "end_time must be after start_time")
        status = ACTIVE if begin <= now else CREATED
        if status == ACTIVE and account.slots_available == 0:
            raise WorldError(
                402,
                "SNIPER_SLOTS_EXHAUSTED",
                f"All {account.slots_total} sniper slots of the {account.plan} plan are in "
                "use; stop an ACTIVE target or upgrade",
                {
                    "plan": account.plan,
                    "slots_total": account.slots_total,
                    "slots_available": 0,
                    "upgrade_url": "https://uat.finradarapi.com/pricing",
                },
            )
        sniper = self._sniper(canonical, status, now, begin, finish)
        sniper.form_types = _copy(form_types)
        sniper.webhook_url = webhook_url
        account.add(sniper)
        return sniper

    def tick(self, now: float, dt: float) -> None:
        """Move every account: starts, expiries, filings, and the owner's new snipers."""
        for account in (self.primary, self.other):
            due = sorted(account.live.values(), key=lambda s: (s.start_time, s.seq))
            for sniper in due:
                if now >= sniper.end_time:
                    was = sniper.status
                    self._resolve(sniper, WINDOW_EXPIRED, sniper.end_time)
                    self._leave_live(account, sniper, was)
                elif sniper.status == CREATED:
                    if now >= sniper.start_time and account.slots_available > 0:
                        sniper.status = ACTIVE
                        account.active += 1
                elif self.rng.random() < HIT_PER_S * dt:
                    self._hit(sniper, now)
                    self._leave_live(account, sniper, ACTIVE)
        if self.primary.slots_available > 0 and self.rng.random() < CREATE_PER_S * dt:
            duration = self.rng.choice((30, 60, 120, 240))
            self.create(
                self.primary,
                now,
                ticker=self._ticker(),
                start=None,
                end=None,
                duration_min=duration,
                form_types=self.rng.choice(FORM_FILTERS),
                webhook_url=self.rng.choice(WEBHOOKS),
            )

    # ----- the wire ------------------------------------------------------------------
    def row(self, sniper: Sniper, unknown_status_rate: float = 0.0) -> dict[str, Any]:
        """One target as GET /targets lists it (documented fields, then ours)."""
        status = ODD_STATUS if sniper.oddity < unknown_status_rate else sniper.status
        return {
            "target_id": sniper.target_id,
            "ticker": sniper.ticker,
            "status": status,
            "start_time": self.iso(sniper.start_time),
            "end_time": self.iso(sniper.end_time),
            "form_types": _copy(sniper.form_types),
            "webhook_url": sniper.webhook_url,
            "created_at": self.iso(sniper.created_at),
            "filing_uuid": sniper.filing_uuid,
            "resolution_reason": sniper.resolution_reason,
            "last_event": sniper.last_event,
            "stopped_at": None if sniper.stopped_at is None else self.iso(sniper.stopped_at),
        }

    def stop_body(self, account: Account, sniper: Sniper) -> dict[str, Any]:
        """The stop answer: the target's stop as it happened, plus today's free slots."""
        stopped_at = sniper.stopped_at if sniper.stopped_at is not None else sniper.end_time
        return {
            "target_id": sniper.target_id,
            "ticker": sniper.ticker,
            "status": STOPPED,
            "resolution_reason": sniper.resolution_reason,
            "stopped_at": self.iso(stopped_at),
            "slots_available": account.slots_available,
        }


def canonical_ticker(ticker: str) -> str:
    """FinRadar's canonical hyphen form: ``brk.a`` and ``BRK/A`` become ``BRK-A``."""
    return ticker.strip().upper().replace(".", "-").replace("/", "-")


def _copy(forms: list[str] | None) -> list[str] | None:
    return None if forms is None else list(forms)
