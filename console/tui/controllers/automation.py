"""Automation while the console is open: the same runner as ``trading-console automate``.

The app is handed an :class:`~console.automation.runner.AutomationRunner` (built from the
profile, as the headless command builds it) and the profile's
:class:`~console.automation.alerts.Alerter`, both optional. This controller drives them:
a tick every second in an exclusive worker (a tick still running is never cut short: the
next waits its turn), the runner lock released on quit, the header's words (the next run
and its countdown, or ``standby (holder)`` while another runner acts), the skip of a
schedule's next run (with who and why), the check-in of any key (at most once per
:data:`CHECK_IN_EVERY_S`), the bell and an on-screen notification for each alert, and
the console kill's own alerts, sent in the background and never waited for.
docs/AUTOMATION.md, docs/CONSOLE.md ("Automation").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from console.automation.alerts import Alert, Alerter
from console.automation.messages import (
    RunRecord,
    kill_started_alert,
    record_report,
    revived_alert,
    run_alert,
)
from console.automation.runner import AutomationRunner
from console.core.kill import KillPlan
from console.core.plan import Report
from console.core.scrub import printable
from console.tui.screens.automation import AutomationScreen, SkipChoice, SkipScreen

log = logging.getLogger(__name__)

QUIT_DRAIN_S = 5.0  # a quit waits this long at most for alerts still being sent
TICK_S = 1.0
"""How often the runner looks at the clock, the schedules, the guards and the timer."""
CHECK_IN_EVERY_S = 10.0
"""A key checks the operator in at most this often (each check-in writes a file)."""
GROUPS = ("automation", "alerts")
_SEVERITY: dict[str, SeverityLevel] = {
    "info": "information",
    "warning": "warning",
    "failure": "error",
}


def countdown(seconds: float) -> str:
    """``12:34`` under an hour, ``3:05:09`` from an hour, ``2d 03:05`` from a day."""
    total = max(0, int(seconds + 0.999))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}:{minutes:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class AutomationController:
    """The runner's tick, header words, skip key, check-ins and alerts on screen."""

    def __init__(
        self,
        app: App[None],
        runner: AutomationRunner | None,
        alerter: Alerter | None,
        *,
        operator: str,
        problems: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.runner = runner
        self.alerter = alerter if alerter is not None or runner is None else runner.alerter
        self.operator = operator
        self.bell = self.alerter.cfg.bell if self.alerter is not None else True
        self._last_check_in: float | None = None  # time.monotonic()
        self._ticking: Worker[None] | None = None
        self._tick_failures = 0
        self.problems = list(problems)  # said once the app is up (an alert URL not resolved)
        for shown in {id(a): a for a in (self.alerter, runner and runner.alerter) if a}.values():
            shown.local = self.show_alert  # the bell and a notification for every alert

    @property
    def configured(self) -> bool:
        return self.runner is not None

    # ----- the tick ---------------------------------------------------------------------
    def start(self) -> None:
        """On mount: a tick now and every :data:`TICK_S`."""
        for problem in self.problems:
            self.app.notify(printable(problem), title="Alerts", severity="error", timeout=30)
        if self.runner is None:
            return
        self.tick()
        self.app.set_interval(TICK_S, self.tick, name="automation")

    def tick(self) -> None:
        """Start the runner's tick in its worker, unless the last one is still running (a
        schedule's plan being sent): that one finishes first, never cut short."""
        if self.runner is None or (self._ticking is not None and self._ticking.is_running):
            return
        self._ticking = self.app.run_worker(
            self._tick, name="automation-tick", group="automation", exclusive=True,
            exit_on_error=False,
        )  # fmt: skip

    async def _tick(self) -> None:
        runner = self.runner
        assert runner is not None
        try:
            records = await runner.tick()
            self._tick_failures = 0
        except Exception as exc:  # one bad tick never ends automation, nor the console
            log.exception("automation tick failed")
            self._tick_failures += 1
            if self._tick_failures in (1, 100):
                self.app.notify(
                    f"Automation's check of schedules, guards and the timer failed "
                    f"({type(exc).__name__}: {exc}); it tries again every second. The log has "
                    "the details; `trading-console automation` shows what is configured.",
                    severity="error",
                    timeout=15,
                )
            return
        for record in records:
            self._show_record(record)

    def _show_record(self, record: RunRecord) -> None:
        words = f"{record.title}: {record.summary}"
        if record.ok:
            self.app.notify(printable(words), title=f"Automation: {record.who}", timeout=10)
        else:
            lines = [words, *record.problems, *record.failures[:3]]
            self.app.notify(
                printable("\n".join(lines))
                + "\nm shows automation's runs; u the journal of what was sent.",
                title=f"Automation {record.who}: NEEDS ATTENTION",
                severity="error",
                timeout=30,
            )

    async def aclose(self) -> None:
        """On quit: queued alerts get a few seconds (:data:`QUIT_DRAIN_S`), then the runner
        lock goes, so a headless runner may take over."""
        if self.runner is not None:
            try:
                await self.runner.drain_alerts(QUIT_DRAIN_S)
            finally:
                self.runner.release()

    def worker_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group in GROUPS and event.state is WorkerState.ERROR:
            log.error("automation worker %s failed: %r", worker.name, worker.error)

    # ----- the header -------------------------------------------------------------------
    def header_text(self) -> Text:
        """``next: close in 12:34``, ``automation: standby (holder)``, or nothing."""
        runner = self.runner
        if runner is None:
            return Text()
        if not runner.active and runner.holder is not None:
            return Text(f"automation: standby ({printable(runner.holder)})", "dim")
        found = runner.next_run()
        if found is None:
            return Text()
        name, at = found
        state = runner.schedules.states.get(name)
        skipped = state is not None and state.skip is not None and state.skip.at == at
        text = Text(f"next: {printable(name)} in {countdown(at - runner.clock())}")
        if skipped:
            text.append(" (skipped)", "dim")
        return text

    # ----- keys ---------------------------------------------------------------------------
    def operator_input(self, via: str) -> None:
        """Any key or click (``via``: "key" or "mouse"): the operator is here (the dead-man
        timer); a file write at most every :data:`CHECK_IN_EVERY_S`."""
        runner = self.runner
        if runner is None:
            return
        now = time.monotonic()
        if self._last_check_in is not None and now - self._last_check_in < CHECK_IN_EVERY_S:
            return
        self._last_check_in = now
        try:
            runner.check_in(self.operator, via)
        except OSError as exc:
            self.app.notify(
                f"The dead-man check-in could not be written ({exc.strerror}: "
                f"{exc.filename}); the timer may still count down. Run `trading-console "
                "heartbeat` from a shell, or fix the folder's permissions.",
                severity="error",
                timeout=15,
            )

    def open_screen(self) -> None:
        """m: the automation screen (or why there is none)."""
        runner = self.runner
        if runner is None:
            self.app.notify(
                "No automation in this profile: add schedules, guards or a dead-man timer "
                "(docs/AUTOMATION.md), then start the console again.",
            )
            return
        self.app.push_screen(AutomationScreen(runner.status))

    def skip(self) -> None:
        """N: choose a schedule, say why, and its next run is skipped (journaled in the
        event log with who and why)."""
        runner = self.runner
        if runner is None:
            self.app.notify("No automation in this profile: there is no schedule to skip.")
            return
        choices = []
        for entry in runner.status()["schedules"]:
            if entry["next_run"] is not None:
                choices.append(SkipChoice(entry["name"], entry["next_run"], entry["action"],
                                          entry["scope"]))  # fmt: skip
        if not choices:
            self.app.notify("No schedule has a next run: nothing to skip.", severity="warning")
            return
        self.app.push_screen(SkipScreen(choices), self._skip_confirmed)

    def _skip_confirmed(self, answer: tuple[str, str] | None) -> None:
        runner = self.runner
        if answer is None or runner is None:
            return
        name, why = answer
        skip = runner.skip_next(name, self.operator, why)
        if skip is None:
            self.app.notify(
                f"Schedule {printable(name)} has no next run any more: nothing was skipped.",
                severity="warning",
            )
            return
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(skip.at))
        words = f"{self.operator} skipped the run of schedule {name} at {when}: {why}"
        if self.alerter is not None:  # its notification shows it here too
            self.send(Alert("skip", f"schedule {name}: next run skipped", words, "warning"))
        else:
            self.app.notify(printable(words), title="Schedule skipped", timeout=10)

    # ----- alerts -------------------------------------------------------------------------
    def show_alert(self, alert: Alert) -> None:
        """The alerter's ``local``: the bell (when ``alerts.bell``) and a notification."""
        if self.bell:
            self.app.bell()
        self.app.notify(
            Text(alert.body).markup,
            title=alert.title,
            severity=_SEVERITY.get(alert.severity, "information"),
            timeout=30 if alert.severity == "failure" else 15,
        )

    def send(self, alert: Alert) -> None:
        """Send in the background; nothing ever waits for an alert."""
        alerter = self.alerter
        if alerter is None:
            return
        self.app.run_worker(
            alerter.send(alert), name="alert", group="alerts", exclusive=False,
            exit_on_error=False,
        )  # fmt: skip

    def kill_started(self, title: str, planned: int, at: float) -> None:
        self.send(kill_started_alert(self.operator, title, planned, at))

    def kill_report(self, kill: KillPlan, report: Report, at: float) -> None:
        record = record_report(RunRecord(self.operator, at, kill.plan.title), kill, report)
        self.send(run_alert(record, "report"))

    def revived(self, venue: str, target: str, at: float) -> None:
        self.send(revived_alert(venue, target, at))
