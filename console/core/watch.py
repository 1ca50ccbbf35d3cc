"""The sticky watch: after a kill, anything that comes back to life is caught.

For ``minutes`` after an emergency stop, every target the kill halted is watched; one
that reads RUNNING again (an operator elsewhere, a scheduler, a vendor auto-restart) is
flagged once, for the screen to show and ring the bell, and for the report. With
``auto_restop`` (off by default, a profile setting) the caller re-stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from console.core.model import State, Target
from console.core.plan import Report
from console.core.store import Store


@dataclass(frozen=True, slots=True)
class Revival:
    target: Target
    seen_at: float


@dataclass
class StickyWatch:
    store: Store
    keys: frozenset[tuple[str, str]]
    until: float
    auto_restop: bool = False
    clock: Callable[[], float] = time.time
    revivals: list[Revival] = field(default_factory=list)
    _flagged: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def after(
        cls, report: Report, store: Store, *, minutes: float, auto_restop: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> StickyWatch:  # fmt: skip
        halted = frozenset(key for key, r in report.results.items() if r.verified)
        return cls(store, halted, clock() + minutes * 60, auto_restop, clock)

    @property
    def active(self) -> bool:
        return self.clock() < self.until

    def remaining_s(self) -> float:
        return max(0.0, self.until - self.clock())

    def check(self, changed: Iterable[tuple[str, str]] | None = None) -> list[Revival]:
        """New revivals among ``changed`` keys (all watched keys when None)."""
        if not self.active:
            return []
        keys = self.keys if changed is None else self.keys.intersection(changed)
        found = []
        for key in keys:
            if key in self._flagged:
                continue
            target = self.store.get(*key)
            if target is not None and self.store.effective_state(target) is State.RUNNING:
                revival = Revival(target, self.clock())
                self._flagged.add(key)
                self.revivals.append(revival)
                found.append(revival)
        return found

    def rearm(self, key: tuple[str, str]) -> None:
        """Watch ``key`` again after it was re-stopped."""
        self._flagged.discard(key)
