"""Which targets a schedule, guard or the dead-man timer addresses.

A scope is a filter over the store: venue, kind, a name pattern, explicit ids and
attribute equalities; every field given must match. It names no vendor: what a rule
addresses is said in the shared vocabulary (``kind = "expiration"``, ``"engine"``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from console.automation.config import ScopeConfig
from console.core.kill import KillScope
from console.core.model import Target
from console.core.store import Store


def matches(scope: ScopeConfig, target: Target) -> bool:
    if scope.venue is not None and target.venue != scope.venue:
        return False
    if scope.kind is not None and target.kind is not scope.kind:
        return False
    if scope.ids is not None and target.id not in scope.ids:
        return False
    if scope.name is not None and not fnmatch.fnmatchcase(target.name.lower(), scope.name.lower()):
        return False
    for name, want in scope.attrs.items():
        have = target.attrs.get(name)
        if have != want and str(have) != str(want):
            return False
    return True


def select(scope: ScopeConfig, store: Store, venues: Iterable[str]) -> list[Target]:
    """The targets of ``scope`` the store holds now, for the given venues."""
    chosen = [scope.venue] if scope.venue is not None else list(venues)
    return [t for v in chosen for t in store.targets(v) if matches(scope, t)]


def is_everything(scope: ScopeConfig) -> bool:
    return scope == ScopeConfig() or (
        scope.venue is not None and scope == ScopeConfig(venue=scope.venue)
    )


def kill_scope(scope: ScopeConfig, store: Store, venues: Iterable[str]) -> KillScope:
    """The kill's own scope for ``scope``: a whole venue or everything when the filter is
    only that (so a venue that never listed is named unreachable, as a key press names
    it), else the selection of matching keys."""
    if is_everything(scope):
        return KillScope(venue=scope.venue)
    return KillScope(keys=frozenset(t.key for t in select(scope, store, venues)))


def describe(scope: ScopeConfig) -> str:
    parts = []
    if scope.kind is not None:
        parts.append(f"every {scope.kind.value}")
    if scope.name is not None:
        parts.append(f"named {scope.name}")
    if scope.ids is not None:
        parts.append(f"ids {', '.join(scope.ids)}")
    parts += [f"{k}={v}" for k, v in scope.attrs.items()]
    where = f"on {scope.venue}" if scope.venue else "on every venue"
    return " ".join([*(parts or ["every target"]), where])
