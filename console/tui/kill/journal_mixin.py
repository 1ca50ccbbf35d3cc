"""The journal on screen: the audit screen and the verification of interrupted calls.

Part of :class:`~console.tui.kill.mixin.KillMixin` (the app's one integration point),
kept apart because looking at the record is a different job from sending a kill.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from console.core.journal import Entry
from console.core.recovery import Verified, verify_interrupted
from console.core.session import Session
from console.tui.screens.audit import AuditScreen
from console.tui.screens.recovery import InterruptedScreen

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object


class JournalMixin(_Base):
    """``u`` opens the audit screen; interrupted calls are offered for verification."""

    session: Session
    clock: Callable[[], float]

    def action_audit(self) -> None:
        self.open_audit(None)

    def open_audit(self, batch_id: str | None) -> None:
        if isinstance(self.screen, AuditScreen):
            return
        self.push_screen(
            AuditScreen(
                self.session.journal,
                self.session.venues,
                clock=self.clock,
                verify=self.offer_verification,
                batch_id=batch_id,
            )
        )

    def offer_verification(self, *, at_start: bool = False) -> None:
        """Show the calls cut short and offer to verify them (at start: only if any)."""
        pending = self.session.journal.interrupted()
        if not pending:
            if not at_start:
                self.notify("No interrupted calls: every intent has its outcome.")
            return
        self.push_screen(InterruptedScreen(pending, self._verify_entries))

    async def _verify_entries(self, entries: list[Entry]) -> list[Verified]:
        return await verify_interrupted(self.session.journal, self.session.clients, entries)
