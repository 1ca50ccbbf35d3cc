"""Guards: rules on target attributes and venue health, each firing once per crossing.

A guard watches one value per subject (a target for attribute rules, a venue for
``venue_down``) and fires when the value crosses its threshold. It then stays quiet
until the value has come back past the threshold by ``hysteresis`` (re-armed): a P&L
hovering around the limit fires once, not on every tick. What fired carries the values
that fired it, for the screen, the alert and the reason journaled with any action.

Rules: ``pnl_below`` (value < threshold), ``drawdown_over`` (% below the highest
value this session has seen, measured once that high is positive), ``positions_over``
(value > threshold), ``flag_raised`` (a true attribute, e.g. ``emergency``),
``venue_down`` (the venue's feed DOWN for more than threshold seconds, timed on the
runner's clock).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from console.automation.config import GuardConfig
from console.automation.scope import matches
from console.core.model import AttrValue, Target
from console.core.ports import FeedStatus
from console.core.store import Store


@dataclass
class Hysteresis:
    """Fires when ``value`` goes past ``threshold`` (above when ``above``, else below) while
    armed; re-arms only once it is back by ``band``. One object per subject."""

    threshold: float
    band: float = 0.0
    above: bool = True
    armed: bool = True

    def update(self, value: float) -> bool:
        beyond = value > self.threshold if self.above else value < self.threshold
        back = (
            value <= self.threshold - self.band
            if self.above
            else value >= self.threshold + self.band
        )
        if self.armed and beyond:
            self.armed = False
            return True
        if not self.armed and back:
            self.armed = True
        return False


@dataclass(frozen=True)
class Fired:
    """A guard that fired: on what, and the values that made it fire."""

    guard: GuardConfig
    venue: str
    target: Target | None
    values: dict[str, float | str]

    def words(self) -> str:
        what = f"{self.target.name} on {self.venue}" if self.target else self.venue
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in self.values.items())
        return f"guard {self.guard.name} ({self.guard.rule}) fired on {what}: {shown}"


def _fmt(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else value


def number(value: AttrValue) -> float | None:
    """An attribute as a number ("+1,234.5 USD" too), or None — for NaN and the
    infinities too: compared with a threshold NaN is never below nor above it, so a
    venue's ``NaN`` P&L silently held a guard's gate shut and poisoned its high."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        try:
            found = float(value)
        except OverflowError:  # an integer of hundreds of digits: no number to compare
            return None
    elif isinstance(value, str):
        text = value.replace(",", "").replace("%", "").split()
        try:
            found = float(text[0]) if text else math.nan
        except ValueError:
            return None
    else:
        return None
    return found if math.isfinite(found) else None


@dataclass
class GuardState:
    cfg: GuardConfig
    subjects: dict[str, Hysteresis] = field(default_factory=dict)
    highs: dict[str, float] = field(default_factory=dict)
    down_since: dict[str, float] = field(default_factory=dict)
    fired: list[Fired] = field(default_factory=list)

    def _gate(self, key: str) -> Hysteresis:
        gate = self.subjects.get(key)
        if gate is None:
            above = self.cfg.rule != "pnl_below"
            threshold = 0.5 if self.cfg.rule == "flag_raised" else self.cfg.threshold
            band = 0.0 if self.cfg.rule == "flag_raised" else self.cfg.hysteresis
            gate = self.subjects[key] = Hysteresis(threshold, band, above)
        return gate

    def check_target(self, target: Target) -> Fired | None:
        raw = number(target.attrs.get(self.cfg.attribute))
        if raw is None:
            return None
        key = f"{target.venue}\x00{target.id}"
        values: dict[str, float | str] = {self.cfg.attribute: raw}
        value = raw
        if self.cfg.rule == "drawdown_over":
            high = max(self.highs.get(key, raw), raw)
            self.highs[key] = high
            if high <= 0:
                return None
            value = (high - raw) / high * 100.0
            values = {self.cfg.attribute: raw, "session_high": high, "drawdown_pct": value}
        if self.cfg.rule != "flag_raised":
            values["threshold"] = self.cfg.threshold
        if self._gate(key).update(value):
            return Fired(self.cfg, target.venue, target, values)
        return None

    def check_venue(self, venue: str, status: FeedStatus, detail: str, now: float) -> Fired | None:
        if status is FeedStatus.DOWN:
            since = self.down_since.setdefault(venue, now)
        else:
            self.down_since.pop(venue, None)
            since = now
        down_for = now - since
        if self._gate(venue).update(down_for):
            values: dict[str, float | str] = {"down_s": down_for, "threshold": self.cfg.threshold}
            if detail:
                values["feed"] = detail
            return Fired(self.cfg, venue, None, values)
        return None


class Guards:
    """Every guard of a profile, evaluated against the store on each tick."""

    def __init__(self, configs: Iterable[GuardConfig]) -> None:
        self.states = {c.name: GuardState(c) for c in configs}

    def check(self, store: Store, venues: Iterable[str], now: float) -> list[Fired]:
        fired: list[Fired] = []
        venues = list(venues)
        for state in self.states.values():
            scope = state.cfg.scope
            chosen = [scope.venue] if scope.venue else venues
            for venue in chosen:
                if state.cfg.rule == "venue_down":
                    health = store.venue_health(venue)
                    hit = state.check_venue(venue, health.status, health.detail, now)
                    fired += [hit] if hit else []
                    continue
                for target in store.targets(venue):
                    if matches(scope, target) and (hit := state.check_target(target)):
                        fired.append(hit)
        for hit in fired:
            self.states[hit.guard.name].fired.append(hit)
            del self.states[hit.guard.name].fired[:-20]
        return fired
