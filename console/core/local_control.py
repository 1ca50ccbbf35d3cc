"""The local session's control port: the console's keys reach this process's dispatcher.

:class:`~console.core.ports.ControlPort` is what the screen asks for (run a plan, plan
a kill, re-verify, the journal's state); here it is answered by the session's own
dispatcher, store, venue clients and journal. A desk service shared by many consoles
would answer the same questions over the network; the screen would not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from console.core.journal_rows import Entry
from console.core.kill import KillPlan, KillScope, plan_from_store
from console.core.kill_lock import KillLock, kill_lock_for
from console.core.plan import ItemResult, Plan, Report, ResultCallback
from console.core.recovery import Verified, verify_interrupted
from console.core.reverify import Recheck, latest_intents, reverify

if TYPE_CHECKING:
    from console.core.session import Session


class LocalControl:
    """:class:`~console.core.ports.ControlPort` over one :class:`Session` in this process."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def running(self) -> Report | None:
        return self.session.dispatcher.running

    @property
    def busy(self) -> bool:
        return self.session.dispatcher.busy

    async def dispatch(
        self, plan: Plan, on_result: ResultCallback | None = None, *, batch_id: str | None = None
    ) -> Report:
        return await self.session.dispatcher.run(plan, on_result, batch_id=batch_id)

    def plan_kill(self, scope: KillScope, *, clear_leaves_behind: bool) -> KillPlan:
        session = self.session
        return plan_from_store(
            session.store, session.clients, scope, clear_leaves_behind=clear_leaves_behind
        )

    def kill_lock(self) -> KillLock | None:
        journal = self.session.journal
        return kill_lock_for(getattr(journal, "path", ":memory:"), self.session.options.profile)

    async def reverify(
        self, venue: str, doubtful: Sequence[ItemResult], batch_ids: Sequence[str], *, at: float
    ) -> Recheck:
        intents = latest_intents(self.session.journal, batch_ids, venue)
        return await reverify(self.session.dispatcher, venue, doubtful, intents, at=at)

    async def verify_interrupted(self, entries: list[Entry]) -> list[Verified]:
        """Bounded as a plan's re-read is (the verify deadline): a venue that never
        answers leaves its intents open, and says so, instead of holding the caller (a
        console's `v`, a hub starting after a takeover)."""
        return await verify_interrupted(
            self.session.journal, self.session.clients, entries,
            timeout_s=self.session.dispatcher.verify_deadline_s,
        )  # fmt: skip

    def journal_refusal(self) -> str | None:
        journal = self.session.journal
        if not getattr(journal, "failed", None):
            return None
        try:
            journal.require_ok()
        except Exception as exc:
            return str(exc)
        return None

    def refused_now(self) -> Mapping[str, int]:
        return self.session.dispatcher.refused_now()

    def journal_failure(self) -> str | None:
        journal = self.session.journal
        failed = getattr(journal, "failed", None)
        if not failed:
            return None
        where = getattr(journal, "fallback_path", None) or "standard error"
        return f"{failed}; this kill is recorded in {where}"

    def chain_head(self) -> str | None:
        try:
            return self.session.journal.chain_head() or ""
        except Exception:
            return None
