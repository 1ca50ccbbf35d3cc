"""The audit screen: the journal, newest first, filtered by time, venue, operator, outcome.

It reads the same append-only journal the dispatcher writes (intents, outcomes,
verifications), so what it shows is what a regulator would get from
``trading-console audit``. Filters cycle with one key each; ``i`` shows only calls cut
short, marked *INTERRUPTED — needs verification*, and ``e`` offers to verify them.
The screen only looks: every key here is lower case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from console.core.journal import Journal
from console.tui.format import Tones
from console.tui.kill.audit_rows import COLUMNS, OUTCOMES, AuditFilter, cycle, entry_cells, query
from console.tui.kill.kill_modal import CSS


class AuditScreen(ModalScreen[None]):
    CSS_PATH: ClassVar[str] = str(CSS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "window", "Time", id="audit.window"),
        Binding("v", "venue", "Venue", id="audit.venue"),
        Binding("o", "operator", "Operator", id="audit.operator"),
        Binding("c", "outcome", "Outcome", id="audit.outcome"),
        Binding("b", "batch", "This kill/all", id="audit.batch"),
        Binding("i", "interrupted", "Interrupted", id="audit.interrupted"),
        Binding("e", "verify", "Verify interrupted", id="audit.verify"),
        Binding("r", "reload", "Reload", id="audit.reload", show=False),
        Binding("escape,q", "close", "Close", id="audit.close"),
    ]

    def __init__(
        self,
        journal: Journal,
        venues: Sequence[str],
        *,
        clock: Callable[[], float],
        verify: Callable[[], None],
        batch_id: str | None = None,
    ) -> None:
        super().__init__(classes="audit")
        self.journal = journal
        self.venues = list(venues)
        self.clock = clock
        self.verify = verify
        self.kill_batch = batch_id
        self.filter = AuditFilter(batch_id=batch_id, window="all" if batch_id else "24h")
        self.operators: set[str] = set()
        self.interrupted_count = 0
        self.tones = Tones.monochrome()

    def compose(self) -> ComposeResult:
        with Vertical(id="audit-dialog"):
            yield Label(
                Text(" JOURNAL ", "reverse bold")
                + Text(" every control call: intent, outcome, verification — append-only"),
                id="audit-title",
            )
            yield Static(id="audit-filter")
            yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.tones = Tones.from_theme(self.app.theme_variables)
        table = self.query_one("#audit-table", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()  # a verification may have closed interrupted calls meanwhile

    def reload(self) -> None:
        interrupted = self.journal.interrupted()
        self.interrupted_count = len(interrupted)
        open_ops = {e.op_id for e in interrupted}
        rows = query(self.journal, self.filter, self.clock())
        if self.filter.operator is None and not self.filter.interrupted_only:
            self.operators |= {e.operator for e in rows}
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for entry in rows:
            table.add_row(
                *entry_cells(entry, entry.op_id in open_ops, self.tones), key=str(entry.seq)
            )
        line = Text(f"{self.filter.describe()} · {len(rows)} rows, newest first")
        if self.interrupted_count:
            line.append("  ")
            line.append(f" {self.interrupted_count} INTERRUPTED ", self.tones.danger)
            line.append(" needs verification: e")
        self.query_one("#audit-filter", Static).update(line)
        self.refresh_bindings()

    def _set(self, new: AuditFilter) -> None:
        self.filter = new
        self.reload()

    # ----- keys -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "batch":
            return self.kill_batch is not None
        if action == "verify":
            return self.interrupted_count > 0
        return True

    def action_window(self) -> None:
        self._set(self.filter.next_window())

    def action_venue(self) -> None:
        self._set(replace(self.filter, venue=cycle([None, *self.venues], self.filter.venue)))

    def action_operator(self) -> None:
        known = [None, *sorted(self.operators)]
        self._set(replace(self.filter, operator=cycle(known, self.filter.operator)))

    def action_outcome(self) -> None:
        self._set(replace(self.filter, outcome=cycle(OUTCOMES, self.filter.outcome)))

    def action_batch(self) -> None:
        batch = None if self.filter.batch_id else self.kill_batch
        self._set(replace(self.filter, batch_id=batch))

    def action_interrupted(self) -> None:
        self._set(replace(self.filter, interrupted_only=not self.filter.interrupted_only))

    def action_verify(self) -> None:
        self.verify()

    def action_reload(self) -> None:
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
