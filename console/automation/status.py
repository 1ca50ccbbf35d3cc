"""What the automation screen, the header and ``trading-console automation --json`` show:
one JSON-ready picture of a runner (schedules with next runs, guards, the timer, recent
runs and events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.automation import scope as scopes
from console.core.journal_rows import iso_ms

if TYPE_CHECKING:
    from console.automation.runner import AutomationRunner


def _iso(at: float | None) -> str | None:
    return None if at is None else iso_ms(int(at * 1000))


def runner_status(runner: AutomationRunner) -> dict[str, Any]:
    now = runner.clock()
    store, venues = runner.session.store, runner.session.venues
    schedules = []
    for name, state in runner.schedules.states.items():
        cfg = state.cfg
        at = runner.schedules.next_run(name, store, venues, now)
        if cfg.before_expiry is not None:
            when = f"{cfg.before_expiry:g} min before each expiration"
        elif cfg.cron is not None:
            when = f"cron {cfg.cron} ({cfg.tz})"
        else:
            when = f"{cfg.at} {','.join(cfg.days)} ({cfg.tz})"
        last = next(
            (r.as_json() for r in reversed(runner.records) if r.who == f"schedule:{name}"), None
        )
        skip = state.skip
        schedules.append({
            "name": name, "when": when, "scope": scopes.describe(cfg.scope),
            "action": cfg.action, "next_run": _iso(at),
            "next_run_in_s": None if at is None else max(0.0, at - now),
            "skip": None if skip is None else {"run_at": _iso(skip.at), "who": skip.who,
                                                "why": skip.why},
            "last_run": last,
        })  # fmt: skip
    guards = []
    for name, gstate in runner.guards.states.items():
        g = gstate.cfg
        last_fired = gstate.fired[-1] if gstate.fired else None
        guards.append({
            "name": name, "rule": g.rule, "threshold": g.threshold, "attr": g.attribute,
            "hysteresis": g.hysteresis, "action": g.action, "scope": scopes.describe(g.scope),
            "waiting_to_rearm": sorted(k.replace("\x00", "/") for k, h in gstate.subjects.items()
                                       if not h.armed),
            "last_fired": None if last_fired is None else last_fired.words(),
        })  # fmt: skip
    events = runner.events.read()  # the file: also what a headless runner did
    deadman = runner.deadman.status(now)
    for key in ("alert_at", "kill_at"):
        value = deadman[key]
        deadman[key] = _iso(value) if isinstance(value, float) else None
    return {
        "profile": runner.profile,
        "now": _iso(now),
        "active": runner.active,
        "standby_because": runner.holder,  # who holds the runner lock while this one waits
        "schedules": schedules,
        "guards": guards,
        "deadman": deadman,
        "runs": [e for e in events if e.get("event") == "run"][-20:],
        "events": [e for e in events if e.get("event") != "run"][-20:],
    }
