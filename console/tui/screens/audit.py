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
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, Static

from console.core.journal import Journal
from console.tui.format import Tones
from console.tui.kill.columns import fit, natural_widths
from console.tui.kill.kill_modal import CSS
from console.tui.screens.audit_rows import (
    FULL_TIME_WIDTH,
    OUTCOMES,
    SPECS,
    AuditFilter,
    cycle,
    entry_cells,
    query,
)
from console.tui.theme_follow import following_theme


def short_time(cells: tuple[Text | str, ...]) -> tuple[Text | str, ...]:
    """The row with its time as ``01-01T00:00:00.000`` (the year and the Z cut)."""
    first = str(cells[0])
    return (first[5:23] if len(first) >= 23 else first, *cells[1:])


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
        linked: Sequence[str] = (),
    ) -> None:
        super().__init__(classes="audit")
        self.journal = journal
        self.venues = list(venues)
        self.clock = clock
        self.verify = verify
        self.kill_batch = batch_id
        self.filter = AuditFilter(
            batch_id=batch_id, window="all" if batch_id else "24h", linked=tuple(linked)
        )
        self.operators: set[str] = set()
        self.interrupted_count = 0
        self.tones = Tones.monochrome()
        self._rows: list[tuple[str, tuple[Text | str, ...]]] = []
        self._laid_out: tuple[int, bool] | None = None

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
        self.tones = following_theme(self, self._retone)
        self.reload()
        self.query_one("#audit-table", DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._lay_out)  # once the table has its new size

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()  # a verification may have closed interrupted calls meanwhile

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        self.reload()

    def reload(self) -> None:
        interrupted = self.journal.interrupted()
        self.interrupted_count = len(interrupted)
        open_ops = {e.op_id for e in interrupted}
        rows, more = query(self.journal, self.filter, self.clock())
        if self.filter.operator is None and not self.filter.interrupted_only:
            self.operators |= {e.operator for e in rows}
        self._rows = [
            (str(entry.seq), entry_cells(entry, entry.op_id in open_ops, self.tones))
            for entry in rows
        ]
        self._laid_out = None
        self._lay_out()
        if more:
            line = Text(f"{self.filter.describe()} · newest {len(rows):,} shown, MORE match: "
                        "narrow (t v o c) or use `audit`")  # fmt: skip
        else:
            line = Text(f"{self.filter.describe()} · {len(rows)} rows, newest first")
        if self.interrupted_count:
            line.append("  ")
            line.append(f" {self.interrupted_count} INTERRUPTED ", self.tones.danger)
            line.append(" needs verification: e")
        self.query_one("#audit-filter", Static).update(line)
        self.refresh_bindings()

    def _lay_out(self) -> None:
        """Fill the table with the columns that fit (time, target, kind and result always)."""
        table = self.query_one("#audit-table", DataTable)
        width = max(
            20, (table.size.width or self.app.size.width - 2) - table.styles.scrollbar_size_vertical
        )
        short = self.app.size.width < FULL_TIME_WIDTH
        if self._laid_out == (width, short):
            return
        self._laid_out = (width, short)
        rows = [(key, short_time(cells) if short else cells) for key, cells in self._rows]
        widths = fit(SPECS, natural_widths(SPECS, (cells for _, cells in rows)), width)
        cursor = table.cursor_row
        table.clear(columns=True)
        for spec, w in zip(SPECS, widths, strict=True):
            if w is not None:
                table.add_column(spec.label, width=w, key=spec.label)
        for key, cells in rows:
            table.add_row(
                *(c for c, w in zip(cells, widths, strict=True) if w is not None), key=key
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

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
