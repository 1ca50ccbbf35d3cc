"""Next runs in a time zone across daylight-saving changes, cron, and config in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from console.automation.config import AutomationConfig, DeadmanConfig, ScheduleConfig
from console.automation.deadman import CheckIn, CheckIns, DeadmanTimer, window_start
from console.automation.schedules import next_time

NY = ZoneInfo("America/New_York")


def _ts(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def test_16_00_in_new_york_stays_16_00_across_the_dst_change() -> None:
    cfg = ScheduleConfig(name="close", at="16:00", days=["mon", "tue", "wed", "thu", "fri"],
                         tz="America/New_York")  # fmt: skip
    # Friday 2026-03-06 17:00 NY (EST) -> Monday 2026-03-09 16:00 NY (EDT, after the change)
    nxt = next_time(cfg, _ts(NY, 2026, 3, 6, 17, 0))
    assert nxt == _ts(NY, 2026, 3, 9, 16, 0)
    local = datetime.fromtimestamp(nxt, NY)
    assert (local.hour, local.minute, local.utcoffset().total_seconds()) == (16, 0, -4 * 3600)  # type: ignore[union-attr]
    # and in November, back to EST
    nxt = next_time(cfg, _ts(NY, 2026, 10, 30, 17, 0))
    assert datetime.fromtimestamp(nxt, NY).hour == 16  # type: ignore[arg-type]
    assert datetime.fromtimestamp(nxt, NY).utcoffset().total_seconds() == -5 * 3600  # type: ignore[arg-type, union-attr]


def test_a_time_that_does_not_exist_runs_after_the_gap_and_a_doubled_one_once() -> None:
    gap = ScheduleConfig(name="g", at="02:30", tz="America/New_York")
    nxt = next_time(gap, _ts(NY, 2026, 3, 8, 0, 0))  # 02:30 does not exist on 8 March
    assert datetime.fromtimestamp(nxt, NY).strftime("%H:%M") == "03:30"  # type: ignore[arg-type]
    twice = ScheduleConfig(name="t", at="01:30", tz="America/New_York")
    first = next_time(twice, _ts(NY, 2026, 11, 1, 0, 0))  # 01:30 happens twice on 1 Nov
    assert first is not None
    again = next_time(twice, first)
    assert again is not None and again - first > 23 * 3600  # the next day, not an hour later


def test_cron_in_a_zone() -> None:
    cfg = ScheduleConfig(name="c", cron="0 16 * * mon-fri", tz="America/New_York")
    assert next_time(cfg, _ts(NY, 2026, 3, 6, 17, 0)) == _ts(NY, 2026, 3, 9, 16, 0)


def test_the_dead_man_hours_may_cross_midnight() -> None:
    cfg = DeadmanConfig(enabled=True, hours="22:00-06:00", tz="UTC")
    utc = ZoneInfo("UTC")
    assert window_start(cfg, _ts(utc, 2026, 1, 2, 3, 0)) == _ts(utc, 2026, 1, 1, 22, 0)
    assert window_start(cfg, _ts(utc, 2026, 1, 2, 12, 0)) is None


def test_all_day_hours_run_on_across_midnight() -> None:
    """The default hours (every day, 00:00-24:00) are one stretch: the silence of a
    check-in at 23:55 is not cut at midnight (it was: the alert and the kill came 5
    minutes late, and a test run in the last half hour before midnight UTC failed)."""
    cfg = DeadmanConfig(enabled=True, alert_after=10, kill_after=5)
    utc = ZoneInfo("UTC")
    checked_in = _ts(utc, 2026, 1, 1, 23, 55)
    timer = DeadmanTimer(cfg, _Held(CheckIn(checked_in, "bob")), started=checked_in - 3600)
    assert timer.deadlines(_ts(utc, 2026, 1, 2, 0, 1)) == (checked_in + 600, checked_in + 900)
    assert timer.check(_ts(utc, 2026, 1, 2, 0, 5)) == "alert"
    assert timer.check(_ts(utc, 2026, 1, 2, 0, 10)) == "kill"
    assert timer.check(_ts(utc, 2026, 1, 2, 0, 11)) is None  # once per silence


def test_back_to_back_hours_run_on_across_a_dst_change_and_a_gap_still_cuts() -> None:
    every_day = DeadmanConfig(enabled=True, hours="08:00-08:00", tz="America/New_York")
    # 24-hour windows from 08:00, back to back through 8 March (23 hours long in New York)
    assert window_start(every_day, _ts(NY, 2026, 3, 9, 7, 0)) <= _ts(NY, 2026, 3, 3, 8, 0)  # type: ignore[operator]
    weekdays = DeadmanConfig(enabled=True, days=["mon", "tue", "wed", "thu", "fri"])
    utc = ZoneInfo("UTC")
    # Monday 2026-01-05 01:00: the stretch began Monday 00:00 (no Sunday hours before it)
    assert window_start(weekdays, _ts(utc, 2026, 1, 5, 1, 0)) == _ts(utc, 2026, 1, 5, 0, 0)
    # Wednesday 01:00: Monday and Tuesday ran on into it
    assert window_start(weekdays, _ts(utc, 2026, 1, 7, 1, 0)) == _ts(utc, 2026, 1, 5, 0, 0)
    office = DeadmanConfig(enabled=True, hours="09:00-17:00")
    assert window_start(office, _ts(utc, 2026, 1, 7, 10, 0)) == _ts(utc, 2026, 1, 7, 9, 0)


class _Held(CheckIns):
    """Check-ins held in memory, with one already made."""

    def __init__(self, last: CheckIn) -> None:
        super().__init__(None)
        self._memory = last


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"schedules": [{"name": "a"}]}, "needs exactly one of at (HH:MM), cron or before_expiry"),
        ({"schedules": [{"name": "a", "at": "4pm"}]}, "is not a time of day as HH:MM"),
        ({"schedules": [{"name": "a", "at": "16:00", "tz": "EST5"}]}, "is not an IANA time zone"),
        ({"schedules": [{"name": "a", "cron": "every day"}]}, "is not a cron expression"),
        ({"schedules": [{"name": "a", "at": "16:00", "days": ["funday"]}]}, "days must be a list"),
        (
            {"schedules": [{"name": "a", "at": "16:00"}, {"name": "a", "at": "17:00"}]},
            "schedule name 'a' is used twice",
        ),
        (
            {"schedules": [{"name": "a", "before_expiry": 5, "scope": {"kind": "engine"}}]},
            "before_expiry applies to targets of kind 'expiration'",
        ),
        (
            {"guards": [{"name": "g", "rule": "drawdown_over", "threshold": 150}]},
            "drawdown_over threshold is a % in (0, 100]",
        ),
        ({"guards": [{"name": "g", "rule": "pnl_under"}]}, "pnl_below"),
        ({"deadman": {"hours": "8-17"}}, "is not a time of day as HH:MM"),
        ({"alerts": {"urls": ["slack://x/y/z"]}}, "never the URL itself"),
        ({"alerts": {"events": ["kil"]}}, "unknown alert event(s) ['kil']"),
    ],
)
def test_config_mistakes_are_refused_in_words(raw: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as err:
        AutomationConfig.model_validate(raw)
    assert words in str(err.value)
