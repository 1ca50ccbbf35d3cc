"""From rows on screen to a frozen plan: what exactly a confirmation will hit.

A draft is built the instant the key is pressed, from the targets under the cursor or in
the selection, their *effective* state (UNKNOWN when stale) and the actions their venue
offers on them. It never changes afterwards: live updates reach the screen, not an open
modal. Only the operator's choices in the modal (options, reason) are applied on
confirmation, by :meth:`PlanDraft.finalize`.

The draft also carries the key facts a person needs to judge the plan, read from the
attributes docs/ATTRIBUTES.md documents (never from a venue's wire format): how many
instruments a target covers (``instruments``, ``calls``, ``puts``, ``by_asset``) and why
a target is in the state it is in (``stop_reason``, ``pause_reason`` …). A venue whose
targets carry none of them shows none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from console.core.kill import add_held
from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    AttrValue,
    OptionSpec,
    OptionValue,
    State,
    Target,
)
from console.core.plan import Plan, PlanItem
from console.core.ports import VenueView
from console.core.scrub import printable
from console.core.store import Store
from console.tui.format import one_line, state_word

NOUNS: Mapping[str, tuple[str, str]] = {
    "engine": ("client engine", "client engines"),
    "algorithm": ("algorithm", "algorithms"),
    "strategy": ("strategy", "strategies"),
    "expiration": ("expiration", "expirations"),
    "sniper": ("sniper target", "sniper targets"),
}


def noun(kind: str, count: int) -> str:
    one, many = NOUNS.get(kind, (kind, kind + "s"))
    return one if count == 1 else many


COUNT_ATTRS: tuple[tuple[str, str, str], ...] = (
    ("instruments", "instrument", "instruments"),
    ("calls", "call", "calls"),
    ("puts", "put", "puts"),
)
"""Counts a target covers (docs/ATTRIBUTES.md), summed over a plan; the first is the total."""

BREAKDOWN_ATTR = "by_asset"
"""A target's own words for how its count splits (e.g. "BTC 10C/10P · SOL 10C/10P")."""

REASON_ATTRS: Mapping[State, tuple[tuple[str, str | None], ...]] = {
    State.STOPPED: (("stop_reason", "stopped_at"), ("system_reason", None), ("resolution", None)),
    State.PAUSED: (("pause_reason", "paused_at"), ("system_reason", None)),
}
"""Per state, the attributes (reason, since when) saying why a target is in it. Only the
reasons of the state the plan saw are shown: a stop reason never explains a pause."""


def _count(value: AttrValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: AttrValue) -> str | None:
    if not isinstance(value, str):
        return None
    return one_line(value, 200) or None


def count_line(counts: Mapping[str, int], breakdown: str | None = None) -> str:
    """``40 instruments (20 calls, 20 puts): BTC 10C/10P · SOL 10C/10P``; '' if no total."""
    (total_attr, one, many), *parts = COUNT_ATTRS
    total = counts.get(total_attr)
    if total is None:
        return ""
    line = f"{total} {one if total == 1 else many}"
    split = [f"{counts[a]} {o if counts[a] == 1 else m}" for a, o, m in parts if a in counts]
    if split:
        line += f" ({', '.join(split)})"
    return line + (f": {breakdown}" if breakdown else "")


def target_counts(target: Target) -> dict[str, int]:
    """The :data:`COUNT_ATTRS` ``target`` carries."""
    found = {a: _count(target.attrs.get(a)) for a, _one, _many in COUNT_ATTRS}
    return {a: n for a, n in found.items() if n is not None}


def target_facts(target: Target, state: State) -> tuple[str, ...]:
    """What a person needs to know about ``target`` before acting on it in ``state``:
    what it covers and why it is in that state (each an attribute it documents)."""
    facts: list[str] = []
    counts = count_line(target_counts(target), _text(target.attrs.get(BREAKDOWN_ATTR)))
    if counts:
        facts.append(counts)
    for reason_attr, since_attr in REASON_ATTRS.get(state, ()):
        reason = _text(target.attrs.get(reason_attr))
        if reason is None:
            continue
        since = _text(target.attrs.get(since_attr)) if since_attr else None
        why = f"why {state_word(state)}: {reason}"
        facts.append(why + (f" (since {since})" if since else ""))
    return tuple(facts)


def total_counts(targets: Iterable[Target]) -> dict[str, int]:
    """The :data:`COUNT_ATTRS` summed over the ``targets`` that carry them."""
    totals: dict[str, int] = {}
    for target in targets:
        for attr, n in target_counts(target).items():
            totals[attr] = totals.get(attr, 0) + n
    return totals


@dataclass(frozen=True)
class Excluded:
    """A target the operator pointed at that the plan leaves out, and why."""

    target: Target
    why: str


@dataclass(frozen=True)
class PlanDraft:
    """A plan frozen at key-press time, plus what the modal needs to present it."""

    plan: Plan
    kind: ActionKind
    options: tuple[OptionSpec, ...]
    accepts_reason: bool
    item_options: tuple[frozenset[str], ...]
    excluded: tuple[Excluded, ...] = ()
    hidden_by_filter: int = 0
    facts: tuple[tuple[str, ...], ...] = ()
    """Per item (same order as ``plan.items``): :func:`target_facts` at key-press time."""
    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """:func:`total_counts` over the plan's targets (empty when none carries counts)."""

    def facts_of(self, index: int) -> tuple[str, ...]:
        return self.facts[index] if index < len(self.facts) else ()

    def finalize(self, options: Mapping[str, OptionValue], reason: str | None) -> Plan:
        """The same targets, with the options and reason the operator chose."""
        reason = (reason or "").strip() or None
        items = []
        for item, allowed in zip(self.plan.items, self.item_options, strict=True):
            chosen = {k: v for k, v in options.items() if k in allowed}
            action = Action(self.kind, MappingProxyType(chosen), reason)
            items.append(replace(item, action=action))
        return replace(self.plan, items=tuple(items))


def _merge_options(specs: Sequence[ActionSpec]) -> tuple[OptionSpec, ...]:
    seen: dict[str, OptionSpec] = {}
    for spec in specs:
        for option in spec.options:
            seen.setdefault(option.name, option)
    return tuple(seen.values())


def held_words(targets: Sequence[Target], clients: Mapping[str, VenueView]) -> list[str]:
    """What the targets hold that their halt leaves (``VenueClient.held_by``), summed:
    ``it holds 4 open positions`` for one target, ``the 3 targets hold 9 open positions
    in all`` for more (the same words for each target are shown once above)."""
    totals: dict[str, tuple[int, int]] = {}
    for target in targets:
        client = clients.get(target.venue)
        add_held(totals, client.held_by(target) if client is not None else None)
    if len(targets) == 1:
        return [f"it holds {amount} {noun}" for noun, (_, amount) in totals.items()]
    return [f"the {count} targets holding them have {amount} {noun} in all"
            for noun, (count, amount) in totals.items()]  # fmt: skip


def _title(kind: ActionKind, targets: Sequence[Target], scope: str) -> str:
    verb = kind.value.capitalize()
    if len(targets) == 1:
        t = targets[0]
        return f"{verb} {noun(t.kind.value, 1)} {printable(t.name)} on {t.venue}"
    kinds = {t.kind.value for t in targets}
    what = noun(kinds.pop(), 2) if len(kinds) == 1 else "targets"
    where = "every row of the panel" if scope == "panel" else "the selection"
    return f"{verb} {len(targets)} {what} ({where})"


def build_draft(
    kind: ActionKind,
    targets: Sequence[Target],
    store: Store,
    clients: Mapping[str, VenueView],
    *,
    scope: str = "one",
    hidden: Callable[[Target], bool] = lambda _t: False,
    clock: Callable[[], float] | None = None,
) -> PlanDraft | list[Excluded]:
    """A draft for ``kind`` on ``targets``, or (when nothing qualifies) why not."""
    items: list[PlanItem] = []
    included: list[Target] = []
    specs: list[ActionSpec] = []
    item_options: list[frozenset[str]] = []
    facts: list[tuple[str, ...]] = []
    excluded: list[Excluded] = []
    stale: dict[str, bool] = {}  # asked once a venue (a selection of 25,000: once a row)
    for target in targets:
        venue_stale = stale.get(target.venue)
        if venue_stale is None:
            venue_stale = stale[target.venue] = store.is_stale(target.venue)
        state = store.effective_state(target, stale=venue_stale)
        client = clients.get(target.venue)
        if client is None:
            excluded.append(Excluded(target, f"venue {target.venue} is not in this profile"))
            continue
        offered = client.actions_for(target.with_state(state))
        spec = next((s for s in offered if s.kind is kind), None)
        if spec is None:
            others = ", ".join(s.kind.value for s in offered) or "nothing"
            why = f"{target.venue} offers no {kind.value} while {state_word(state)} (offers: {others})"
            excluded.append(Excluded(target, why))
            continue
        exposure = client.capabilities.exposure_attrs
        items.append(PlanItem.for_target(target, Action(kind), state, exposure))
        facts.append(target_facts(target, state))
        included.append(target)
        specs.append(spec)
        item_options.append(frozenset(o.name for o in spec.options))
    if not items:
        return excluded
    leaves: list[str] = []
    for spec in specs:
        if spec.leaves_behind and spec.leaves_behind not in leaves:
            leaves.append(spec.leaves_behind)
    leaves += held_words(included, clients)
    plan = Plan(tuple(items), _title(kind, included, scope), scope, tuple(leaves))
    plan = replace(plan, created_at=clock()) if clock else plan
    return PlanDraft(
        plan=plan,
        kind=kind,
        options=_merge_options(specs),
        accepts_reason=any(s.accepts_reason for s in specs),
        item_options=tuple(item_options),
        excluded=tuple(excluded),
        hidden_by_filter=sum(1 for t in included if hidden(t)),
        facts=tuple(facts),
        counts=MappingProxyType(total_counts(included)),
    )


def state_before_word(state: State) -> str:
    return state_word(state)
