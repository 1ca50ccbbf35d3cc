"""The dead-man timer and the check-ins that hold it off.

Opt-in (``[profiles.P.deadman] enabled = true``). Inside its hours, when no operator has
checked in for ``alert_after`` minutes the runner raises an alert; ``kill_after`` minutes
after that it halts the configured scope (the kill's own plan, journaled as
``deadman``). Time outside the hours does not count: the quiet time starts at the later
of the last check-in, the runner's start and the start of the hours now running — hours
that follow each other without a gap run on (the default, every day all day, never
restarts the silence at midnight).

A check-in is one small file per profile beside the kill lock
(``<journal>.<profile>.checkin``, JSON ``{"at", "who", "via"}``, 0600, replaced
atomically), so the console (any key) and ``trading-console heartbeat`` from a shell or
a cron job both reach a headless runner, and the runner reads it on every tick. An
in-memory journal keeps check-ins in memory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from console.automation.config import DAYS, DeadmanConfig


@dataclass(frozen=True)
class CheckIn:
    at: float
    who: str
    via: str = "key"


def checkin_path(journal_path: Path | str, profile: str) -> Path | None:
    """Where ``profile``'s check-ins live: beside its kill lock (none for ``:memory:``)."""
    if str(journal_path) == ":memory:":
        return None
    path = Path(journal_path)
    return path.parent / f"{path.name}.{profile}.checkin"


class CheckIns:
    """Reads and writes the last check-in of one profile."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: CheckIn | None = None

    def record(self, at: float, who: str, via: str = "key") -> CheckIn:
        checkin = CheckIn(at, who, via)
        self._memory = checkin
        if self.path is None:
            return checkin
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"at": at, "who": who, "via": via}, f)
        os.replace(tmp, self.path)
        return checkin

    def last(self) -> CheckIn | None:
        if self.path is None:
            return self._memory
        try:
            data = json.loads(self.path.read_text())
            return CheckIn(float(data["at"]), str(data["who"]), str(data.get("via", "key")))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def window_start(cfg: DeadmanConfig, now: float) -> float | None:
    """When the hours that contain ``now`` began, or None outside the hours. Hours that
    follow each other without a gap are one stretch (``00:00-24:00`` on every day, the
    default): a silence is never cut at midnight, nor at any other seam of the hours."""
    zone = ZoneInfo(cfg.tz)
    today = datetime.fromtimestamp(now, UTC).astimezone(zone).date()
    for back in (0, 1):
        day = today - timedelta(days=back)
        hours = _hours_of(cfg, zone, day)
        if hours is not None and hours[0] <= now < hours[1]:
            return _stretch_start(cfg, zone, day, hours[0])
    return None


def _hours_of(cfg: DeadmanConfig, zone: ZoneInfo, day: date) -> tuple[float, float] | None:
    """The hours that begin on ``day`` (local), as (begin, end) timestamps; None when
    ``day`` is not one of the timer's days."""
    if DAYS[day.weekday()] not in cfg.days:
        return None
    start, end = cfg.window()
    begin = datetime.combine(day, start, tzinfo=zone)
    end_day = day if end is not None and end > start else day + timedelta(days=1)
    finish = datetime.combine(end_day, end or dtime(0), tzinfo=zone)
    return begin.timestamp(), finish.timestamp()


def _stretch_start(cfg: DeadmanConfig, zone: ZoneInfo, day: date, begin: float) -> float:
    """Where the hours of ``day`` (beginning at ``begin``) and those ending right where
    they begin began: at most a week back (a silence starts no earlier than the runner
    anyway)."""
    for _ in range(len(DAYS)):
        day -= timedelta(days=1)
        before = _hours_of(cfg, zone, day)
        if before is None or before[1] != begin:
            break
        begin = before[0]
    return begin


Phase = Literal["alert", "kill"]


class DeadmanTimer:
    """Says, on each tick, whether the alert or the kill is due (each once per silence)."""

    def __init__(self, cfg: DeadmanConfig, checkins: CheckIns, started: float) -> None:
        self.cfg = cfg
        self.checkins = checkins
        self.started = started
        self._alerted: float | None = None  # the quiet-start the alert was raised for
        self._killed: float | None = None

    def quiet_since(self, now: float) -> float | None:
        """When the current silence began (None: not enabled, or outside the hours)."""
        if not self.cfg.enabled:
            return None
        begin = window_start(self.cfg, now)
        if begin is None:
            return None
        last = self.checkins.last()
        return max(begin, self.started, last.at if last else 0.0)

    def deadlines(self, now: float) -> tuple[float, float] | None:
        """(alert at, kill at) for the current silence."""
        since = self.quiet_since(now)
        if since is None:
            return None
        alert = since + self.cfg.alert_after * 60.0
        return alert, alert + self.cfg.kill_after * 60.0

    def check(self, now: float) -> Phase | None:
        since = self.quiet_since(now)
        times = self.deadlines(now)
        if since is None or times is None:
            return None
        alert_at, kill_at = times
        if now >= kill_at and self._killed != since:
            self._killed = self._alerted = since
            return "kill"
        if now >= alert_at and self._alerted != since:
            self._alerted = since
            return "alert"
        return None

    def status(self, now: float) -> dict[str, object]:
        last = self.checkins.last()
        times = self.deadlines(now)
        return {
            "enabled": self.cfg.enabled,
            "in_hours": times is not None,
            "last_checkin": None
            if last is None
            else {"at": last.at, "who": last.who, "via": last.via},
            "alert_at": times[0] if times else None,
            "kill_at": times[1] if times else None,
        }
