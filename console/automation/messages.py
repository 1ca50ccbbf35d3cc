"""The words of automation's alerts and records: one place, so the console, the headless
runner and the webhook say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.automation.alerts import Alert, Severity
from console.core.journal_rows import iso_ms
from console.core.kill import KillPlan
from console.core.plan import Report

_SHOWN = 10  # targets named in an alert body at most


@dataclass
class RunRecord:
    """One action automation took (or could not take): who, when, what came of it."""

    who: str  # schedule:<name> | guard:<name> | deadman
    at: float
    title: str
    planned: int = 0
    summary: str = "nothing sent"
    all_verified: bool = False
    halted: bool = False  # every target verified, or halted by its venue's answer only
    by_answer: int = 0  # halted by the venue's answer only: a venue that cannot be re-read
    appeared: int = 0  # targets a kill's re-read found beyond its plan (not halted)
    batch_id: str | None = None
    problems: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not self.problems and not self.failures and not self.appeared
                and (self.all_verified or self.halted or not self.planned))  # fmt: skip

    def as_json(self) -> dict[str, object]:
        return {"who": self.who, "time": iso_ms(int(self.at * 1000)), "title": self.title,
                "planned": self.planned, "summary": self.summary, "ok": self.ok,
                "all_verified": self.all_verified, "by_answer_only": self.by_answer,
                "appeared": self.appeared, "batch_id": self.batch_id,
                "problems": self.problems, "failures": self.failures}  # fmt: skip


def record_report(record: RunRecord, kill: KillPlan | None, report: Report | None) -> RunRecord:
    """Fill ``record`` from the plan's problems and the dispatcher's report."""
    if kill is not None:
        record.problems += [f"{badge}: {line}" for badge, line in kill.problems()]
    if report is None:
        return record
    record.planned = len(report.plan)
    record.summary = report.summary()
    record.all_verified = report.all_verified
    record.halted = report.all_halted
    record.by_answer = report.by_answer_count
    record.appeared = report.appeared_count()
    record.batch_id = report.batch_id
    for (venue, _), result in report.results.items():
        if result.needs_retry:
            state = result.verified_state.value if result.verified_state else "not re-read"
            record.failures.append(
                f"{result.item.target_name} on {venue}: {result.outcome.kind.value} "
                f"({result.outcome.message}); re-read: {state}"
            )
    return record


def run_alert(record: RunRecord, event: str) -> Alert:
    """The alert for a finished run (event: schedule, guard or report)."""
    head = "ALL HALTED" if record.ok else "NEEDS ATTENTION"  # the kill's words (EMERGENCY.md)
    if record.ok and record.by_answer and not record.all_verified:
        head = f"HALTED — {record.by_answer} by the venue's answer only"
    elif record.appeared and not record.problems and not record.failures and record.halted:
        head = f"PLAN HALTED — {record.appeared} NEW TARGET(S) NOT HALTED"
    lines = [f"{record.who} at {iso_ms(int(record.at * 1000))}: {record.title}",
             f"{head}: {record.summary}"]  # fmt: skip
    if record.batch_id:
        lines.append(f"journal batch {record.batch_id[:8]} (trading-console audit)")
    lines += record.problems
    lines += record.failures[:_SHOWN]
    if len(record.failures) > _SHOWN:
        lines.append(f"and {len(record.failures) - _SHOWN} more")
    severity: Severity = "info" if record.ok else "failure"
    return Alert(event, f"{record.who}: {head}", "\n".join(lines), severity)


def failed_alert(record: RunRecord) -> Alert:
    body = "\n".join([f"{record.who}: {record.title}", record.summary,
                      *record.problems, *record.failures[:_SHOWN]])  # fmt: skip
    return Alert("failed", f"{record.who}: action failed", body, "failure")


def kill_started_alert(who: str, title: str, planned: int, at: float) -> Alert:
    return Alert("kill", f"{who}: emergency stop started",
                 f"{who} at {iso_ms(int(at * 1000))}: {title} ({planned} call(s) planned)",
                 "warning")  # fmt: skip


def revived_alert(venue: str, target: str, at: float) -> Alert:
    """For the console's sticky watch (the lead wires it): a halted target runs again."""
    return Alert("revived", f"REVIVED: {target} on {venue}",
                 f"{target} on {venue} reads RUNNING again at {iso_ms(int(at * 1000))}, after "
                 "the kill verified it halted", "failure")  # fmt: skip


def venue_down_alert(venue: str, seconds: float, detail: str) -> Alert:
    why = f" ({detail})" if detail else ""
    return Alert("venue_down", f"{venue} down for {seconds:.0f} s",
                 f"the feed of {venue} has been DOWN for {seconds:.0f} s{why}", "warning")  # fmt: skip
