"""Alerts reach a loopback webhook through Apprise's json://, with the expected bodies,
de-duplicated, rate-limited, and with no secret in them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.automation.alerts import Alert, AlertConfigError, Alerter, resolve_ref
from console.automation.config import AlertsConfig
from console.core.ports import FeedStatus
from console.sim.server import SimServer
from tests.automation.support import ManualClock, alerter_for, make_runner, make_session, webhook

TOKEN = "hooktoken-5f3a9c1e7d"


async def test_a_schedule_run_reaches_the_webhook_with_its_report_and_no_secret(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    async with webhook() as hook:
        try:
            await session.refresh()
            clock = ManualClock(time.time())
            at = (int(clock() // 60) + 2) * 60
            hhmm = datetime.fromtimestamp(at, UTC).strftime("%H:%M")
            alerter = alerter_for(hook.url(TOKEN), clock)
            runner = make_runner(session, {"schedules": [{
                "name": "close", "at": hhmm, "scope": {"venue": "finradar"},
                "reason": f"close; token={TOKEN}",
            }]}, clock, alerter)  # fmt: skip
            clock.now = at
            [record] = await runner.tick()
            assert record.all_verified
            await hook.wait_for(1)
            [body] = hook.bodies
            assert body["title"] == "[sim] schedule:close: ALL HALTED"
            assert "halted" in body["message"] and "verified" in body["message"]
            assert f"journal batch {record.batch_id[:8]}" in body["message"]  # type: ignore[index]
            assert body["type"] == "info"
            assert TOKEN not in json.dumps(hook.bodies)
            assert hook.paths == [f"/hook/{TOKEN}"]  # it did go to the secret URL
        finally:
            await session.aclose()


async def test_the_same_alert_is_sent_once_and_the_rate_is_limited() -> None:
    async with webhook() as hook:
        clock = ManualClock(1_000_000.0)
        alerter = alerter_for(hook.url(TOKEN), clock, dedup_seconds=300, max_per_minute=2)
        alert = Alert("guard", "guard pnl fired", "pnl=-1200 < -1000")
        assert (await alerter.send(alert)).status == "sent"
        assert (await alerter.send(alert)).status == "duplicate"
        assert (await alerter.send(Alert("guard", "g2", "b2"))).status == "sent"
        assert (await alerter.send(Alert("guard", "g3", "b3"))).status == "rate-limited"
        clock.advance(61)
        assert (await alerter.send(Alert("guard", "g4", "b4"))).status == "sent"
        clock.advance(300)
        assert (await alerter.send(alert)).status == "sent"
        await hook.wait_for(4)
        assert [b["title"] for b in hook.bodies] == [
            "[sim] guard pnl fired", "[sim] g2", "[sim] g4", "[sim] guard pnl fired",
        ]  # fmt: skip
        assert "1 earlier alert(s) dropped by the rate limit" in hook.bodies[2]["message"]


async def test_a_secret_in_the_body_is_masked_and_events_are_filtered() -> None:
    async with webhook() as hook:
        clock = ManualClock(1_000_000.0)
        alerter = alerter_for(hook.url(TOKEN), clock, events=["failed"])
        assert (await alerter.send(Alert("guard", "x", "y"))).status == "filtered"
        leak = f"venue said: Authorization: Bearer abcdef123456 and {TOKEN}"
        assert (await alerter.send(Alert("failed", "action failed", leak))).status == "sent"
        await hook.wait_for(1)
        text = json.dumps(hook.bodies)
        assert TOKEN not in text and "abcdef123456" not in text and "***" in text


async def test_alert_test_sends_past_the_filters() -> None:
    async with webhook() as hook:
        alerter = alerter_for(hook.url(TOKEN), ManualClock(0.0), events=[])
        assert (await alerter.test()).status == "sent"
        await hook.wait_for(1)
        assert hook.bodies[0]["title"] == "[sim] alert test"


async def test_an_alert_endpoint_that_is_down_fails_without_raising() -> None:
    async with webhook() as hook:
        url = hook.url(TOKEN) + "?cto=1&rto=1"
    alerter = alerter_for(url, ManualClock(0.0))  # the server is gone: connection refused
    result = await alerter.send(Alert("failed", "x", "y"))
    assert result.status == "failed"
    assert TOKEN not in result.detail


def test_alert_urls_are_references_resolved_from_env_secrets_or_a_private_file(
    tmp_path: Path,
) -> None:
    assert resolve_ref("env:HOOK", {"HOOK": "json://127.0.0.1/x"}, {}) == "json://127.0.0.1/x"
    assert resolve_ref("secret:alerts.slack", {}, {"alerts": {"slack": "slack://a/b/c"}}) == (
        "slack://a/b/c"
    )
    path = tmp_path / "url"
    path.write_text("ntfy://topic\n")
    path.chmod(0o644)
    with pytest.raises(AlertConfigError, match="chmod 600"):
        resolve_ref(f"file:{path}", {}, {})
    path.chmod(0o600)
    assert resolve_ref(f"file:{path}", {}, {}) == "ntfy://topic"
    with pytest.raises(AlertConfigError, match="not set"):
        resolve_ref("env:MISSING", {}, {})
    with pytest.raises(ValueError, match="never the URL itself"):
        AlertsConfig(urls=["slack://token/a/b"])


def test_an_alerter_from_config_resolves_its_references() -> None:
    cfg = AlertsConfig(urls=["env:HOOK"])
    alerter = Alerter.from_config(cfg, clock=time.time, env={"HOOK": f"json://127.0.0.1/{TOKEN}"})
    assert alerter.clean(f"x {TOKEN} y") == "x *** y"


async def test_the_dead_man_and_a_venue_down_raise_their_alerts(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    async with webhook() as hook:
        try:
            await session.refresh()
            clock = ManualClock(time.time())
            start = clock()
            alerter = alerter_for(hook.url(TOKEN), clock)
            runner = make_runner(session, {"alerts": {"venue_down_after": 30}, "deadman": {
                "enabled": True, "alert_after": 10, "kill_after": 5,
                "scope": {"venue": "finradar"},
            }}, clock, alerter)  # fmt: skip
            clock.now = start + 600
            await runner.tick()
            await hook.wait_for(1)
            assert hook.bodies[0]["title"] == "[sim] dead-man timer: check in"
            assert "every target on finradar will be halted at" in hook.bodies[0]["message"]
            clock.now = start + 900
            [record] = await runner.tick()
            await hook.wait_for(3)
            titles = [b["title"] for b in hook.bodies]
            assert titles[1:] == [
                "[sim] deadman: emergency stop started",
                "[sim] deadman: ALL HALTED",
            ]
            assert record.all_verified
            session.store.health("finradar", FeedStatus.DOWN, "connection refused")
            await runner.tick()
            clock.now += 31
            await runner.tick()
            await runner.tick()  # once per outage
            await hook.wait_for(4)
            assert hook.bodies[3]["title"] == "[sim] finradar down for 31 s"
            assert "connection refused" in hook.bodies[3]["message"]
            assert len(hook.bodies) == 4
            assert TOKEN not in json.dumps(hook.bodies)
        finally:
            await session.aclose()


async def test_a_silent_alert_endpoint_never_holds_the_dead_man_kill(
    sim: SimServer, tmp_path: Path
) -> None:
    """The "emergency stop started" alert goes out before the first stop; an endpoint that
    never answers must not hold the stops behind it (alerts go from a task of their own)."""
    session = make_session(sim, tmp_path, ("finradar",))
    async with webhook() as hook:
        hook.release.clear()  # the endpoint takes every alert and answers none
        try:
            await session.refresh()
            clock = ManualClock(time.time())
            start = clock()
            alerter = alerter_for(hook.url(TOKEN), clock)
            runner = make_runner(session, {"deadman": {
                "enabled": True, "alert_after": 10, "kill_after": 5,
                "scope": {"venue": "finradar"},
            }}, clock, alerter)  # fmt: skip
            clock.now = start + 900
            [record] = await runner.tick()  # returns while the endpoint still holds an alert
            assert record.all_verified and record.who == "deadman"
            assert not alerter.history  # no alert has ended (sent, failed or timed out) yet
            await hook.wait_for(1)
            assert hook.bodies[0]["title"] == "[sim] deadman: emergency stop started"
            assert not hook.release.is_set()  # …sent before the stops, still unanswered
            dropped = await runner.drain_alerts(0.5)  # shutting down: bounded, then dropped
            assert dropped == 2  # held: kill started; queued behind it: ALL HALTED
        finally:
            hook.release.set()
            await session.aclose()


async def test_queued_alerts_go_out_in_order_and_a_drain_waits_for_them(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    async with webhook() as hook:
        hook.release.clear()
        try:
            await session.refresh()
            clock = ManualClock(time.time())
            start = clock()
            runner = make_runner(session, {"deadman": {
                "enabled": True, "alert_after": 10, "kill_after": 5,
                "scope": {"venue": "finradar"},
            }}, clock, alerter_for(hook.url(TOKEN), clock))  # fmt: skip
            clock.now = start + 900
            await runner.tick()
            hook.release.set()
            assert await runner.drain_alerts() == 0
            assert [b["title"] for b in hook.bodies] == [
                "[sim] deadman: emergency stop started",
                "[sim] deadman: ALL HALTED",
            ]
        finally:
            await session.aclose()
