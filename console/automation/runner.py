"""The automation engine: schedules, guards and the dead-man timer against one session.

One :class:`AutomationRunner` per profile, in the console while it is open or in
``trading-console automate`` headless: the same code. On each :meth:`tick` (at the
injected clock's time; tests advance the clock and call it, the headless loop calls it
every second) it asks the schedules, the guards and the timer what is due. When
something must act it builds the plan exactly as a key press does — the kill's own
``build_kill_plan`` for a stop, the venue's offered pause for a pause — runs it through
the session's dispatcher (journaled, verified), under the operator
``schedule:<name>``, ``guard:<name>`` or ``deadman``, and reports it (record, event
log, alert). A decision that sends nothing is a journal *note* in the same hash chain:
a skip (who skipped which run and why, and again when the run is passed over) and a
guard that only alerts (the values that fired it). Each action holds the profile's kill
lock, so it never runs beside a kill.

Only one runner acts per profile: a runner holds ``<journal>.<profile>.automation.lock``
(the kill lock's class: an OS lock the kernel releases when the holder dies) for as
long as it runs; a second one (the console beside a headless runner) stands by, says
who holds it, and takes over when it is released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from typing import Any

from console.automation import scope as scopes
from console.automation.alert_outbox import DRAIN_S, AlertOutbox
from console.automation.alerts import Alert, Alerter
from console.automation.config import AutomationConfig, ScopeConfig
from console.automation.deadman import CheckIn, CheckIns, DeadmanTimer, checkin_path
from console.automation.eventlog import EventLog, eventlog_path
from console.automation.guards import Fired, Guards
from console.automation.messages import (
    RunRecord,
    failed_alert,
    kill_started_alert,
    record_report,
    run_alert,
    venue_down_alert,
)
from console.automation.runner_lock import runner_lock_path
from console.automation.schedules import Due, Schedules, Skip
from console.automation.status import runner_status
from console.core import cancel
from console.core.journal_rows import iso_ms
from console.core.kill import KillPlan, build_kill_plan, never_listed, read_in_part
from console.core.kill_lock import KillLock, KillLocked, kill_lock_for
from console.core.model import Action, ActionKind, Target
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem, Report
from console.core.ports import FeedStatus
from console.core.session import Session

log = logging.getLogger(__name__)

BUSY_WAIT_S = 60.0  # how long an action waits for a plan the operator is running


class AutomationRunner:
    def __init__(
        self,
        session: Session,
        cfg: AutomationConfig,
        *,
        clock: Callable[[], float],
        alerter: Alerter | None = None,
    ) -> None:
        self.session = session
        self.cfg = cfg
        self.clock = clock
        self.alerter = alerter
        self.profile = session.options.profile
        path = getattr(session.journal, "path", ":memory:")
        self.journal_path = str(path)
        now = clock()
        self.schedules = Schedules(cfg.schedules, now)
        self.guards = Guards(cfg.guards)
        self.checkins = CheckIns(checkin_path(self.journal_path, self.profile))
        self.deadman = DeadmanTimer(cfg.deadman, self.checkins, now)
        self.events = EventLog(eventlog_path(self.journal_path, self.profile))
        self.records: list[RunRecord] = []
        self.holder: str | None = None  # who holds the runner lock when we stand by
        lock_path = runner_lock_path(self.journal_path, self.profile)
        self._lock = None if lock_path is None else KillLock(lock_path, profile=self.profile)
        self._down_since: dict[str, float] = {}
        self._down_alerted: set[str] = set()
        self._outbox: AlertOutbox | None = None

    # ----- who acts ---------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._lock is None or self._lock.held

    def claim(self) -> bool:
        """Take the runner lock if free; False (and :attr:`holder`) while another has it."""
        if self._lock is None or self._lock.held:
            return True
        try:
            self._lock.acquire()
        except KillLocked as exc:
            if self.holder != exc.holder:
                log.info("automation of %s stands by: held by %s", self.profile, exc.holder)
            self.holder = exc.holder
            return False
        self.holder = None
        return True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    # ----- operator API -----------------------------------------------------------
    def check_in(self, who: str, via: str = "key") -> CheckIn:
        return self.checkins.record(self.clock(), who, via)

    def skip_next(self, name: str, who: str, why: str) -> Skip | None:
        """Skip ``name``'s next run; recorded at once with who and why."""
        now = self.clock()
        skip = self.schedules.skip_next(
            name, who, why, self.session.store, self.session.venues, now
        )
        if skip is not None:
            run_at = iso_ms(int(skip.at * 1000))
            self.events.write(now, "skip", who, schedule=name, run_at=run_at, why=why)
            self._note_skip("skip", name, skip, run_at)
        return skip

    def _note_skip(self, action: str, name: str, skip: Skip, run_at: str) -> None:
        """Journal a skip (``skip``: decided; ``skipped``: the run passed over) as a note
        by the operator who skipped it, the schedule as its target."""
        cfg = self.schedules.states[name].cfg
        self.session.journal.note(
            skip.who, cfg.scope.venue or "*", f"schedule:{name}", name, action, skip.why,
            message=f"the run at {run_at} of schedule {name} ({cfg.action} "
                    f"{scopes.describe(cfg.scope)}) "
                    + ("was skipped" if action == "skipped" else "will be skipped"),
            options={"schedule": name, "run_at": run_at},
        )  # fmt: skip

    def next_run(self) -> tuple[str, float] | None:
        """The soonest schedule run (name, UNIX time), for the header's countdown."""
        now = self.clock()
        found = [(at, name) for name in self.schedules.states
                 if (at := self.schedules.next_run(name, self.session.store,
                                                   self.session.venues, now)) is not None]  # fmt: skip
        return (min(found)[1], min(found)[0]) if found else None

    # ----- the engine -------------------------------------------------------------
    async def tick(self) -> list[RunRecord]:
        """Evaluate everything at the clock's time; act on what is due. Returns the runs."""
        now = self.clock()
        store, venues = self.session.store, self.session.venues
        if not self.claim():  # the acting runner runs them; keep the countdown true here
            self.schedules.due(now, store, venues)
            return []
        done: list[RunRecord] = []
        skipping = {id(s.skip): s.name for s in self.schedules.states.values() if s.skip}
        runs, skipped = self.schedules.due(now, store, venues)
        for skip in skipped:
            run_at = iso_ms(int(skip.at * 1000))
            self.events.write(now, "skipped", skip.who, run_at=run_at, why=skip.why)
            if (name := skipping.get(id(skip))) is not None:
                self._note_skip("skipped", name, skip, run_at)
        for state in self.schedules.states.values():
            for at in state.missed:
                self.events.write(now, "missed", f"schedule:{state.name}",
                                  run_at=iso_ms(int(at * 1000)))  # fmt: skip
            state.missed.clear()
        for due in runs:
            done.append(await self._run_schedule(due))
        for fired in self.guards.check(store, venues, self.clock()):
            record = await self._guard_fired(fired)
            if record is not None:
                done.append(record)
        await self._venue_health(self.clock())
        phase = self.deadman.check(self.clock())
        if phase == "alert":
            await self._deadman_alert()
        elif phase == "kill":
            done.append(await self._deadman_kill())
        return done

    async def run_forever(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """The headless loop: a tick every ``interval_s`` until ``stop`` is set."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:  # one bad tick must not end the runner
                    log.exception("automation tick failed")
                cancel.check()  # a cancel a library lost in the tick (Python 3.11)
                with suppress(TimeoutError):
                    async with asyncio.timeout(interval_s):
                        await stop.wait()
        finally:
            await self.drain_alerts()
            self.release()

    async def _run_schedule(self, due: Due) -> RunRecord:
        cfg = due.cfg
        scope = cfg.scope
        if due.targets is not None:
            scope = scope.model_copy(update={"ids": [t.id for t in due.targets]})
        reason = cfg.reason or f"schedule {cfg.name}"
        record = await self.act(f"schedule:{cfg.name}", scope, cfg.action, cfg.options, reason)
        self._report(record, "schedule")
        return record

    async def _guard_fired(self, fired: Fired) -> RunRecord | None:
        who = f"guard:{fired.guard.name}"
        words = fired.words()
        self.events.write(self.clock(), "guard", who, venue=fired.venue,
                          target=fired.target.id if fired.target else None,
                          values=fired.values, action=fired.guard.action, words=words)  # fmt: skip
        self._alert(Alert("guard", f"{who} fired", words, "warning"))
        if fired.guard.action == "alert":  # sends nothing: the journal's note is its record
            target = fired.target
            values = ", ".join(f"{k}={v}" for k, v in fired.values.items())
            self.session.journal.note(
                who, fired.venue, target.id if target else "*",
                target.name if target else fired.venue, "alert", words,
                message=f"values: {values}",
                options={"rule": fired.guard.rule, "threshold": fired.guard.threshold,
                         "values": fired.values},
            )  # fmt: skip
            return None
        if fired.target is not None:
            scope = ScopeConfig(venue=fired.venue, ids=[fired.target.id])
        else:
            scope = ScopeConfig(venue=fired.venue)
        record = await self.act(who, scope, fired.guard.action, fired.guard.options, words)
        self._report(record, "guard")
        return record

    async def _venue_health(self, now: float) -> None:
        after = self.cfg.alerts.venue_down_after
        for venue in self.session.venues:
            health = self.session.store.venue_health(venue)
            if health.status is not FeedStatus.DOWN:
                self._down_since.pop(venue, None)
                self._down_alerted.discard(venue)
                continue
            since = self._down_since.setdefault(venue, now)
            if now - since >= after and venue not in self._down_alerted:
                self._down_alerted.add(venue)
                self._alert(venue_down_alert(venue, now - since, health.detail))

    async def _deadman_alert(self) -> None:
        status = self.deadman.status(self.clock())
        kill_at = status["kill_at"]
        when = iso_ms(int(float(kill_at) * 1000)) if isinstance(kill_at, float) else "?"
        words = (f"no operator has checked in for {self.cfg.deadman.alert_after:g} min; "
                 f"{scopes.describe(self.cfg.deadman.scope)} will be halted at {when} "
                 "unless someone checks in (any key in the console, or trading-console "
                 "heartbeat)")  # fmt: skip
        self.events.write(self.clock(), "deadman_alert", "deadman", words=words)
        self._alert(Alert("deadman", "dead-man timer: check in", words, "warning"))

    async def _deadman_kill(self) -> RunRecord:
        dm = self.cfg.deadman
        options: dict[str, bool | str] = {"clear_leaves_behind": dm.clear_leaves_behind}
        reason = f"dead-man timer: no check-in for {dm.alert_after + dm.kill_after:g} min"
        record = await self.act("deadman", dm.scope, "stop", options, reason)
        self._report(record, "report")
        return record

    # ----- acting -----------------------------------------------------------------
    async def act(
        self,
        who: str,
        scope: ScopeConfig,
        action: str,
        options: dict[str, bool | str],
        reason: str,
    ) -> RunRecord:
        """Plan ``action`` on ``scope`` as a key press would, dispatch, verify, record."""
        now = self.clock()
        kill, plan = self._plan(scope, action, options, reason, who)
        record = RunRecord(who, now, plan.title)
        if kill is None:  # a pause: name the venues in scope it could not see, as a kill does
            chosen = [scope.venue] if scope.venue else self.session.venues
            for venue, why in never_listed(self.session.store, chosen).items():
                record.problems.append(f"UNREACHABLE: {venue}: could not list its targets "
                                       f"({why}); nothing was sent there")  # fmt: skip
        if not plan.items:
            record = record_report(record, kill, None)
            record.summary = "nothing to do: no target in scope needs it"
            return self._keep(record)
        lock = kill_lock_for(self.journal_path, self.profile)
        try:
            if lock is not None:
                lock.acquire()
        except KillLocked as exc:
            record.problems.append(f"not sent: {exc}")
            return self._keep(record_report(record, kill, None))
        try:
            if who == "deadman":
                self._alert(kill_started_alert(who, plan.title, len(plan), now))
            report = await self._dispatch(who, plan)
        finally:
            if lock is not None:
                lock.release()
        if report is None:
            record.problems.append(f"not sent: another plan ran for more than {BUSY_WAIT_S:g} s")
        return self._keep(record_report(record, kill, report))

    def _plan(
        self, scope: ScopeConfig, action: str, options: dict[str, bool | str], reason: str, who: str
    ) -> tuple[KillPlan | None, Plan]:
        session = self.session
        store, clients, venues = session.store, session.clients, session.venues
        if action == "stop":
            kill = build_kill_plan(
                store, clients,
                scope=scopes.kill_scope(scope, store, venues),
                clear_leaves_behind=bool(options.get("clear_leaves_behind", False)),
                reason=reason,
                unreachable=never_listed(store, venues),
                incomplete=read_in_part(store, venues),
            )  # fmt: skip
            title = f"{who}: stop {scopes.describe(scope)}"
            plan = Plan(kill.plan.items, title, "kill", kill.plan.leaves_behind)
            return kill, plan
        items: list[PlanItem] = []
        for target in scopes.select(scope, store, venues):
            item = self._pause_item(target, options, reason)
            if item is not None:
                items.append(item)
        return None, Plan(tuple(items), f"{who}: pause {scopes.describe(scope)}", "selection")

    def _pause_item(
        self, target: Target, options: dict[str, bool | str], reason: str
    ) -> PlanItem | None:
        client = self.session.clients.get(target.venue)
        if client is None:
            return None
        state = self.session.store.effective_state(target)
        if state.halted:
            return None
        spec = next((s for s in client.actions_for(replace(target, state=state))
                     if s.kind is ActionKind.PAUSE), None)  # fmt: skip
        if spec is None:
            return None
        chosen = {o.name: options.get(o.name, o.default) for o in spec.options}
        action = Action(ActionKind.PAUSE, chosen, reason)
        return PlanItem.for_target(target, action, state, client.capabilities.exposure_attrs)

    async def _dispatch(self, who: str, plan: Plan) -> Report | None:
        dispatcher = self.session.dispatcher
        waited = 0.0
        while dispatcher.busy:  # an operator's plan is running: it goes first
            if waited >= BUSY_WAIT_S:
                return None
            await asyncio.sleep(0.25)
            waited += 0.25
        operator = Operator(user=who, host=self.session.journal.operator.host)
        return await dispatcher.run(plan, operator=operator)  # journaled as `who`

    def _keep(self, record: RunRecord) -> RunRecord:
        self.records.append(record)
        del self.records[:-50]
        fields = {k: v for k, v in record.as_json().items() if k not in ("who", "time")}
        self.events.write(record.at, "run", record.who, **fields)
        log.info("%s — %s", record.title, record.summary)  # the title starts with who
        return record

    def _report(self, record: RunRecord, event: str) -> None:
        self._alert(run_alert(record, event))
        if not record.ok:
            self._alert(failed_alert(record))

    def _alert(self, alert: Alert) -> None:
        """Queued for the outbox's task: an alert never holds the tick (nor a kill)."""
        if self.alerter is not None:
            if self._outbox is None:
                self._outbox = AlertOutbox(self.alerter)
            self._outbox.put(alert)

    async def drain_alerts(self, timeout_s: float = DRAIN_S) -> int:
        """On shutdown: the alerts still queued get ``timeout_s``; returns how many were
        dropped (each logged)."""
        return 0 if self._outbox is None else await self._outbox.drain(timeout_s)

    # ----- what the screen and `automation --json` show -----------------------------
    def status(self) -> dict[str, Any]:
        return runner_status(self)
