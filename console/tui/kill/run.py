"""One emergency stop as the screen follows it: the frozen plan, every answer, retries.

The dispatcher reports each target twice (its outcome, then its verification by re-read);
:meth:`KillRun.on_result` keeps the latest per target across the kill and its retries,
so the counters, the progress bar and the final report always describe the whole kill,
not just the last pass. It is plain data, updated from the dispatcher's callback and
read by the progress screen on its own timer (never one redraw per answer).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from console.core.kill import KillPlan
from console.core.model import OutcomeKind, Target
from console.core.plan import ItemResult, Plan, Report
from console.core.reverify import Recheck
from console.core.watch import Revival
from console.tui.kill.eta import ControlRate, eta_s

Key = tuple[str, str]


@dataclass
class VenueCount:
    """One row of the per-venue counters."""

    planned: int = 0
    answered: int = 0
    ok: int = 0  # applied or already
    rejected: int = 0
    failed: int = 0
    uncertain: int = 0
    verified: int = 0
    by_answer: int = 0  # halted by the venue's answer only (it cannot be re-read)
    not_verified: int = 0
    eta: float | None = 0.0
    refused: int = 0  # calls the venue refused with 429, waiting to go again


@dataclass
class KillRun:
    kill: KillPlan
    label: str
    clear_leaves_behind: bool  # the venues' option that leaves nothing behind is chosen
    clock: Callable[[], float]
    rates: Mapping[str, ControlRate | None] = field(default_factory=dict)
    venues: Sequence[str] = ()  # the profile's venue order, for the counters
    results: dict[Key, ItemResult] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)
    revivals: list[Revival] = field(default_factory=list)
    revived_open: set[Key] = field(default_factory=set)
    """Targets that read RUNNING again and have not been verified halted since."""
    restopped: dict[Key, ItemResult] = field(default_factory=dict)
    rechecks: list[Recheck] = field(default_factory=list)
    """Automatic re-verifications, each after a venue's feed came back."""
    refused: Callable[[], Mapping[str, int]] = dict
    """Per venue, calls refused with 429 that wait to go again (the control port's)."""
    running: bool = False
    waiting_for: str = ""  # another plan's title while the kill waits for the dispatcher
    error: str = ""
    journal_failed: str = ""  # why the journal could not be written, and where the record is
    chain_head: str = ""  # the journal's hash chain head after the last pass (a receipt)
    current: Plan | None = None
    _answered: set[Key] = field(default_factory=set)
    _pass_started: float = 0.0

    def __post_init__(self) -> None:
        self.current = self.kill.plan
        self._pass_started = self.clock()

    # ----- written by the dispatcher's callback ------------------------------------
    def begin(self, plan: Plan) -> None:
        """A pass starts (the kill itself, or a retry of part of it)."""
        self.current = plan
        self.running = True
        self.waiting_for = ""
        self._answered = set()
        self._pass_started = self.clock()

    def on_result(self, result: ItemResult) -> None:
        key = (result.item.venue, result.item.target_id)
        self.results[key] = result
        self._answered.add(key)

    def finish(self, report: Report | None) -> list[Key]:
        """The pass ended; the revived targets it verified halted again (to watch again)."""
        self.running = False
        if report is None:
            return []
        self.reports.append(report)
        return [
            key
            for key, result in report.results.items()
            if key in self.revived_open and self.settle_restop(key, result)
        ]

    def revive(self, found: list[Revival]) -> None:
        """The sticky watch saw these targets RUNNING again."""
        self.revivals.extend(found)
        self.revived_open.update(r.target.key for r in found)

    def settle_restop(self, key: Key, result: ItemResult) -> bool:
        """A re-stop of a revived target answered; True when it is verified halted."""
        self.restopped[key] = result
        if result.verified:
            self.revived_open.discard(key)
        return bool(result.verified)

    def recheck(self, found: Recheck, before: Sequence[ItemResult]) -> None:
        """An automatic re-verification's results replace the doubtful ones it re-read
        (not an answer that came in meanwhile, from a retry)."""
        self.rechecks.append(found)
        was = {(r.item.venue, r.item.target_id): r for r in before}
        for result in found.results:
            key = (result.item.venue, result.item.target_id)
            if self.results.get(key) is was.get(key):
                self.results[key] = result

    def doubtful(self, venue: str) -> list[ItemResult]:
        """``venue``'s answered targets not verified halted (and not revived since); not
        those halted by the venue's answer only: no re-read can tell more of them."""
        return [
            result
            for item in self.kill.plan.items
            if item.venue == venue
            and (result := self.results.get((item.venue, item.target_id))) is not None
            and not result.halted
            and (item.venue, item.target_id) not in self.revived_open
        ]

    def appeared(self) -> dict[str, tuple[Target, ...]]:
        """venue -> targets the kill's re-reads found that were not in its plan and that
        a kill would halt (only for a kill of everything, ``Plan.everything``: a kill of
        selected rows left the rest on purpose)."""
        if not self.kill.plan.everything:
            return {}
        planned = {(i.venue, i.target_id) for i in self.kill.plan.items}
        found: dict[str, dict[str, Target]] = {}
        for report in self.reports:
            for venue, targets in report.appeared.items():
                for target in targets:
                    if (venue, target.id) not in planned:
                        found.setdefault(venue, {})[target.id] = target
        return {venue: tuple(targets.values()) for venue, targets in found.items()}

    def unread(self) -> dict[str, str]:
        """venue -> why a kill of everything could not read its list whole after the
        kill (what appeared there is not known; only the kill's own passes look)."""
        if not self.kill.plan.everything:
            return {}
        return {venue: why for report in self.reports for venue, why in report.unread.items()}

    def by_answer(self) -> int:
        """Targets halted by their venue's answer only (it cannot be re-read)."""
        return sum(1 for r in self.results.values() if r.by_answer)

    @property
    def batch_ids(self) -> list[str]:
        """The kill's batch (retries and re-stops join it), then any other a pass had."""
        return list(dict.fromkeys(r.batch_id for r in self.reports))

    # ----- read by the screen ---------------------------------------------------------
    @property
    def is_retry(self) -> bool:
        return self.current is not None and self.current is not self.kill.plan

    def progress(self) -> tuple[int, int]:
        """Targets answered in the current pass, and its size."""
        size = len(self.current) if self.current is not None else 0
        return len(self._answered), size

    def counts(self) -> dict[str, VenueCount]:
        """Per venue (profile order), over the whole kill; ETA for the current pass."""
        planned = {item.venue for item in self.kill.plan.items}
        rows: dict[str, VenueCount] = {v: VenueCount() for v in self.venues if v in planned}
        for item in self.kill.plan.items:
            row = rows.setdefault(item.venue, VenueCount())
            row.planned += 1
            result = self.results.get((item.venue, item.target_id))
            if result is None:
                continue
            row.answered += 1
            kind = result.outcome.kind
            if kind.ok:
                row.ok += 1
            elif kind is OutcomeKind.REJECTED:
                row.rejected += 1
            elif kind is OutcomeKind.FAILED:
                row.failed += 1
            else:
                row.uncertain += 1
            if result.verified:
                row.verified += 1
            elif result.by_answer:
                row.by_answer += 1
            elif result.verified is False:
                row.not_verified += 1
        self._fill_eta(rows)
        return rows

    def _fill_eta(self, rows: dict[str, VenueCount]) -> None:
        if not self.running or self.current is None:
            return
        planned: dict[str, int] = {}
        answered: dict[str, int] = {}
        for item in self.current.items:
            planned[item.venue] = planned.get(item.venue, 0) + 1
            if (item.venue, item.target_id) in self._answered:
                answered[item.venue] = answered.get(item.venue, 0) + 1
        elapsed = max(0.0, self.clock() - self._pass_started)
        for venue, n in self.refused().items():
            if venue in rows:
                rows[venue].refused = n
        for venue, count in planned.items():
            rows[venue].eta = eta_s(
                planned=count,
                answered=answered.get(venue, 0),
                elapsed_s=elapsed,
                rate=self.rates.get(venue),
            )

    def merged(self) -> Report:
        """The whole kill as one report (the latest answer per target)."""
        first = self.reports[0] if self.reports else None
        report = Report(
            self.kill.plan, first.batch_id if first else "", first.started_ms if first else 0
        )
        report.results = {
            (i.venue, i.target_id): self.results[(i.venue, i.target_id)]
            for i in self.kill.plan.items
            if (i.venue, i.target_id) in self.results
        }
        if self.reports:
            report.finished_ms = self.reports[-1].finished_ms
        report.unread = self.unread()
        return report

    def summary(self) -> str:
        """``halted 57/60 verified · 2 failed · 1 uncertain`` (+ unreachable, revived)."""
        text = self.merged().summary()
        for part in self.kill.summary_parts():
            text += f" · {part}"
        if self.revived_open:
            text += f" · {len(self.revived_open)} REVIVED"
        again = len({r.target.key for r in self.revivals} - self.revived_open)
        if again:
            text += f" · {again} revived and re-stopped"
        appeared = sum(len(found) for found in self.appeared().values())
        if appeared:
            text += f" · {appeared} APPEARED since the plan (not in this kill)"
        return text

    def retry_plan(self) -> Plan | None:
        """What failed, is uncertain, did not verify or revived since, in the kill's order.

        A revived target gets the kill's own action again (it was verified halted once,
        so its result alone would not ask for a retry).
        """
        items = tuple(
            item
            for item in self.kill.plan.items
            if (result := self.results.get((item.venue, item.target_id))) is None
            or result.needs_retry
            or (item.venue, item.target_id) in self.revived_open
        )
        if not items:
            return None
        return Plan(items, f"Retry: {self.kill.plan.title}", "kill", self.kill.plan.leaves_behind)

    @property
    def all_halted(self) -> bool:
        """ALL HALTED: every target verified by a re-read, nothing else to say."""
        return (
            self.plan_halted
            and all(r.verified for r in self.results.values())
            and not self.appeared()
        )

    @property
    def plan_halted(self) -> bool:
        """Every planned target halted — verified, or by the answer of a venue that
        cannot be re-read — the plan complete, nothing revived and every venue of a
        kill of everything re-read whole after it."""
        return (
            not self.running
            and self.kill.complete
            and len(self.results) == len(self.kill.plan)
            and all(r.halted for r in self.results.values())
            and not self.revived_open
            and not self.unread()
        )

    def revived(self, key: Key) -> Revival | None:
        return next((r for r in self.revivals if r.target.key == key), None)
