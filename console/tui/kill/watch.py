"""The sticky watch on screen: after a kill, anything that comes back is caught.

Core's :class:`~console.core.watch.StickyWatch` finds targets the kill verified halted
that read RUNNING again. This keeper feeds it from the store, records each revival in
the kill's report, and — only when the profile turns ``auto_restop`` on — queues a
re-stop that the app sends through the same dispatcher (journaled) once it is free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from console.core.model import State
from console.core.plan import Plan, PlanItem, Report
from console.core.ports import VenueView
from console.core.store import Store
from console.core.watch import Revival, StickyWatch
from console.tui.kill.run import KillRun

RESTOP_TITLE = "Re-stop after a revival (sticky watch, auto re-stop on)"


class WatchKeeper:
    def __init__(
        self,
        run: KillRun,
        store: Store,
        *,
        minutes: float,
        auto_restop: bool,
        clock: Callable[[], float],
    ) -> None:
        self.run = run
        self.watch = StickyWatch.after(
            run.merged(), store, minutes=minutes, auto_restop=auto_restop, clock=clock
        )
        self.store = store
        self.pending: list[Revival] = []

    @property
    def active(self) -> bool:
        return self.watch.active

    def remaining_s(self) -> float:
        return self.watch.remaining_s()

    def include_verified(self, rearm: Iterable[tuple[str, str]] = ()) -> None:
        """After a retry or a re-verification: watch the targets it verified too, and
        watch again the revived ones it re-stopped (``rearm``)."""
        verified = {key for key, r in self.run.results.items() if r.verified}
        self.watch.keys = self.watch.keys | frozenset(verified)
        for key in rearm:
            self.watch.rearm(key)

    def check(self) -> list[Revival]:
        """New revivals since the last check (each target flagged once until re-stopped)."""
        found = self.watch.check(None)
        self.run.revive(found)
        if self.watch.auto_restop:
            self.pending.extend(found)
        return found

    def restop_plan(self, clients: Mapping[str, VenueView]) -> Plan | None:
        """A plan halting the queued revivals again (the kill's own action per target)."""
        items = []
        for revival in self.pending:
            target = self.store.get(*revival.target.key) or revival.target
            client = clients.get(target.venue)
            if client is None:
                continue
            action = client.kill_action(target, clear_leaves_behind=self.run.clear_leaves_behind)
            if action is not None:
                exposure = client.capabilities.exposure_attrs
                items.append(PlanItem.for_target(target, action, State.RUNNING, exposure))
        self.pending = []
        if not items:
            return None
        return Plan(tuple(items), RESTOP_TITLE, "kill")

    def restopped(self, report: Report) -> None:
        """Record the re-stops; a verified one is watched again."""
        for key, result in report.results.items():
            if self.run.settle_restop(key, result):
                self.watch.rearm(key)
