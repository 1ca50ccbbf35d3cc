"""Schedules: when each one runs next, which runs are due now, and skip-next.

A schedule runs at a time of day on some weekdays, or on a cron expression, in an
IANA time zone (``zoneinfo``; cron through ``croniter``), so "16:00 in New York" stays
16:00 in New York across daylight-saving changes. A local time that does not exist on
the day the clocks go forward runs at the same wall time read with the offset before
the change (02:30 → 03:30); one that happens twice when they go back runs once, the
first time.

The pre-expiry rule (``before_expiry = N``) is a schedule too: each target of kind
``expiration`` in its scope carries its expiry (``attrs["expiration"]``, UNIX seconds)
and is due N minutes before it, once per expiration.

A run late by more than :data:`GRACE_S` (the machine slept, the runner was stopped)
is not made up: it is recorded as missed, and the next one is planned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from console.automation.config import DAYS, ScheduleConfig, parse_hhmm
from console.automation.scope import select
from console.core.model import Target, TargetKind
from console.core.store import Store

GRACE_S = 900.0
EXPIRY_ATTR = "expiration"


def next_time(cfg: ScheduleConfig, after: float) -> float | None:
    """The first run of a clock schedule strictly after ``after`` (UNIX seconds)."""
    zone = ZoneInfo(cfg.tz)
    start = datetime.fromtimestamp(after, UTC).astimezone(zone)
    if cfg.cron is not None:
        nxt: datetime = croniter(cfg.cron, start).get_next(datetime)
        return nxt.timestamp()
    if cfg.at is None:
        return None
    at = parse_hhmm(cfg.at)
    for offset in range(0, 9):
        day = (start + timedelta(days=offset)).date()
        if DAYS[day.weekday()] not in cfg.days:
            continue
        when = datetime.combine(day, at, tzinfo=zone).timestamp()
        if when > after:
            return when
    return None


def expiry_of(target: Target) -> float | None:
    if target.kind is not TargetKind.EXPIRATION:
        return None
    value = target.attrs.get(EXPIRY_ATTR)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass
class Skip:
    at: float  # the run skipped
    who: str
    why: str


@dataclass
class Due:
    """A schedule run that is due now: the targets (pre-expiry) or the whole scope."""

    cfg: ScheduleConfig
    at: float  # the planned time of the run
    targets: tuple[Target, ...] | None = None  # None: the scope as it stands now


@dataclass
class ScheduleState:
    cfg: ScheduleConfig
    next_at: float | None = None
    skip: Skip | None = None
    missed: list[float] = field(default_factory=list)
    done: set[tuple[str, str]] = field(default_factory=set)  # pre-expiry: addressed keys

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def pre_expiry(self) -> bool:
        return self.cfg.before_expiry is not None

    def pending(self, store: Store, venues: Iterable[str]) -> list[tuple[float, Target]]:
        """Pre-expiry: (due time, target) for every expiration not yet addressed, soonest first."""
        lead = (self.cfg.before_expiry or 0.0) * 60.0
        found = []
        for target in select(self.cfg.scope, store, venues):
            expiry = expiry_of(target)
            if expiry is not None and target.key not in self.done:
                found.append((expiry - lead, target))
        return sorted(found, key=lambda pair: pair[0])


class Schedules:
    """Every schedule of a profile and what each has done; driven by :meth:`due`."""

    def __init__(self, configs: Iterable[ScheduleConfig], now: float) -> None:
        self.states = {c.name: ScheduleState(c) for c in configs if c.enabled}
        for state in self.states.values():
            if not state.pre_expiry:
                state.next_at = next_time(state.cfg, now)

    def next_run(self, name: str, store: Store, venues: Iterable[str], now: float) -> float | None:
        state = self.states[name]
        if not state.pre_expiry:
            return state.next_at
        for due_at, target in state.pending(store, venues):
            expiry = expiry_of(target)
            if expiry is not None and expiry > now:
                return max(due_at, now)
        return None

    def skip_next(
        self, name: str, who: str, why: str, store: Store, venues: Iterable[str], now: float
    ) -> Skip | None:
        """Skip ``name``'s next run (None: it has none). A second skip replaces the first."""
        at = self.next_run(name, store, venues, now)
        if at is None:
            return None
        skip = Skip(at, who, why)
        self.states[name].skip = skip
        return skip

    def due(self, now: float, store: Store, venues: list[str]) -> tuple[list[Due], list[Skip]]:
        """Runs due at ``now`` (each once), and the skips this consumed."""
        runs: list[Due] = []
        skipped: list[Skip] = []
        for state in self.states.values():
            if state.pre_expiry:
                self._due_expiries(state, now, store, venues, runs, skipped)
                continue
            at = state.next_at
            if at is None or now < at:
                continue
            state.next_at = next_time(state.cfg, max(at, now))
            if state.skip is not None and state.skip.at == at:
                skipped.append(state.skip)
                state.skip = None
            elif now - at > GRACE_S:
                state.missed.append(at)
            else:
                runs.append(Due(state.cfg, at))
        return runs, skipped

    @staticmethod
    def _due_expiries(
        state: ScheduleState,
        now: float,
        store: Store,
        venues: list[str],
        runs: list[Due],
        skipped: list[Skip],
    ) -> None:
        ready: list[Target] = []
        for due_at, target in state.pending(store, venues):
            expiry = expiry_of(target)
            if due_at > now:
                break
            state.done.add(target.key)
            if expiry is None or expiry <= now:
                continue  # expired already: nothing to pause
            if state.skip is not None and state.skip.at <= max(due_at, now) and not ready:
                skipped.append(state.skip)
                state.skip = None
                continue
            ready.append(target)
        if ready:
            runs.append(Due(state.cfg, now, tuple(ready)))
