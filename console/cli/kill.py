"""``trading-console kill``: the emergency stop from the command line.

``kill`` takes the profile's kill lock (one kill at a time across processes), reads
every venue within the planning deadline, builds the same kill plan as the console's
kill key, asks the operator to type the profile label (unless ``--yes``), dispatches to
every venue at once, verifies by re-reading, and exits 0 only when every target of every
venue is verified halted. Whatever the venues answer, it ends within its deadlines in a
report that names what it could not cover (docs/EMERGENCY.md, "The deadline model").
With alerts configured in the profile, "kill started" and the final report also go to
its alert URLs (docs/AUTOMATION.md); an alert never delays the calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.automation.alerts import Alert, Alerter
from console.automation.messages import RunRecord, kill_started_alert, record_report, run_alert
from console.cli.control import did_you_mean, no_venue_words, settle_command, venues_words
from console.cli.hangup import SurviveHangup
from console.cli.kill_interrupt import EXIT_ABANDONED, CtrlC
from console.cli.kill_progress import KillProgress
from console.cli.reads import cancel_reads, finish_reads
from console.core.journal import Journal
from console.core.kill import VERIFY_COMMAND, KillPlan, KillScope, build_kill_plan
from console.core.kill_lock import KillLocked, kill_lock_for
from console.core.model import OutcomeKind
from console.core.plan import ItemResult, Plan, Report
from console.core.scrub import printable
from console.core.session import Reads, Session, failed_reads

EXIT_OK, EXIT_REJECTED, EXIT_FAILED, EXIT_UNCERTAIN = 0, 3, 4, 5
EXIT_USAGE, EXIT_NOT_CONFIRMED, EXIT_UNKNOWN = 2, 6, 7
EXIT_KILL_RUNNING = 9  # another kill of this profile holds the lock; nothing was sent
EXIT_JOURNAL_FAILED = 10  # everything verified halted, but the journal failed (see fallback)
EXIT_BY_ANSWER = 14  # every target halted, some by the venue's answer only (cannot be re-read)
EXIT_APPEARED = 15  # the plan halted, but targets appeared since the plan (not in this kill)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    kill = sub.add_parser(
        "kill", parents=[common], help="emergency stop of everything (or one venue)",
        description="Stop or pause every target of every venue of the profile (or of one "
        "venue), verify each by a re-read, and report. Asks for the profile label unless "
        "--yes; exit 0 only when every target is verified halted.",
    )  # fmt: skip
    kill.add_argument("--venue", help="only this venue (its name in the profile)")
    kill.add_argument("--reason", help="recorded in the journal and sent where the venue takes one")
    kill.add_argument("--close-positions", action="store_true", default=None,
                      dest="clear_leaves_behind",
                      help="close positions where a venue's halt can (default: the "
                      "profile's policy)")  # fmt: skip
    kill.add_argument("--yes", action="store_true", help="do not ask for the profile label")
    kill.add_argument(
        "--json", action="store_true", help="JSON lines: one per target, then a summary"
    )


ALERT_WAIT_S = 20.0  # at most this long after the report for the alerts to go out


async def kill(session: Session, args: argparse.Namespace, alerter: Alerter | None = None) -> int:
    try:
        return await _locked_kill(session, args, alerter)
    finally:
        await session.aclose()


async def _locked_kill(session: Session, args: argparse.Namespace, alerter: Alerter | None) -> int:
    if not session.clients:  # nothing to plan from: never "ALL HALTED" of nothing
        words = no_venue_words(session.options.profile, "nothing to stop")
        _err(words)
        if args.json:
            _out(json.dumps({"summary": "not started", "refused": words}, sort_keys=True))
        return EXIT_USAGE
    if args.venue and args.venue not in session.clients:
        _err(f"no venue {args.venue!r} in this profile{did_you_mean(args.venue, session.clients)}; "
             f"{venues_words(session.clients)}")  # fmt: skip
        return EXIT_UNKNOWN
    lock = kill_lock_for(getattr(session.journal, "path", ":memory:"), session.options.profile)
    try:
        if lock is not None:
            lock.acquire()
    except KillLocked as exc:
        _err(str(exc))
        if args.json:
            _out(json.dumps({"summary": "not started", "refused": str(exc)}, sort_keys=True))
        return EXIT_KILL_RUNNING
    try:
        return await _kill(session, args, alerter)
    finally:
        if lock is not None:
            lock.release()


@dataclass
class KillRun:
    """One kill, planned, as ``carry_out`` confirms, runs and reports it (a local kill
    through the session's dispatcher, a desk kill through the hub)."""

    label: str
    who: str
    kp: KillPlan
    clear: bool
    planning_s: float
    dispatch: Callable[[Plan, Callable[[ItemResult], None]], Awaitable[Report]]
    chain_head: Callable[[Report], Awaitable[str | None]]
    journal_failed: str | None = None
    journal_record: str | None = None
    joined: Callable[[Report], str | None] = lambda report: None
    """Words when the report is of another operator's kill this one joined (a desk)."""
    waiting: tuple[str, ...] = ()
    """Venues whose list was still on its way when the calls left (``JOIN_AFTER_S``);
    each joins the kill when it arrives, and ``kp`` grows to hold it."""
    listed: set[str] = field(default_factory=set)
    """Those of :attr:`waiting` whose read has ended (joined, or could not be read)."""
    refused: Callable[[], Mapping[str, int]] = dict
    """Per venue, the calls it refused (429) that wait to go again (a local kill's
    dispatcher says, a desk kill's hub in its heartbeat)."""
    listing_words: Callable[[str], str] = str
    """A venue still listing in words: its name, and its failed tries while it waits to
    try again (a local kill's :meth:`Session.listing_words`)."""
    partial: Callable[[], Report | None] = lambda: None
    """The report as far as it got, while the calls run (a local kill's dispatcher's)."""
    verify_command: str = VERIFY_COMMAND
    """The command that settles calls cut short, for this profile (its --config kept)."""
    at_hub: bool = False
    """The kill runs at a desk's hub: a second Ctrl-C stops this command following it,
    the kill goes on (kill_interrupt.py); locally it abandons the kill."""
    journal: Journal | None = None
    """Where a local kill notes that its terminal hung up (a desk kill's is the hub's)."""

    def problems(self, kp: KillPlan | None = None) -> list[tuple[str, str]]:
        """``kp``'s problems (the run's plan by default), commands named for this profile."""
        lines = (kp or self.kp).problems()
        return [(badge, line.replace(VERIFY_COMMAND, self.verify_command)) for badge, line in lines]

    def still_listing(self) -> tuple[str, ...]:
        return tuple(self.listing_words(v) for v in self.waiting if v not in self.listed)


JOIN_AFTER_S = 1.0
"""With ``--yes``, the calls leave once every venue is read or this long after the start,
whichever comes first; a venue whose list is still on its way joins the running kill
when it arrives (within the planning deadline). A venue that hangs held every other
venue's stops for its whole read (5 s at the defaults); a person confirming reads the
whole plan first, so without ``--yes`` every read is awaited."""


async def _kill(session: Session, args: argparse.Namespace, alerter: Alerter | None) -> int:
    started = time.monotonic()
    open_intents = _open_intents(session)
    chosen = args.clear_leaves_behind
    clear = session.options.kill_clear_leaves_behind if chosen is None else True
    reads = session.start_reads(only=args.venue)  # a kill of one venue reads only it
    try:
        return await _planned_kill(session, args, alerter, reads, started, open_intents, clear)
    finally:
        cancel_reads(reads)


async def _planned_kill(
    session: Session,
    args: argparse.Namespace,
    alerter: Alerter | None,
    reads: Reads,
    started: float,
    open_intents: int,
    clear: bool,
) -> int:
    if args.yes and not args.venue:
        await asyncio.wait(reads.values(), timeout=JOIN_AFTER_S)
    else:  # a plan to confirm (or of one venue) waits for every list it needs
        await finish_reads(session, reads, "the plan waits for every venue")
    read = {name: task.result() for name, task in reads.items() if task.done()}
    failures = failed_reads(reads)

    def plan(clients: dict[str, Any], unreachable: dict[str, str], opened: int) -> KillPlan:
        return build_kill_plan(
            session.store, clients, scope=KillScope(venue=args.venue),
            clear_leaves_behind=clear, reason=args.reason, unreachable=unreachable,
            incomplete=session.incomplete, open_intents=opened,
        )  # fmt: skip

    kp = plan({n: c for n, c in session.clients.items() if n in read}, failures, open_intents)
    failed, record = _journal_state(session)

    async def part_of(name: str) -> Plan | None:
        why = await reads[name]
        run.listed.add(name)
        part = plan({name: session.clients[name]}, {name: why} if why else {}, 0)
        run.kp = run.kp.joined(part)
        took = time.monotonic() - started
        if why is not None:
            _err(f"{name}: could not list its targets in {took:.1f} s ({why}); nothing "
                 "was sent there — halt it from the venue's own console")  # fmt: skip
            return None
        if name in part.unreachable:  # listed, but its part could not be planned
            for badge, line in run.problems(part):
                _err(f"{badge}: {line}")
            return None
        after = session.listed_after_words(name)
        _err(f"{name}: listed in {took:.1f} s{after} — {len(part.plan)} target(s) join the kill")
        for badge, line in run.problems(part):  # as the plan shown at the start says them
            _err(f"  {badge}: {line}")
        for line in part.plan.leaves_behind:
            _err(f"  leaves behind — {line}")
        return part.plan

    late = {name: part_of(name) for name in reads if name not in read}

    async def dispatch(plan: Plan, progress: Callable[[ItemResult], None]) -> Report:
        return await session.dispatcher.run(plan, on_result=progress, late=late)

    async def head(report: Report) -> str | None:
        failed_now, record_now = _journal_state(session)
        run.journal_failed, run.journal_record = failed_now, record_now
        return _chain_head(session)

    run = KillRun(session.options.label, str(session.journal.operator), kp, clear,
                  time.monotonic() - started, dispatch, head, failed, record,
                  waiting=tuple(late), refused=session.dispatcher.refused_now,
                  listing_words=session.listing_words,
                  partial=lambda: session.dispatcher.running,
                  verify_command=settle_command(args), journal=session.journal)  # fmt: skip
    return await carry_out(run, args, alerter)


async def carry_out(run: KillRun, args: argparse.Namespace, alerter: Alerter | None) -> int:
    """Describe, confirm (the label, unless --yes), dispatch, and report ``run``."""
    _describe(run)
    if not args.yes and not _confirm_label(run.label):
        _err("not confirmed; nothing was sent")
        return EXIT_NOT_CONFIRMED
    with SurviveHangup(run.journal, f"the emergency stop «{run.kp.plan.title}»"):
        return await _confirmed(run, args, alerter)


async def _confirmed(run: KillRun, args: argparse.Namespace, alerter: Alerter | None) -> int:
    """Dispatch and report ``run``, confirmed (its terminal may hang up meanwhile)."""
    kp = run.kp
    total = len(kp.plan)
    progress = KillProgress(run.label, lambda: run.kp, quiet=args.json,
                            listing=run.still_listing, refused=run.refused)  # fmt: skip

    confirmed = time.monotonic()
    at = time.time()
    alerts = _Alerts(alerter)
    title = kp.plan.title
    if run.waiting:  # their part joins later: the alert must not claim the count is all
        title += f" — {', '.join(run.waiting)} still listing, not yet counted"
    alerts.send(kill_started_alert(run.who, title, total, at))  # beside the calls
    watch = asyncio.create_task(progress.watch())
    dispatching = asyncio.ensure_future(run.dispatch(kp.plan, progress))
    held: list[Report | None] = []

    def abandon() -> None:
        held.append(run.partial())  # before the cancel ends the dispatcher's run
        dispatching.cancel()

    ctrl_c = CtrlC(run.label, abandon, at_hub=run.at_hub)
    ctrl_c.install()
    try:
        report = await dispatching
    except asyncio.CancelledError:
        if not ctrl_c.abandoned:
            raise
        elapsed = time.monotonic() - confirmed
        return await _abandoned(run, args, alerts, progress, held[0] if held else None,
                                RunRecord(run.who, at, title), elapsed)  # fmt: skip
    finally:
        ctrl_c.remove()
        watch.cancel()
    elapsed = time.monotonic() - confirmed
    kp = run.kp  # with the venues that joined while it ran
    alerts.send(
        run_alert(record_report(RunRecord(run.who, at, kp.plan.title), kp, report), "report")
    )
    await alerts.wait()
    summary = _summary(report, kp)
    head = await run.chain_head(report)
    journal_failed, record = run.journal_failed, run.journal_record
    joined = run.joined(report)
    if args.json:
        for result in report.results.values():
            _out(json.dumps(_result_json(result), sort_keys=True))
        _out(json.dumps({
            "summary": summary, "all_verified": _verdict(report, kp) == "all_halted",
            "verdict": _verdict(report, kp), "by_answer_only": report.by_answer_count,
            "appeared": {v: [t.id for t in found] for v, found in report.appeared.items()},
            "not_reread": dict(report.unread),
            "unreachable": dict(kp.unreachable), "incomplete": dict(kp.incomplete),
            "unreadable_rows": {v: list(r) for v, r in kp.skipped.items()},
            "emptied": dict(kp.emptied), "open_intents": kp.open_intents,
            "elapsed_s": round(elapsed, 3), "batch_id": report.batch_id,
            "journal_failed": journal_failed, "journal_record": record, "chain_head": head,
            **({"joined": joined} if joined else {}),
        }, sort_keys=True))  # fmt: skip
    else:
        if joined:
            _out(printable(f"JOINED: {joined}"))
        for badge, line in [*run.problems(kp), *report_problems(report)]:
            _out(printable(f"{badge}: {line}"))
        if journal_failed:
            _out(f"JOURNAL FAILED: {journal_failed}; the record of this kill is in {record}")
        took = f"{elapsed:.2f}" if elapsed < 1 else f"{elapsed:.1f}"  # never "in 0.0 s"
        _out(f"{headline(report, kp)}: {summary} in {took} s "
             f"(batch {report.batch_id[:8]})")  # fmt: skip
        left, unread = _still_to_halt(report)
        if left and not joined:
            _out(f"NEXT: {left} — run the kill again: it plans from fresh reads and calls "
                 "only what still runs")  # fmt: skip
        if unread and not joined:
            _out(f"NEXT: {unread} — check them on the venue's side: a second kill would "
                 "send the same call and read them no better")  # fmt: skip
        if kp.unreachable and not joined:
            venues = ", ".join(sorted(kp.unreachable))
            _out(f"NEXT: nothing was sent to {venues} (could not be listed) — halt it from "
                 "the venue's own console, or run the kill again once it answers")  # fmt: skip
        if head:
            _out(f"journal chain head {head}")
    return _exit_code(report, kp, journal_failed)


async def _abandoned(
    run: KillRun,
    args: argparse.Namespace,
    alerts: _Alerts,
    progress: KillProgress,
    report: Report | None,
    record: RunRecord,
    elapsed: float,
) -> int:
    """The account of a kill a second Ctrl-C abandoned: how far it got, what is left."""
    kp = run.kp
    planned = len(kp.plan)
    results = list(progress.results.values())
    kinds = Counter(r.outcome.kind.value for r in results)
    said = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    verified = sum(1 for r in results if r.verified and r.halted)
    left = planned - len(results)
    batch = report.batch_id if report is not None else None
    what = (
        f"{len(results)} of {planned} answered{f' ({said})' if said else ''}, "
        f"{verified} verified halted"
    )
    if run.at_hub:
        words = (f"this command stopped following the emergency stop after {elapsed:.1f} s "
                 f"(Ctrl-C twice) — {what}, {left} not yet answered: the hub's kill goes on; "
                 "`audit` through the desk shows its rows")  # fmt: skip
    else:
        words = (f"the emergency stop was abandoned by Ctrl-C after {elapsed:.1f} s — {what}; "
                 f"{left} without an answer: nothing more was sent, and what was sent is "
                 "journaled as interrupted calls (a re-read settles them)")  # fmt: skip
    record = record_report(record, kp, report)
    record.problems.insert(0, f"ABANDONED: {words}")
    alerts.send(run_alert(record, "report"))
    await alerts.wait()
    head = await run.chain_head(report) if report is not None else None
    if args.json:
        _out(json.dumps({
            "summary": "abandoned", "verdict": "abandoned", "all_verified": False,
            "abandoned": words, "planned": planned, "answered": len(results),
            "verified_halted": verified, "elapsed_s": round(elapsed, 3), "batch_id": batch,
            "chain_head": head,
        }, sort_keys=True))  # fmt: skip
    else:
        _out(printable(f"ABANDONED: {words}" + (f" (batch {batch[:8]})" if batch else "")))
        if not run.at_hub:  # (a desk's kill goes on at the hub: nothing to settle here)
            _out(f"NEXT: run the kill again (it plans from fresh reads and calls only what "
                 f"still runs), or settle the interrupted calls: `{run.verify_command}`")  # fmt: skip
        if head:
            _out(f"journal chain head {head}")
    return EXIT_ABANDONED


def _still_to_halt(report: Report) -> tuple[str, str]:
    """``8 target(s) not halted (pipai 8)``: what a retry would call, per venue; and
    apart, ``1 target(s) answered done but not readable on re-read (55tech 1)``: calls
    the venue answered done whose target no re-read could read (a status endpoint
    failing for one client) — a retry would be answered "already" and read no better.
    "" for none of either."""
    left: Counter[str] = Counter()
    unread: Counter[str] = Counter()
    for r in report.results.values():
        if r.needs_retry:
            (unread if r.done_but_unread else left)[r.item.venue] += 1

    def said(counts: Counter[str], what: str) -> str:
        per = ", ".join(f"{venue} {n}" for venue, n in sorted(counts.items()))
        return f"{counts.total()} target(s) {what} ({per})" if counts else ""

    return said(left, "not halted"), said(unread, "answered done but not readable on re-read")


class _Alerts:
    """The kill's alerts, sent in the background so that no call waits for them."""

    def __init__(self, alerter: Alerter | None) -> None:
        self.alerter = alerter
        self.tasks: list[asyncio.Task[object]] = []

    def send(self, alert: Alert) -> None:
        if self.alerter is not None:
            self.tasks.append(asyncio.create_task(self.alerter.send(alert)))

    async def wait(self) -> None:
        if not self.tasks:
            return
        _, pending = await asyncio.wait(self.tasks, timeout=ALERT_WAIT_S)
        for task in pending:
            task.cancel()
        if pending:
            _err(f"{len(pending)} alert(s) not sent within {ALERT_WAIT_S:g} s; the kill is done")


def _summary(report: Report, kp: KillPlan) -> str:
    parts = [report.summary(), *kp.summary_parts()]
    if appeared := report.appeared_count():
        parts.append(f"{appeared} APPEARED since the plan (not in this kill)")
    return " · ".join(parts)


def headline(report: Report, kp: KillPlan) -> str:
    """The kill's headline, by its verdict (docs/EMERGENCY.md, "What ALL HALTED means")."""
    verdict = _verdict(report, kp)
    if verdict == "appeared":
        return f"PLAN HALTED — {report.appeared_count()} NEW TARGET(S) NOT HALTED"
    if verdict == "halted_by_answer":
        return f"HALTED — {report.by_answer_count} by the venue's answer only"
    return "ALL HALTED" if verdict == "all_halted" else "NEEDS ATTENTION"


def _verdict(report: Report, kp: KillPlan) -> str:
    """``all_halted`` (every target verified), ``halted_by_answer`` (the rest halted by
    the answer of a venue that cannot be re-read), ``appeared`` (the plan halted, but a
    kill's re-read found targets since the plan it did not address), else
    ``needs_attention``."""
    if not (report.all_halted and kp.complete):
        return "needs_attention"
    if report.appeared:
        return "appeared"
    return "halted_by_answer" if report.by_answer_count else "all_halted"


def report_problems(report: Report) -> list[tuple[str, str]]:
    """``(badge, line)`` for what the kill's re-read learnt beyond its plan's targets."""
    lines: list[tuple[str, str]] = []
    by_venue: dict[str, int] = {}
    for result in report.results.values():
        if result.by_answer:
            by_venue[result.item.venue] = by_venue.get(result.item.venue, 0) + 1
    for venue, count in by_venue.items():
        lines.append(("BY ANSWER ONLY", f"{venue}: {count} target(s) halted by the venue's "
                      "answer only — it cannot report their state, so nothing re-read them; "
                      "check them on the venue's side"))  # fmt: skip
    for venue, found in report.appeared.items():
        shown = ", ".join(t.id for t in found[:5]) + (
            f" and {len(found) - 5} more" if len(found) > 5 else ""
        )
        lines.append(("APPEARED", f"{venue}: {len(found)} target(s) not in the plan read "
                      f"since it was frozen, not halted ({shown}); this kill sent them "
                      "nothing — run the kill again to halt them"))  # fmt: skip
    for venue, why in report.unread.items():
        lines.append(("NOT RE-READ", f"{venue}: its list could not be read whole after the "
                      f"kill ({why}); a target that started there since the plan is not "
                      f"known — check {venue} itself, or run the kill again"))  # fmt: skip
    return lines


def _exit_code(report: Report, kp: KillPlan, journal_failed: str | None) -> int:
    """0 ALL HALTED; 15 new targets since the plan; 10 journal failed; 14 halted by the
    venue's answer only; else 4, 5 or 3 for the targets still in doubt (a target a
    re-read verified is never in doubt, whatever its call answered); 5 too when a venue
    could not be re-read whole after a kill of everything (``Report.unread``)."""
    verdict = _verdict(report, kp)
    if verdict == "appeared":
        return EXIT_APPEARED
    if verdict != "needs_attention":
        if journal_failed:
            return EXIT_JOURNAL_FAILED
        return EXIT_BY_ANSWER if verdict == "halted_by_answer" else EXIT_OK
    doubt = [r for r in report.results.values() if not r.halted]
    kinds = {r.outcome.kind for r in doubt}
    if kp.unreachable or kp.incomplete or kp.skipped or OutcomeKind.FAILED in kinds:
        return EXIT_FAILED
    if len(report.results) < len(report.plan):
        return EXIT_FAILED
    unsure = kp.emptied or report.unread or OutcomeKind.UNCERTAIN in kinds
    if unsure or any(r.verified is False for r in doubt):
        return EXIT_UNCERTAIN
    return EXIT_REJECTED


def _open_intents(session: Session) -> int:
    try:
        return len(session.journal.interrupted())
    except Exception:  # a broken journal must not stop a kill; the report says so
        return 0


def _journal_state(session: Session) -> tuple[str | None, str | None]:
    failed = getattr(session.journal, "failed", None)
    record = getattr(session.journal, "fallback_path", None)
    return (str(failed) if failed else None), (str(record) if record else None)


def _chain_head(session: Session) -> str | None:
    head = getattr(session.journal, "chain_head", None)
    if head is None:
        return None
    try:
        value = head()
    except Exception:
        return None
    return str(value) if value else None


def _describe(run: KillRun) -> None:
    def err(line: str) -> None:
        print(printable(line), file=sys.stderr)

    kp = run.kp
    so_far = f" so far, {len(run.waiting)} venue(s) still listing" if run.waiting else ""
    err(f"[{run.label}] EMERGENCY STOP — {len(kp.plan)} targets{so_far} "
        f"(planned in {run.planning_s:.1f} s)")  # fmt: skip
    for venue, count in kp.counts_by_venue().items():
        age = kp.stale.get(venue)
        note = f" (data {age:.0f} s old)" if age is not None else ""
        err(f"  {venue:10} {count:5d}{note}")
    others = "; the others' calls leave now" if kp.plan.items else ""
    for venue in run.waiting:
        err(f"  {venue:10}     ? its list is still on its way: its targets join the kill "
            f"when it arrives{others}")  # fmt: skip
    for badge, line in run.problems():
        err(f"  {badge}: {line}")
    for line in kp.plan.leaves_behind:
        err(f"  leaves behind — {line}")
    for venue in kp.clears:  # venues whose halt can close positions (Capabilities)
        err(
            f"  {venue} positions: "
            f"{'closed at market as each is paused' if run.clear else 'stay open'}"
        )
    if run.journal_failed:
        err(f"  JOURNAL FAILED: {run.journal_failed}; the kill goes on and is recorded in "
            f"{run.journal_record}")  # fmt: skip


def _confirm_label(label: str) -> bool:
    print(f"Type the profile label ({label}) to confirm: ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == label


def _result_json(result: ItemResult) -> dict[str, Any]:
    o = result.outcome
    return {
        "venue": result.item.venue, "target": result.item.target_id,
        "name": result.item.target_name, "action": result.item.action.kind.value,
        "outcome": o.kind.value, "message": o.message, "warning": o.warning,
        "http_status": o.http_status,
        "verified_state": result.verified_state.value if result.verified_state else None,
        "verified": result.verified, "by_answer": result.by_answer,
    }  # fmt: skip


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
