"""The automation commands: ``automate``, ``heartbeat``, ``alert-test`` and ``automation``.

They wire the profile's automation (``console.automation``: schedules, guards, the
dead-man timer, alerts) to the command line. ``automate`` is the headless runner a
server keeps running (systemd-friendly: logs on stderr, a clean exit 0 on SIGTERM or
SIGINT); ``heartbeat`` checks an operator in for the dead-man timer; ``alert-test`` sends
one test message to each alert URL; ``automation`` shows schedules with their next runs,
the guards, the timer, the last runs and which runner acts. docs/AUTOMATION.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from console.automation.alerts import Alerter
from console.automation.deadman import CheckIns, checkin_path
from console.automation.headless import log_to_stderr, run_headless
from console.automation.runner import AutomationRunner
from console.automation.runner_lock import acting_runner
from console.config import Profile
from console.core.hangup import detach_terminal
from console.core.journal_rows import iso_ms
from console.core.loop_signal import LoopSignal
from console.core.operator import Operator
from console.core.scrub import printable
from console.core.session import Session

COMMANDS = ("automate", "heartbeat", "alert-test", "automation")
EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 4
EXIT_RUNNER_ACTIVE = 11  # automate: another runner acts for this profile; this one did not start

SessionFor = Callable[[Profile], Session]
_log = logging.getLogger("console.automation")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    sub.add_parser(
        "automate", parents=[common],
        help="run the profile's schedules, guards, dead-man timer and alerts, headless",
        description="Run the profile's automation without a terminal (for a server): read "
        "every venue, then act on schedules, guards and the dead-man timer, and send "
        "alerts, until SIGTERM or SIGINT (exit 0). Logs go to stderr. Refused (exit 11) "
        "while another runner acts for the profile.",
    )  # fmt: skip
    sub.add_parser(
        "heartbeat", parents=[common], help="check in for the profile's dead-man timer",
        description="Record that an operator is here (as a key in the console does): the "
        "dead-man timer of the profile starts counting again.",
    )  # fmt: skip
    sub.add_parser(
        "alert-test", parents=[common], help="send one test message to each alert URL",
        description="Send a test alert to each of the profile's alert URLs. Exit 0 only "
        "when every one accepted it; otherwise the endpoint is named (never its secret).",
    )  # fmt: skip
    status = sub.add_parser(
        "automation", parents=[common],
        help="schedules with next runs, guards, the dead-man timer, last runs, who acts",
        description="Show the profile's automation: each schedule with its next run, the "
        "guards, the dead-man timer, the last runs, and which runner acts (if any).",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="one JSON object")


def run(command: str, profile: Profile, args: argparse.Namespace, session_for: SessionFor) -> int:
    if command == "automate":
        return automate(profile, session_for)
    if command == "heartbeat":
        return heartbeat(profile)
    if command == "alert-test":
        return asyncio.run(alert_test(profile.alerter(time.time)))
    return asyncio.run(show(profile, session_for(profile), as_json=args.json))


# ----- automate ---------------------------------------------------------------------
def automate(profile: Profile, session_for: SessionFor) -> int:
    alerter = profile.alerter(time.time)  # an unresolvable alert URL: refused before anything
    _logs_to_stderr(alerter)
    return asyncio.run(_automate(profile, session_for(profile), alerter))


STOPPING = (signal.SIGTERM, signal.SIGINT)
"""Each ends the runner once the tick under way has run (a scheduled stop sending
finishes, journaled); SIGHUP as well, unless the process ignores it."""


async def _automate(profile: Profile, session: Session, alerter: Alerter) -> int:
    runner = AutomationRunner(session, profile.automation(), clock=time.time, alerter=alerter)
    stop = asyncio.Event()
    caught: list[str] = []
    loop = asyncio.get_running_loop()
    for sig in STOPPING:  # first: a signal from now on ends it cleanly
        loop.add_signal_handler(sig, _on_signal, sig, stop, caught)
    # SIGHUP too, unless ignored (``nohup``): the tick under way runs, then it ends
    sighup = LoopSignal(signal.SIGHUP, partial(_on_signal, signal.SIGHUP, stop, caught),
                        unless_ignored=True)  # fmt: skip
    sighup.take()
    try:
        if not runner.claim():
            _err(f"automation of profile {profile.name!r} is already run by {runner.holder}; "
                 "a second runner would only stand by. Stop that one (or close the console "
                 "of this profile) first; `trading-console automation` shows who acts")  # fmt: skip
            return EXIT_RUNNER_ACTIVE
        cfg = runner.cfg
        _log.info("automation of profile %s acts: %d schedule(s), %d guard(s), dead-man timer "
                  "%s, %d alert URL(s)", profile.name, len(cfg.schedules), len(cfg.guards),
                  "on" if cfg.deadman.enabled else "off", len(cfg.alerts.urls))  # fmt: skip
        if not (cfg.schedules or cfg.guards or cfg.deadman.enabled):
            _log.warning(
                "profile %s has no schedules, guards or dead-man timer: only venue-down "
                "alerts will be sent", profile.name)  # fmt: skip
        code = await run_headless(session, runner, stop)
    finally:
        for sig in STOPPING:
            loop.remove_signal_handler(sig)
        sighup.give_back()
        runner.release()
        await session.aclose()
    why = f"on {caught[0]}" if caught else "at its end"
    _err(f"automation of profile {profile.name!r} stopped {why}: runner lock released, venues "
         f"closed; exit {code}")  # fmt: skip
    return code


def _on_signal(sig: signal.Signals, stop: asyncio.Event, caught: list[str]) -> None:
    if sig is signal.SIGHUP:  # the terminal is gone: what is still said goes nowhere
        detach_terminal()
    caught.append(sig.name)
    stop.set()


def _logs_to_stderr(alerter: Alerter) -> None:
    """One plain line per record on stderr, every line scrubbed of the alert URLs' secrets;
    the HTTP clients' per-request lines (URLs) are left out."""
    root = logging.getLogger()
    for handler in list(root.handlers):  # main()'s basicConfig: one handler, not two
        root.removeHandler(handler)
    log_to_stderr()
    for handler in root.handlers:
        handler.addFilter(_Scrub(alerter))
    for noisy in ("httpx", "httpcore", "websockets", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Scrub(logging.Filter):
    def __init__(self, alerter: Alerter) -> None:
        super().__init__()
        self.alerter = alerter

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.alerter.clean(record.getMessage()), None
        return True


# ----- heartbeat and alert-test ------------------------------------------------------
def heartbeat(profile: Profile) -> int:
    who, now = str(Operator.current()), time.time()
    path = checkin_path(profile.journal_path, profile.name)
    try:
        CheckIns(path).record(now, who, "heartbeat")
    except OSError as exc:
        _err(f"could not write the check-in {path} ({exc.strerror}); nobody was checked in")
        return EXIT_FAILED
    print(f"checked in as {who} at {iso_ms(int(now * 1000))} (profile {profile.name})")
    return EXIT_OK


async def alert_test(alerter: Alerter) -> int:
    results = await alerter.test_each()
    if not results:
        _err(f"profile {alerter.profile!r} has no alert URL; add urls = [\"env:VAR\"] (or "
             "secret:SECTION.KEY, file:PATH) under [profiles.<name>.alerts]")  # fmt: skip
        return EXIT_USAGE
    for endpoint, result in results:
        if result.status == "sent":
            print(f"sent: {endpoint}")
        else:
            _err(f"not sent to {endpoint}: {result.detail}")
    return EXIT_OK if all(r.status == "sent" for _, r in results) else EXIT_FAILED


# ----- automation --------------------------------------------------------------------
async def show(profile: Profile, session: Session, *, as_json: bool) -> int:
    runner = AutomationRunner(session, profile.automation(), clock=time.time)  # never ticks
    try:
        if any(s.before_expiry is not None for s in runner.cfg.schedules):
            await session.refresh()  # the pre-expiry rule's next runs come from the targets
        status = runner.status()
    finally:
        await session.aclose()
    status.pop("standby_because", None)
    status["active"] = acting_runner(profile.journal_path, profile.name)  # who acts, or None
    if as_json:
        sys.stdout.write(json.dumps(status, sort_keys=True, default=str) + "\n")
    else:
        for line in status_lines(status):
            print(printable(line))
    return EXIT_OK


def status_lines(status: dict[str, Any]) -> list[str]:
    """The text form of ``automation``: one line per schedule, guard, timer and run."""
    acting = status["active"] or "no runner (start one: trading-console automate)"
    lines = [f"automation of profile {status['profile']!r} at {status['now']}; acting: {acting}"]
    for s in status["schedules"]:
        due = "no next run" if s["next_run"] is None else (
            f"next {s['next_run']} (in {_span(s['next_run_in_s'])})")  # fmt: skip
        skip = f"; next run skipped by {s['skip']['who']}: {s['skip']['why']}" if s["skip"] else ""
        last = f"; last: {s['last_run']['summary']}" if s["last_run"] else ""
        lines.append(f"schedule {s['name']}: {s['action']} {s['scope']} — {s['when']} — "
                     f"{due}{skip}{last}")  # fmt: skip
    for g in status["guards"]:
        fired = f"; last fired: {g['last_fired']}" if g["last_fired"] else ""
        lines.append(f"guard {g['name']}: {g['rule']} {g['threshold']:g} on {g['attr'] or '-'} "
                     f"(hysteresis {g['hysteresis']:g}) in {g['scope']} → {g['action']}{fired}")  # fmt: skip
    dm = status["deadman"]
    if not dm["enabled"]:
        lines.append("dead-man timer: off")
    else:
        last = dm["last_checkin"]
        seen = "no check-in yet" if last is None else (
            f"last check-in {iso_ms(int(last['at'] * 1000))} by {last['who']} ({last['via']})")  # fmt: skip
        when = (f"alert at {dm['alert_at']}, kill at {dm['kill_at']}" if dm["in_hours"]
                else "outside its hours")  # fmt: skip
        lines.append(f"dead-man timer: on, {when}; {seen}")
    for run in status["runs"][-5:]:
        lines.append(f"run {run.get('time')} {run.get('who')}: {run.get('title')} — "
                     f"{run.get('summary')}")  # fmt: skip
    return lines


def _span(seconds: float | None) -> str:
    total = int(seconds or 0)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
