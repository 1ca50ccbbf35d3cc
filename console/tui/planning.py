"""From rows on screen to a frozen plan: what exactly a confirmation will hit.

A draft is built the instant the key is pressed, from the targets under the cursor or in
the selection, their *effective* state (UNKNOWN when stale) and the actions their venue
offers on them. It never changes afterwards: live updates reach the screen, not an open
modal. Only the operator's choices in the modal (options, reason) are applied on
confirmation, by :meth:`PlanDraft.finalize`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from console.core.dispatcher import Plan, PlanItem
from console.core.model import (
    Action,
    ActionKind,
    ActionSpec,
    OptionSpec,
    OptionValue,
    State,
    Target,
)
from console.core.scrub import printable
from console.core.store import Store
from console.tui.format import state_word
from console.venues.base import VenueClient

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
    clients: Mapping[str, VenueClient],
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
    excluded: list[Excluded] = []
    for target in targets:
        state = store.effective_state(target)
        client = clients.get(target.venue)
        if client is None:
            excluded.append(Excluded(target, f"venue {target.venue} is not in this profile"))
            continue
        offered = client.actions_for(replace(target, state=state))
        spec = next((s for s in offered if s.kind is kind), None)
        if spec is None:
            others = ", ".join(s.kind.value for s in offered) or "nothing"
            why = f"{target.venue} offers no {kind.value} while {state_word(state)} (offers: {others})"
            excluded.append(Excluded(target, why))
            continue
        items.append(PlanItem.for_target(target, Action(kind), state))
        included.append(target)
        specs.append(spec)
        item_options.append(frozenset(o.name for o in spec.options))
    if not items:
        return excluded
    leaves: list[str] = []
    for spec in specs:
        if spec.leaves_behind and spec.leaves_behind not in leaves:
            leaves.append(spec.leaves_behind)
    kwargs = {"created_at": clock()} if clock else {}
    plan = Plan(tuple(items), _title(kind, included, scope), scope, tuple(leaves), **kwargs)
    return PlanDraft(
        plan=plan,
        kind=kind,
        options=_merge_options(specs),
        accepts_reason=any(s.accepts_reason for s in specs),
        item_options=tuple(item_options),
        excluded=tuple(excluded),
        hidden_by_filter=sum(1 for t in included if hidden(t)),
    )


def state_before_word(state: State) -> str:
    return state_word(state)
