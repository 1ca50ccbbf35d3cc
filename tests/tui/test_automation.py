"""Automation in the console (issue 14): the same runner as ``automate``, on screen.

The header's countdown and standby, the skip key (who and why, armed only), the
automation screen from ``runner.status()``, a key checking the operator in, and the
console kill's alerts reaching a loopback webhook. The runner runs on the app's frozen
clock; nothing waits on time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from console.automation.alerts import Alert, Alerter
from console.automation.config import AlertsConfig, AutomationConfig
from console.automation.runner import AutomationRunner
from console.automation.runner_lock import runner_lock_path
from console.core.kill_lock import KillLock
from console.core.operator import Operator
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.controllers.automation import countdown
from console.tui.screens.automation import AutomationScreen, SkipScreen
from console.tui.textual_compat import notifications
from console.tui.widgets.live_static import LiveStatic
from tests.automation.support import alerter_for, webhook
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    kill_done,
    open_kill,
    shown,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook is on loopback: no proxy may stand between."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def minutes_ahead(now: float, minutes: int) -> tuple[str, float]:
    """``HH:MM`` (UTC) a whole number of minutes after ``now``'s minute, and its time."""
    at = (int(now // 60) + minutes) * 60
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M"), float(at)


def runner_for(
    session: Session, clock: FakeClock, raw: dict[str, Any], alerter: Alerter | None = None
) -> AutomationRunner:
    cfg = AutomationConfig.model_validate(raw)
    return AutomationRunner(session, cfg, clock=clock, alerter=alerter)


def close_at(clock: FakeClock, minutes: int = 3) -> tuple[dict[str, Any], float]:
    hhmm, at = minutes_ahead(clock(), minutes)
    schedule = {"name": "close", "at": hhmm, "tz": "UTC", "scope": {"venue": "finradar"},
                "reason": "market close"}  # fmt: skip
    return {"schedules": [schedule]}, at


def plan_state(app: ConsoleApp) -> str:
    return str(app.header.query_one("#plan-state", LiveStatic).render())


def operator(session: Session) -> str:
    return str(session.journal.operator)


def test_countdown_words() -> None:
    assert countdown(0) == "0:00"
    assert countdown(179.2) == "3:00"
    assert countdown(3 * 3600 + 5 * 60 + 9) == "3:05:09"
    assert countdown(2 * 86400 + 3 * 3600 + 5 * 60) == "2d 03:05"


async def test_the_header_counts_down_to_the_next_run(session: Session, clock: FakeClock) -> None:
    raw, at = close_at(clock)
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner)
    async with app.run_test(size=SIZE) as pilot:
        left = countdown(at - clock())
        await wait_for(pilot, lambda: f"next: close in {left}" in plan_state(app), "countdown")
        assert runner.active  # this console acts: it holds the runner lock
        clock.now += 60
        left = countdown(at - clock())
        await wait_for(pilot, lambda: f"next: close in {left}" in plan_state(app), "a minute on")
    assert not runner.active  # quitting released the lock: a headless runner may take over


async def test_nothing_in_the_header_without_automation(session: Session) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.header.is_mounted and app.tick_s > 0)
        await pilot.pause()
        assert "next:" not in plan_state(app) and "automation" not in plan_state(app)
        assert not app.automation.configured


async def test_the_console_stands_by_while_another_runner_holds_the_profile(
    session: Session, clock: FakeClock, tmp_path: Path
) -> None:
    raw, at = close_at(clock, minutes=1)
    runner = runner_for(session, clock, raw)
    path = runner_lock_path(runner.journal_path, runner.profile)
    assert path is not None
    other = KillLock(path, profile=runner.profile, operator=Operator("ops", "server-1"))
    other.acquire()  # `trading-console automate` on this profile
    try:
        app = ConsoleApp(session, session.control, clock=clock, automation=runner)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "automation: standby (" in plan_state(app), "standby")
            assert "ops" in plan_state(app) and "next:" not in plan_state(app)
            clock.now = at + 1  # the schedule is due: the other runner runs it, not this one
            assert await runner.tick() == []
            assert not runner.active and runner.records == []
    finally:
        other.release()


async def test_the_skip_key_asks_why_and_records_who_and_why(
    session: Session, clock: FakeClock
) -> None:
    raw, at = close_at(clock)
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "next: close" in plan_state(app))
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, SkipScreen), "the skip question")
        await pilot.press("enter")  # no reason: refused, nothing skipped
        refused = shown(app.screen.query_one("#skip-refused", Static))
        assert "NOT SKIPPED" in refused and "reason is required" in refused
        assert runner.schedules.states["close"].skip is None
        await pilot.press(*"holiday", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SkipScreen), "it closes")
        skip = runner.schedules.states["close"].skip
        assert skip is not None and (skip.at, skip.who, skip.why) == (
            at,
            operator(session),
            "holiday",
        )
        events = [e for e in runner.events.read() if e.get("event") == "skip"]
        assert len(events) == 1
        assert events[0]["who"] == operator(session) and events[0]["why"] == "holiday"
        await wait_for(pilot, lambda: "(skipped)" in plan_state(app), "the header says so")


async def test_the_skip_key_is_not_bound_while_read_only(
    session: Session, clock: FakeClock
) -> None:
    raw, _ = close_at(clock)
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "next: close" in plan_state(app))
        assert app.check_action("automation_skip", ()) is False
        await pilot.press("N")
        await pilot.pause()
        assert not isinstance(app.screen, SkipScreen)
        assert runner.schedules.states["close"].skip is None


async def test_the_automation_screen_shows_what_status_has(
    session: Session, clock: FakeClock
) -> None:
    raw, _ = close_at(clock)
    raw["guards"] = [{"name": "too-many", "rule": "positions_over", "threshold": 1,
                      "scope": {"venue": "pipai"}}]  # fmt: skip
    raw["deadman"] = {"enabled": True, "hours": "00:00-23:59", "alert_after": 30,
                      "kill_after": 15}  # fmt: skip
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(runner.guards.states["too-many"].fired), "the guard")
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, AutomationScreen), "the screen")
        status = runner.status()
        text = " ".join(shown(app.screen.query_one("#automation-body", Static)).split())
        assert "this console acts" in text
        (schedule,) = status["schedules"]
        assert "close" in text and f"next {schedule['next_run']}" in text
        assert "last run: none this session" in text
        (guard,) = status["guards"]
        assert "too-many" in text and "FIRED" in text
        assert " ".join(guard["last_fired"].split()) in text  # the values that fired it
        assert "Dead-man timer" in text and f"kill at {status['deadman']['kill_at']}" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AutomationScreen), "closed")


async def test_a_key_checks_the_operator_in(session: Session, clock: FakeClock) -> None:
    raw = {"deadman": {"enabled": True, "hours": "00:00-23:59"}}
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner)
    async with app.run_test(size=SIZE) as pilot:
        assert runner.checkins.last() is None
        await pilot.press("l")
        last = runner.checkins.last()
        assert last is not None and (last.who, last.via, last.at) == (
            operator(session),
            "key",
            clock(),
        )


async def test_a_click_checks_the_operator_in(session: Session, clock: FakeClock) -> None:
    raw = {"deadman": {"enabled": True, "hours": "00:00-23:59"}}
    runner = runner_for(session, clock, raw)
    app = ConsoleApp(session, session.control, clock=clock, automation=runner)
    async with app.run_test(size=SIZE) as pilot:
        assert runner.checkins.last() is None
        await pilot.click(offset=(10, 10))
        last = runner.checkins.last()
        assert last is not None and (last.who, last.via) == (operator(session), "mouse")


async def test_the_console_kill_alerts_reach_a_loopback_webhook(
    session: Session, clock: FakeClock
) -> None:
    async with webhook() as hook:
        alerter = alerter_for(hook.url("t0ken-s3cret"), clock)
        app = ConsoleApp(session, session.control, clock=clock, alerter=alerter)
        async with app.run_test(size=SIZE) as pilot:
            assert app.automation.alerter is alerter and not app.automation.configured
            await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
            await open_kill(pilot, app)
            await confirm_kill(pilot, app, "DEMO")
            await kill_done(pilot, app)
            await hook.wait_for(2)
    titles = [b["title"] for b in hook.bodies]
    assert any(f"{operator(session)}: emergency stop started" in t for t in titles), titles
    # Joyride's rounds are halted by its answer only (it cannot be re-read)
    assert any(f"{operator(session)}: HALTED — " in t for t in titles), titles
    for body in hook.bodies:
        assert "t0ken-s3cret" not in str(body)


async def test_a_revival_during_the_watch_is_alerted(
    session: Session, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    from tests.tui.test_kill_watch_report import revive

    sent: list[Alert] = []
    alerter = Alerter(AlertsConfig(), [], clock=clock, profile="test")

    async def keep(alert: Alert, *, force: bool = False) -> Any:
        sent.append(alert)

    alerter.send = keep  # type: ignore[method-assign]
    app = ConsoleApp(session, session.control, clock=clock, alerter=alerter)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        revive(venues["finradar"], "n1")
        await wait_for(pilot, lambda: any(a.event == "revived" for a in sent), "the alert")
    events = [a.event for a in sent]
    assert events.index("kill") < events.index("report") < events.index("revived")
    (revived,) = [a for a in sent if a.event == "revived"]
    assert "finradar" in revived.title and revived.severity == "failure"


async def test_an_alert_rings_and_shows_on_screen(session: Session, clock: FakeClock) -> None:
    alerter = Alerter(AlertsConfig(), [], clock=clock, profile="test")
    app = ConsoleApp(session, session.control, clock=clock, alerter=alerter)
    async with app.run_test(size=SIZE) as pilot:
        result = await alerter.send(Alert("guard", "guard:x fired", "pnl=-5 below -1", "warning"))
        assert result.status == "no-urls"
        await pilot.pause()
        shown_now = [(n.title, n.message) for n in notifications.shown(app)]
        assert ("guard:x fired", "pnl=-5 below -1") in shown_now


def test_the_console_builds_the_runner_only_when_the_profile_has_automation(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.cli.main import console_automation
    from console.config import load_profile

    path = tmp_path / "config.toml"
    path.write_text('default_profile = "prod"\n[profiles.prod]\n')
    assert console_automation(load_profile(path, None), session) == (None, None, [])

    monkeypatch.delenv("TC_TEST_ALERT_URL", raising=False)
    path.write_text(
        'default_profile = "prod"\n[profiles.prod]\n'
        '[[profiles.prod.schedules]]\nname = "close"\nat = "16:00"\n'
        '[profiles.prod.alerts]\nurls = ["env:TC_TEST_ALERT_URL"]\n'
    )
    runner, alerter, problems = console_automation(load_profile(path, None), session)
    assert runner is not None and list(runner.schedules.states) == ["close"]
    assert alerter is None and runner.alerter is None  # the console starts without alerts
    (problem,) = problems
    assert problem.startswith("no alerts will be sent: ") and "TC_TEST_ALERT_URL" in problem
    assert "not set" in problem


async def test_an_alert_problem_is_said_at_start(session: Session, clock: FakeClock) -> None:
    words = "no alerts will be sent: alert URL reads environment variable X, which is not set"
    app = ConsoleApp(session, session.control, clock=clock, automation_problems=[words])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(n.message == words for n in notifications.shown(app)))
        (note,) = [n for n in notifications.shown(app) if n.message == words]
        assert note.title == "Alerts" and note.severity == "error"
