"""A plan and its report: exactly which targets get which action, and what became of each.

A :class:`Plan` is frozen when the confirmation opens, so what the operator confirmed is
what runs; the :class:`~console.core.dispatcher.Dispatcher` fills a :class:`Report` with
one :class:`ItemResult` per item as outcomes and re-reads arrive. Kept apart from the
dispatcher because the screens, the CLI, the desk and automation build and show plans
and reports without running one. :func:`desired` is the one rule for "did the action
take", shared by the dispatcher's re-read, recovery and the desk's takeover.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target, TargetKind


@dataclass(frozen=True, slots=True)
class PlanItem:
    venue: str
    target_id: str
    target_name: str
    kind: TargetKind
    action: Action
    state_before: State = State.UNKNOWN
    exposure: float = 0.0

    @classmethod
    def for_target(
        cls,
        target: Target,
        action: Action,
        state: State | None = None,
        exposure_attrs: Iterable[tuple[str, float]] = (),
    ) -> PlanItem:
        """``exposure_attrs``: what the venue's client declares measures exposure."""
        return cls(target.venue, target.id, target.name, target.kind, action,
                   state or target.state, exposure_of(target, exposure_attrs))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Plan:
    """Exactly which targets get which action; frozen when the confirmation opens."""

    items: tuple[PlanItem, ...]
    title: str
    scope: str = "one"  # one | selection | panel | kill
    leaves_behind: tuple[str, ...] = ()
    created_at: float = field(default_factory=time.time)
    everything: bool = False
    """A kill of every target of its venues (not of selected rows, not a retry): its
    re-read names what it finds beyond the plan (:attr:`Report.appeared`)."""
    venues: tuple[str, ...] = ()
    """A kill of everything: the venues of its scope that were listed when it was
    frozen, planned or not. Each is re-read at the kill's end, also one where nothing
    was planned (nothing ran there), for targets that appeared since the plan."""

    def __len__(self) -> int:
        return len(self.items)

    def counts_by_venue(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.venue] = counts.get(item.venue, 0) + 1
        return counts

    def joined(self, part: Plan) -> Plan:
        """This plan with a venue's ``part`` planned later (its list came in after this
        was frozen): its items, what they leave behind, its place among the venues a
        kill of everything re-reads."""
        leaves = self.leaves_behind + tuple(
            line for line in part.leaves_behind if line not in self.leaves_behind
        )
        venues = self.venues + tuple(v for v in part.venues if v not in self.venues)
        return replace(self, items=self.items + part.items, leaves_behind=leaves,
                       venues=venues if self.everything else self.venues)  # fmt: skip


RETRIED = (OutcomeKind.FAILED, OutcomeKind.UNCERTAIN)
"""Outcomes a one-key retry re-sends (a rejection is the venue's answer: never re-sent)."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    item: PlanItem
    outcome: Outcome
    verified_state: State | None = None
    verified: bool | None = None  # None: not (yet) verified; True: a re-read showed it
    by_answer: bool = False
    """Halted by the venue's answer only: its venue cannot report the state
    (``Capabilities.reports_pause_state`` false), so nothing re-read it. Never
    ``verified``; ``verified_state`` is the state the venue answered."""

    @property
    def done_but_unread(self) -> bool:
        """Answered done, but no re-read could read the target (UNKNOWN): a retry would be
        answered "already" and read it no better — the venue's side is where to look."""
        return (
            self.outcome.ok
            and self.verified is False
            and self.verified_state in (None, State.UNKNOWN)
        )

    @property
    def needs_retry(self) -> bool:
        """Failed, uncertain or not confirmed by the re-read, unless a re-read verified
        the target as asked: an uncertain call (no answer) whose target a later re-read
        shows halted needs nothing more (its outcome stays *uncertain*, as answered).
        A target halted by the venue's answer only needs no retry either: re-sending
        would get the same answer, and still nothing could re-read it."""
        if self.verified or self.by_answer:
            return False
        return self.outcome.kind in RETRIED or self.verified is False

    @property
    def halted(self) -> bool:
        """Done as asked, as far as can be known: verified, or by the venue's answer only."""
        return bool(self.verified) or self.by_answer


@dataclass
class Report:
    plan: Plan
    batch_id: str
    started_ms: int
    results: dict[tuple[str, str], ItemResult] = field(default_factory=dict)
    finished_ms: int | None = None
    appeared: dict[str, tuple[Target, ...]] = field(default_factory=dict)
    """venue -> targets a kill's re-read found that were not in its plan and that a kill
    would halt (they appeared or started since the plan was frozen); not sent."""
    unread: dict[str, str] = field(default_factory=dict)
    """venue -> why a kill of everything could not read its list whole after the kill
    (failed, timed out, or read in part: ``INCOMPLETE: …``): what appeared there since
    the plan is not known, so the report is never "all halted" (nor all verified)."""

    @property
    def done(self) -> int:
        return len(self.results)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results.values():
            counts[result.outcome.kind.value] = counts.get(result.outcome.kind.value, 0) + 1
        return counts

    def summary(self) -> str:
        """``halted 57/60 verified · 2 failed · 1 uncertain`` (or ``done`` for resumes).

        Failed and uncertain count the targets still in doubt (:attr:`ItemResult.needs_retry`):
        a call that was never answered but whose target a re-read verified is in the
        verified count, not among the uncertain (the journal keeps its outcome). Targets
        halted by their venue's answer only are counted apart, never as verified:
        ``halted 2/6 verified · 4 by the venue's answer only (cannot be re-read)``."""
        total = len(self.plan)
        if not total:  # "halted 0/0 verified" read as a kill that halted something
            return "nothing to do: 0 targets planned"
        verified = sum(1 for r in self.results.values() if r.verified)
        halting = all(item.action.kind.destructive for item in self.plan.items)
        verb = "halted" if halting else "done"
        parts = [f"{verb} {verified}/{total} verified"]
        counts = self.counts()
        for result in self.results.values():
            if result.outcome.kind in RETRIED and not result.needs_retry:
                counts[result.outcome.kind.value] -= 1
        for kind in (OutcomeKind.REJECTED, *RETRIED):
            if counts.get(kind.value):
                parts.append(f"{counts[kind.value]} {kind.value}")
        unverified = sum(
            1
            for r in self.results.values()
            if r.outcome.ok and r.verified is False and not r.by_answer
        )
        if unverified:
            parts.append(f"{unverified} not confirmed by re-read")
        if by_answer := self.by_answer_count:
            parts.append(f"{by_answer} by the venue's answer only (cannot be re-read)")
        if self.unread:
            parts.append(f"{len(self.unread)} venue(s) NOT RE-READ after the kill")
        return " · ".join(parts)

    @property
    def by_answer_count(self) -> int:
        return sum(1 for r in self.results.values() if r.by_answer)

    @property
    def all_verified(self) -> bool:
        """Every target verified by a re-read (by the venue's answer only is not), and
        every venue a kill of everything re-reads read whole (:attr:`unread`)."""
        return (
            not self.unread
            and len(self.results) == len(self.plan)
            and all(r.verified for r in self.results.values())
        )

    @property
    def all_halted(self) -> bool:
        """Every target verified, or halted by its venue's answer where nothing can
        re-read it (:attr:`ItemResult.halted`): the best a plan can end in there. Never
        while a venue of a kill of everything could not be re-read (:attr:`unread`)."""
        return (
            not self.unread
            and len(self.results) == len(self.plan)
            and all(r.halted for r in self.results.values())
        )

    def appeared_count(self) -> int:
        return sum(len(found) for found in self.appeared.values())

    def retry_plan(self) -> Plan | None:
        """A plan of what failed, is uncertain, or did not verify (one-key retry)."""
        items = tuple(r.item for r in self.results.values() if r.needs_retry)
        if not items:
            return None
        return Plan(items, f"Retry: {self.plan.title}", self.plan.scope, self.plan.leaves_behind)


ResultCallback = Callable[[ItemResult], None]


def exposure_of(target: Target, exposure_attrs: Iterable[tuple[str, float]]) -> float:
    """How much is at stake on a target, to order a kill: the sum of |attribute| x weight
    over the attributes its venue declares (``Capabilities.exposure_attrs``)."""
    attrs = target.attrs
    score = 0.0
    for name, weight in exposure_attrs:
        value = attrs.get(name)
        if value is None:
            continue
        try:
            amount = abs(float(value)) * weight  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):  # (a 400-digit integer: no amount;
            continue  # it raised here, and a kill's plan could not be built)
        if amount == amount:  # NaN is no amount either: it would order the plan anyhow
            score += amount
    return score


def desired(kind: ActionKind, state: State, leaves: State | None = None) -> bool:
    """Does ``state`` satisfy an action of ``kind``?

    ``leaves`` is the state its venue said the call rightly leaves (``Outcome.leaves``:
    a start that lifts a stop but not a pause the venue keeps apart); it satisfies too.
    """
    if leaves is not None and state is leaves:
        return True
    if kind is ActionKind.STOP:
        return state is State.STOPPED
    if kind is ActionKind.PAUSE:
        return state.halted
    return state is State.RUNNING


def single_plan(target: Target, action: Action, leaves_behind: Iterable[str] = ()) -> Plan:
    verb = action.kind.value.capitalize()
    return Plan(
        (PlanItem.for_target(target, action),),
        f"{verb} {target.kind.value} {target.name} on {target.venue}",
        "one",
        tuple(leaves_behind),
    )
