"""The emergency stop: one plan that halts everything a profile can reach.

Each venue module says what halting one of its targets means (``kill_action``): every
55-tech client engine → stop; every active or paused x3algo algorithm → stop; every
deployed PipAI strategy → pause (closing positions per the policy); every Joyride
expiration with live instruments → pause; every CREATED or ACTIVE FinRadar target →
stop. The plan puts coarse switches first (whole engines, whole expirations), then the
rest by exposure (open positions, then P&L and capital), because under the vendors'
rate limits (x3algo: 100 stops a minute) order decides what stops first.

Planning uses each target's last confirmed state. A venue whose data is stale, or whose
feed is down (its data not old enough to be stale yet), is still planned from what was
last seen and named as such (never as fresh), and a venue that could not be read at all is named in
the plan as unreachable — a kill never silently skips a venue. Short of that, the plan
names every way its picture may be partial: a venue read only in part (*incomplete*:
what was read is halted), rows a venue sent that could not be read (each by its id),
a venue whose list went from some targets to none, and calls from earlier runs that
were cut short and still need verification. Any of these keeps the report from
saying ALL HALTED.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from console.core.model import Action, State, TargetKind
from console.core.plan import Plan, PlanItem
from console.core.ports import FeedStatus, VenueClient
from console.core.store import Store

COARSE_FIRST = (TargetKind.ENGINE, TargetKind.EXPIRATION)
_UNREADABLE = "UNREADABLE: "  # how a venue's read problem says it answered untruthfully
_NOT_PLANNED = "NOT PLANNED: "  # read, but the console's own module failed to plan it

log = logging.getLogger(__name__)


VERIFY_COMMAND = "trading-console audit --interrupted --verify"
"""The command that settles calls cut short, as the kill's OPEN CALLS line names it (the
CLI names it with the profile's own --config: cli/kill.py)."""


@dataclass(frozen=True)
class KillScope:
    """Everything (no venue, no keys), one venue, or a selection of target keys."""

    venue: str | None = None
    keys: frozenset[tuple[str, str]] | None = None

    def describe(self) -> str:
        if self.keys is not None:
            return f"the {len(self.keys)} selected targets"
        return f"every target on {self.venue}" if self.venue else "everything in this profile"


@dataclass(frozen=True)
class KillPlan:
    plan: Plan
    unreachable: Mapping[str, str] = field(default_factory=dict)
    stale: Mapping[str, float] = field(default_factory=dict)  # venue -> data age in seconds
    incomplete: Mapping[str, str] = field(default_factory=dict)  # venue -> why
    skipped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # venue -> rows
    emptied: Mapping[str, int] = field(default_factory=dict)  # venue -> targets it had
    open_intents: int = 0  # calls of earlier runs still needing verification
    # venue -> the option of its planned actions that leaves nothing behind
    # (Capabilities.clears_leaves_behind), for venues where the kill offers that choice
    clears: Mapping[str, str] = field(default_factory=dict)
    down: Mapping[str, float] = field(default_factory=dict)
    """venue -> data age in seconds, for venues whose feed was DOWN when the plan was
    frozen (stale or not yet: the header says DOWN within seconds, staleness takes 30)."""

    def counts_by_venue(self) -> dict[str, int]:
        return self.plan.counts_by_venue()

    @property
    def complete(self) -> bool:
        """Did planning see every target of every venue in scope?"""
        return not (self.unreachable or self.incomplete or self.skipped or self.emptied)

    def joined(self, part: KillPlan) -> KillPlan:
        """This plan with a venue planned later (``Plan.joined``): its part and what its
        read could not cover."""
        return replace(
            self, plan=self.plan.joined(part.plan),
            unreachable={**self.unreachable, **part.unreachable},
            stale={**self.stale, **part.stale}, incomplete={**self.incomplete, **part.incomplete},
            skipped={**self.skipped, **part.skipped}, emptied={**self.emptied, **part.emptied},
            clears={**self.clears, **part.clears}, down={**self.down, **part.down},
        )  # fmt: skip

    @property
    def unplanned(self) -> dict[str, str]:
        """Venues read but not planned (the console's own module failed on them), with
        why; among :attr:`unreachable`, which they keep from ALL HALTED."""
        return {v: why.removeprefix(_NOT_PLANNED) for v, why in self.unreachable.items()
                if why.startswith(_NOT_PLANNED)}  # fmt: skip

    def summary_parts(self) -> list[str]:
        """``1 venue(s) UNREADABLE``, … for the kill's summary line (CLI and console)."""
        unreadable = sum(1 for why in self.unreachable.values() if why.startswith(_UNREADABLE))
        unplanned = sum(1 for why in self.unreachable.values() if why.startswith(_NOT_PLANNED))
        parts = []
        for count, words in (
            (len(self.unreachable) - unreadable - unplanned, "venue(s) UNREACHABLE"),
            (unreadable, "venue(s) UNREADABLE"),
            (unplanned, "venue(s) NOT PLANNED"),
            (len(self.incomplete), "venue(s) INCOMPLETE"),
            (sum(len(rows) for rows in self.skipped.values()), "row(s) UNREADABLE"),
            (len(self.emptied), "venue(s) EMPTIED"),
        ):
            if count:
                parts.append(f"{count} {words}")
        return parts

    def problems(self) -> list[tuple[str, str]]:
        """``(badge, line)`` for everything the plan could not cover, for report and CLI."""
        lines: list[tuple[str, str]] = []
        for venue, why in self.unreachable.items():
            if why.startswith(_NOT_PLANNED):
                lines.append(("NOT PLANNED", f"{venue}: {why.removeprefix(_NOT_PLANNED)}; "
                              "nothing was sent there — halt it from the venue's own "
                              "console"))  # fmt: skip
                continue
            badge = "UNREADABLE" if why.startswith(_UNREADABLE) else "UNREACHABLE"
            why = why.removeprefix(_UNREADABLE)
            lines.append((badge, f"{venue}: could not list its targets ({why}); "
                          "nothing was sent there — halt it from the venue's own console"))  # fmt: skip
        for venue, why in self.incomplete.items():
            lines.append(("INCOMPLETE", f"{venue}: its list could not be read to the end "
                          f"({why}); what was read is halted, the rest was not addressed"))  # fmt: skip
        unknown = {(item.venue, item.target_id) for item in self.plan.items
                   if item.state_before is State.UNKNOWN}  # fmt: skip
        for venue, rows in self.skipped.items():
            shown = "; ".join(rows[:5]) + (f"; and {len(rows) - 5} more" if len(rows) > 5 else "")
            # A row is "<id>: <why>"; a venue may still list that id, UNKNOWN (a 55-tech
            # engine whose status read fails: its stop needs no read), and so plan it — not
            # a row listed twice, whose id is planned by its twin (the row stays unaddressed).
            sent = sum((venue, row.partition(": ")[0]) in unknown for row in rows)
            if not sent:
                how = "each not addressed on its own"
            elif sent == len(rows):
                how = "each still planned, its state UNKNOWN: its halt is sent all the same"
            else:
                how = (f"{sent} of them still planned, their state UNKNOWN; the rest not "
                       "addressed on its own")  # fmt: skip
            lines.append(("UNREADABLE ROWS", f"{venue}: {len(rows)} row(s) not read cleanly "
                          f"({how}) — {shown}"))  # fmt: skip
        for venue, count in self.emptied.items():
            lines.append(("EMPTIED", f"{venue}: listed no targets, where it had {count}; "
                          "check the venue before trusting that nothing runs there"))  # fmt: skip
        if self.open_intents:
            lines.append(("OPEN CALLS", f"{self.open_intents} call(s) from earlier runs were "
                          f"cut short and still need verification: {VERIFY_COMMAND}"))  # fmt: skip
        return lines


def build_kill_plan(
    store: Store,
    clients: Mapping[str, VenueClient],
    *,
    scope: KillScope = KillScope(),
    clear_leaves_behind: bool = False,
    reason: str | None = None,
    unreachable: Mapping[str, str] | None = None,
    incomplete: Mapping[str, str] | None = None,
    open_intents: int = 0,
) -> KillPlan:
    venues: Collection[str] = [scope.venue] if scope.venue else list(clients)
    items: list[PlanItem] = []
    leaves: list[str] = []
    stale: dict[str, float] = {}
    down: dict[str, float] = {}
    offered: dict[str, str] = {}
    broken: dict[str, str] = {}
    for venue in venues:
        client = clients.get(venue)
        if client is None:
            continue
        if store.is_stale(venue):
            age = store.age(venue)
            stale[venue] = age if age is not None else float("inf")
        if store.venue_health(venue).status is FeedStatus.DOWN:
            age = store.age(venue)
            down[venue] = age if age is not None else float("inf")
        try:
            mine = _venue_part(store, client, scope, clear_leaves_behind, reason)
        except Exception as exc:  # a bug in one venue's module must not stop the kill of
            log.exception("%s: its part of the kill could not be planned", venue)  # the
            broken[venue] = (f"{_NOT_PLANNED}its part of the plan could not be built "  # rest
                             f"({type(exc).__name__}: a fault in the console's {venue} "
                             "module)")  # fmt: skip
            continue
        items += mine.items
        leaves += [line for line in mine.leaves if line not in leaves]
        if mine.clears:
            offered[venue] = mine.clears
    items.sort(key=_kill_order)
    missing = {v: why for v, why in (unreachable or {}).items() if v in venues}
    missing.update(broken)
    everything = scope.keys is None
    # Re-read at the kill's end, planned or not; a venue never listed is named
    # UNREACHABLE instead (nothing was listed to compare, and a dead venue would hold
    # the kill's report for the whole verify deadline).
    listed = tuple(v for v in venues if v in clients and v not in missing) if everything else ()
    plan = Plan(tuple(items), f"EMERGENCY STOP: {scope.describe()}", "kill", tuple(leaves),
                everything=everything, venues=listed)  # fmt: skip
    partial = {v: why for v, why in (incomplete or {}).items() if v in venues}
    skipped = {
        v: tuple(client.skipped_rows)
        for v in venues
        if (client := clients.get(v)) is not None and client.skipped_rows
    }
    emptied = {v: store.emptied[v][0] for v in venues if v in store.emptied}
    return KillPlan(plan, missing, stale, partial, skipped, emptied, open_intents, offered, down)


KEPT = "which this kill does not address"
"""The words of a leaves-behind line about targets the kill leaves as they are: what
halted ones keep, and those in error (never folded into "similar notes": each such line
is shown)."""


@dataclass
class _VenuePart:
    items: list[PlanItem] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    clears: str = ""  # the option that leaves nothing behind, when the kill offers it


def _venue_part(
    store: Store, client: VenueClient, scope: KillScope, clear: bool, reason: str | None
) -> _VenuePart:
    """One venue's items of the kill, what they leave behind, what could clear that."""
    part = _VenuePart()
    venue = client.name
    caps = client.capabilities
    held: dict[str, tuple[int, int]] = {}  # noun -> (targets, amount) kept while halted
    left: dict[str, tuple[int, int]] = {}  # noun -> (targets, amount) the halts leave
    in_error = 0  # targets in error the venue's kill action leaves alone
    stale = store.is_stale(venue)  # asked once, not once a target (50,000 at a large desk)
    for target in store.targets(venue):
        if scope.keys is not None and target.key not in scope.keys:
            continue
        known = store.effective_state(target, stale=stale)
        planned = target if known is State.UNKNOWN else target.with_state(known)
        action = client.kill_action(planned, clear_leaves_behind=clear)
        if action is None:
            in_error += planned.state is State.ERROR
            add_held(held, client.held_by(planned))
            continue
        action = replace(action, reason=reason) if reason else action
        part.items.append(PlanItem.for_target(target, action, known, caps.exposure_attrs))
        spec = next((s for s in client.actions_for(planned) if s.kind == action.kind), None)
        clears = caps.clears_leaves_behind
        if clears and clears in action.options:
            part.clears = clears
        if spec and spec.leaves_behind and not (clears and action.option(clears)):
            add_held(left, client.held_by(planned))
            line = f"{venue}: {spec.leaves_behind}"
            if line not in part.leaves:
                part.leaves.append(line)
    for noun, (targets, amount) in left.items():
        part.leaves.append(f"{venue}: the {targets} target(s) it halts hold {amount} {noun} "
                           "in all")  # fmt: skip
    for noun, (targets, amount) in held.items():
        part.leaves.append(f"{venue}: {targets} target(s) already halted, {KEPT}, keep "
                           f"{amount} {noun} — no option of this kill reaches them")  # fmt: skip
    if in_error:  # neither halted nor known to trade: never silently out of the count
        part.leaves.append(f"{venue}: {in_error} target(s) in error, {KEPT} (the venue "
                           "documents no halt for them) — check them at the venue")  # fmt: skip
    return part


def add_held(totals: dict[str, tuple[int, int]], held: tuple[int, str] | None) -> None:
    """Count one target's holding (:meth:`VenueClient.held_by`) into ``totals``: noun ->
    (targets holding some, amount). The kill's plan and a selection's share it."""
    if held is not None:
        targets, amount = totals.get(held[1], (0, 0))
        totals[held[1]] = (targets + 1, amount + held[0])


def plan_from_store(
    store: Store,
    clients: Mapping[str, VenueClient],
    scope: KillScope,
    *,
    clear_leaves_behind: bool = False,
) -> KillPlan:
    """The kill plan for ``scope`` from what the store holds now (the console's kill:
    no network, so it opens at once even with a venue down)."""
    venues = list(clients)
    return build_kill_plan(
        store,
        clients,
        scope=scope,
        clear_leaves_behind=clear_leaves_behind,
        unreachable=never_listed(store, venues),
        incomplete=read_in_part(store, venues),
    )


def never_listed(store: Store, venues: Sequence[str]) -> dict[str, str]:
    """Venues that never delivered any data this session, with the feed's last words."""
    missing: dict[str, str] = {}
    for venue in venues:
        if store.age(venue) is None:
            health = store.venue_health(venue)
            why = health.detail or f"no data yet (feed {health.status.value})"
            missing[venue] = why
    return missing


def read_in_part(store: Store, venues: Sequence[str]) -> dict[str, str]:
    """Venues whose feed could read only part of their list last time, with its words
    (the part read is in the store and is halted; the rest is named, not claimed)."""
    partial: dict[str, str] = {}
    for venue in venues:
        health = store.venue_health(venue)
        if store.age(venue) is not None and health.detail.startswith("INCOMPLETE"):
            partial[venue] = health.detail
    return partial


def _kill_order(item: PlanItem) -> tuple[int, float]:
    coarse = 0 if item.kind in COARSE_FIRST else 1
    return (coarse, -item.exposure)


def planned_action(plan: Plan, venue: str, target_id: str) -> Action | None:
    return next(
        (i.action for i in plan.items if (i.venue, i.target_id) == (venue, target_id)), None
    )
