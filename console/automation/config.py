"""The automation part of a profile: ``schedules``, ``guards``, ``deadman`` and ``alerts``.

These models are read from ``[[profiles.P.schedules]]``, ``[[profiles.P.guards]]``,
``[profiles.P.deadman]`` and ``[profiles.P.alerts]`` (docs/AUTOMATION.md has examples).
They live here, not in ``console/config.py``, so the automation core can be tested on
its own; the profile model embeds them. Every mistake is refused with a sentence that
says what is valid (``config_errors`` adds the file and the profile in front).
"""

from __future__ import annotations

import re
from datetime import time as dtime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from console.core.model import TargetKind

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECRET_PREFIXES = ("env:", "secret:", "file:")
ALERT_EVENTS = ("kill", "report", "revived", "guard", "schedule", "venue_down", "failed",
                "deadman", "skip", "test")  # fmt: skip
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone (e.g. 'Europe/London', 'America/New_York', 'UTC')"
        ) from None
    return value


def _days(value: list[str]) -> list[str]:
    days = [d.strip().lower()[:3] for d in value]
    wrong = [d for d, raw in zip(days, value, strict=True) if d not in DAYS or not raw.strip()]
    if wrong or not days:
        raise ValueError(f"days must be a list of {', '.join(DAYS)} (got {value!r})")
    return days


Zone = Annotated[str, AfterValidator(_zone)]
"""An IANA time zone name, checked at load."""
Days = Annotated[list[str], AfterValidator(_days)]
"""Weekdays as their three-letter names, checked at load."""


def parse_hhmm(value: str) -> dtime:
    match = _HHMM.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. '16:00')")
    return dtime(int(match.group(1)), int(match.group(2)))


class ScopeConfig(_Model):
    """Which targets a rule addresses; every given field must match (empty: everything)."""

    venue: str | None = None
    kind: TargetKind | None = None
    name: str | None = None  # a shell pattern on the target's name (fnmatch, case-insensitive)
    ids: list[str] | None = None
    attrs: dict[str, str | int | float | bool] = Field(default_factory=dict)


class ScheduleConfig(_Model):
    """When, what and how: ``at`` (+ ``days``) or ``cron``, in ``tz``; or ``before_expiry``."""

    name: str = Field(min_length=1)
    at: str | None = None
    days: Days = Field(default_factory=lambda: list(DAYS))
    cron: str | None = None
    tz: Zone = "UTC"
    before_expiry: float | None = Field(default=None, gt=0)  # minutes
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    action: Literal["stop", "pause"] = "stop"
    options: dict[str, bool | str] = Field(default_factory=dict)
    reason: str | None = None
    enabled: bool = True

    @field_validator("at")
    @classmethod
    def _at(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hhmm(value)
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(
                f"{value!r} is not a cron expression (five fields: minute hour day month "
                "weekday, e.g. '0 16 * * mon-fri')"
            )
        return value

    @model_validator(mode="after")
    def _one_when(self) -> ScheduleConfig:
        given = [w for w in ("at", "cron", "before_expiry") if getattr(self, w) is not None]
        if len(given) != 1:
            raise ValueError(
                f"schedule {self.name!r} needs exactly one of at (HH:MM), cron or "
                f"before_expiry (minutes); it has {', '.join(given) or 'none'}"
            )
        if self.before_expiry is not None and self.scope.kind not in (None, TargetKind.EXPIRATION):
            raise ValueError(
                f"schedule {self.name!r}: before_expiry applies to targets of kind "
                f"'expiration', not {self.scope.kind}"
            )
        return self


GuardRule = Literal["pnl_below", "drawdown_over", "positions_over", "flag_raised", "venue_down"]
DEFAULT_ATTR = {"pnl_below": "pnl", "drawdown_over": "pnl", "positions_over": "open_positions",
                "flag_raised": "emergency"}  # fmt: skip


class GuardConfig(_Model):
    """A rule on a target attribute or a venue's health, with hysteresis."""

    name: str = Field(min_length=1)
    rule: GuardRule
    threshold: float = 0.0  # pnl_below: value; drawdown_over: %; positions_over: count;
    # venue_down: seconds; flag_raised: unused
    attr: str | None = None  # the attribute read (default per rule)
    hysteresis: float = Field(default=0.0, ge=0)  # how far back past the threshold re-arms
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    action: Literal["alert", "pause", "stop"] = "alert"
    options: dict[str, bool | str] = Field(default_factory=dict)

    @property
    def attribute(self) -> str:
        return self.attr or DEFAULT_ATTR.get(self.rule, "")

    @model_validator(mode="after")
    def _sane(self) -> GuardConfig:
        if self.rule == "venue_down" and self.threshold < 0:
            raise ValueError(f"guard {self.name!r}: venue_down needs threshold >= 0 seconds")
        if self.rule == "drawdown_over" and not 0 < self.threshold <= 100:
            raise ValueError(f"guard {self.name!r}: drawdown_over threshold is a % in (0, 100]")
        return self


class DeadmanConfig(_Model):
    """Opt-in: inside ``hours`` on ``days`` (in ``tz``), no check-in for ``alert_after``
    minutes raises an alert; ``kill_after`` minutes later, ``scope`` is halted."""

    enabled: bool = False
    hours: str = "00:00-24:00"
    days: Days = Field(default_factory=lambda: list(DAYS))
    tz: Zone = "UTC"
    alert_after: float = Field(default=30.0, gt=0)
    kill_after: float = Field(default=15.0, gt=0)
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    clear_leaves_behind: bool = False

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"hours {value!r} must be HH:MM-HH:MM (e.g. '08:00-17:30')")
        parse_hhmm(start)
        if end.strip() != "24:00":
            parse_hhmm(end)
        return value

    def window(self) -> tuple[dtime, dtime | None]:
        """(start, end); end None means midnight at the end of the day."""
        start, _, end = self.hours.partition("-")
        return parse_hhmm(start), None if end.strip() == "24:00" else parse_hhmm(end)


class AlertsConfig(_Model):
    """Apprise URLs as secret references, which events to send, and the limits."""

    urls: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=lambda: list(ALERT_EVENTS))
    dedup_seconds: float = Field(default=300.0, ge=0)  # the same message again: dropped
    max_per_minute: int = Field(default=10, ge=1)
    venue_down_after: float = Field(default=60.0, ge=0)  # seconds before "venue down"
    bell: bool = True

    @field_validator("urls")
    @classmethod
    def _references(cls, value: list[str]) -> list[str]:
        for i, ref in enumerate(value):
            if not ref.startswith(SECRET_PREFIXES):
                raise ValueError(
                    f"alert URL #{i + 1} must be a reference (env:VAR, secret:SECTION.KEY or "
                    "file:PATH), never the URL itself: alert URLs carry tokens"
                )
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        wrong = [e for e in value if e not in ALERT_EVENTS]
        if wrong:
            raise ValueError(f"unknown alert event(s) {wrong}; valid: {', '.join(ALERT_EVENTS)}")
        return value


class AutomationConfig(_Model):
    """Everything automation reads from one profile."""

    schedules: list[ScheduleConfig] = Field(default_factory=list)
    guards: list[GuardConfig] = Field(default_factory=list)
    deadman: DeadmanConfig = Field(default_factory=DeadmanConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @model_validator(mode="after")
    def _unique(self) -> AutomationConfig:
        for what, names in (("schedule", [s.name for s in self.schedules]),
                            ("guard", [g.name for g in self.guards])):  # fmt: skip
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{what} name {twice[0]!r} is used twice; names must be unique")
        return self
