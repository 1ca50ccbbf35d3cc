"""The journal on screen: the audit screen and the verification of interrupted calls.

Kept apart from the kill because looking at the record is a different job from sending
a kill: the journal is read from the state source, and the re-read of a call cut short
goes through the control port (it is journaled like every verification).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App

from console.core.journal_rows import Entry
from console.core.ports import ControlPort, StateSource
from console.core.recovery import Verified
from console.tui.screens.audit import AuditScreen
from console.tui.screens.recovery import InterruptedScreen


class AuditController:
    """``u`` opens the audit screen; interrupted calls are offered for verification."""

    def __init__(
        self,
        app: App[None],
        state: StateSource,
        control: ControlPort,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.app = app
        self.state = state
        self.control = control
        self.clock = clock

    def open(self, batch_id: str | None = None) -> None:
        """The audit screen (of one batch, e.g. the kill's, or of the whole journal)."""
        if isinstance(self.app.screen, AuditScreen):
            return
        self.app.push_screen(
            AuditScreen(
                self.state.journal,
                self.state.venues,
                clock=self.clock,
                verify=self.offer_verification,
                batch_id=batch_id,
            )
        )

    def offer_verification(self, *, at_start: bool = False) -> None:
        """Show the calls cut short and offer to verify them (at start: only if any)."""
        pending = self.state.journal.interrupted()
        if not pending:
            if not at_start:
                self.app.notify("No interrupted calls: every intent has its outcome.")
            return
        self.app.push_screen(InterruptedScreen(pending, self._verify_entries))

    async def _verify_entries(self, entries: list[Entry]) -> list[Verified]:
        return await self.control.verify_interrupted(entries)
