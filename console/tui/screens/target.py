"""The detail screen of one target (Enter on a row; Esc or q goes back), as k9s describes.

Everything the console knows of the target on one screen: the panel's own summary
line, every attribute the venue gave (in full: nothing cut to a column width), how the
state is known, its P&L trail from the store, and its journal history (intents,
outcomes, re-reads) newest first. It only looks: control keys are not bound here (a plan
is built from the panel's cursor row or selection, which this screen would hide), so
the operator goes back to the panel to act; K, the kill-all, works everywhere.

The target is re-read from the store every second (its state and attributes stay live);
the journal is read when the screen opens or comes back (a kill from here, ``r``).
Vendor words are made printable and never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.core.model import Target
from console.core.store import Store
from console.tui.format import (
    Tones,
    fmt_age,
    fmt_datetime,
    fmt_money,
    fmt_value,
    one_line,
    printable_text,
    sparkline,
    state_word,
)
from console.tui.screens.audit_rows import COLUMNS as AUDIT_COLUMNS
from console.tui.screens.audit_rows import entry_cells
from console.tui.theme_follow import following_theme

HISTORY_LIMIT = 200
"""Journal rows shown at most (the newest); ``trading-console audit`` has them all."""

HISTORY_COLUMNS = ("Time (UTC)", "Action", "Kind", "Result", "HTTP", "ms", "Operator", "Message")


def target_history(
    journal: Journal, venue: str, target_id: str, *, limit: int = HISTORY_LIMIT + 1
) -> list[Entry]:
    """The target's newest journal rows, newest first: selected by the journal's target
    index and limited there, never the venue's whole history read onto the screen's loop."""
    return list(reversed(journal.entries(venue=venue, target_id=target_id, limit=limit)))


def attributes_table(target: Target, store: Store, now: float, tones: Tones) -> Table:
    """Every attribute, one a line: the target's fields first, then the venue's ``attrs``."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    effective = store.effective_state(target)
    stale = store.is_stale(target.venue)
    confirmed = store.confirmed_at(target)
    status = Text(f" {(target.raw_status or state_word(target.state)).upper()} ")
    status.stylize(tones.for_state(effective))
    rows: list[tuple[str, Text | str]] = [
        ("venue", target.venue),
        ("kind", target.kind.value),
        ("id", target.id),
        ("name", target.name),
        ("status (venue's word)", status),
        (
            "state",
            state_word(effective) + (" (data stale: last word not vouched for)" if stale else ""),
        ),
        (
            "confirmed",
            f"{fmt_datetime(confirmed)} ({fmt_age(max(0.0, now - confirmed))} ago)",
        ),
    ]
    known = store.known(target.venue, target.id)
    if known is not None:
        rows.append(
            ("known from journal", f"{state_word(known.state)} {known.set_at} by {known.set_by}")
        )
    for name in sorted(target.attrs):
        rows.append((name, one_line(fmt_value(target.attrs[name]), 2000)))
    for name, value in rows:
        table.add_row(
            printable_text(Text(name)),
            printable_text(value if isinstance(value, Text) else Text(value)),
        )
    return table


def trend_lines(trail: Sequence[float], tones: Tones) -> Text:
    """The whole P&L trail: bars, the latest change, range, and every value (oldest first)."""
    if not trail:
        return Text("no P&L samples for this target yet (the trail starts with the console)", "dim")
    text = Text()
    if len(trail) >= 2:
        change = trail[-1] - trail[-2]
        arrow = "▲" if change > 0 else "▼"
        text.append(
            f"{sparkline(list(trail), floor=None)} {arrow} {change:+,.2f}",
            tones.gain if change > 0 else tones.loss,
        )
        text.append(f" · low {fmt_money(min(trail))} · high {fmt_money(max(trail))}\n")
    text.append(f"{len(trail)} sample{'s' if len(trail) != 1 else ''}, oldest first: ")
    text.append(" → ".join(fmt_money(v) for v in trail))
    return text


def history_table(entries: Sequence[Entry], open_ops: set[str], tones: Tones) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for column in HISTORY_COLUMNS:
        table.add_column(column, overflow="fold", no_wrap=column != "Message")
    for entry in entries[:HISTORY_LIMIT]:
        # The audit screen's cells, by column name, less the venue and target (one target).
        cells = entry_cells(entry, entry.op_id in open_ops, tones)
        by_name = dict(zip(AUDIT_COLUMNS, cells, strict=True))
        table.add_row(*(by_name[column] for column in HISTORY_COLUMNS))
    return table


class TargetScreen(ModalScreen[None]):
    """One target in full. Esc or q: back to the panel; y copies the id; r re-reads."""

    DEFAULT_CSS = """
    TargetScreen {
        background: $background;
    }
    #target-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    #target-body {
        height: 1fr;
        padding: 0 1;
    }
    .target-section {
        margin: 1 0 0 0;
        text-style: bold underline;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="target.close"),
        Binding("y", "copy_id", "Copy id", id="target.copy_id"),
        Binding("r", "reload", "Re-read journal", id="target.reload"),
        Binding("g,home", "top", "Top", id="target.top", show=False),
        Binding("G,end", "bottom", "Bottom", id="target.bottom", show=False),
    ]

    def __init__(
        self,
        target: Target,
        store: Store,
        journal: Journal,
        *,
        clock: Callable[[], float],
        summary: Callable[[Target], Text],
        copy_id: Callable[[Target], None],
    ) -> None:
        super().__init__(classes="target")
        self.target = target
        self.store = store
        self.journal = journal
        self.clock = clock
        self.summary = summary
        self.copy_target_id = copy_id
        self.tones = Tones.monochrome()
        self.history: list[Entry] = []
        self.open_ops: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="target-title")
        with VerticalScroll(id="target-body"):
            yield Static(id="target-summary")
            yield Static("Attributes", classes="target-section")
            yield Static(id="target-attrs")
            yield Static("P&L trend", classes="target-section")
            yield Static(id="target-trend")
            yield Static(id="target-history-title", classes="target-section")
            yield Static(id="target-history")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)
        try:
            self.reload()
        except NoMatches:  # a quit took the screen down before it finished mounting:
            return  # nothing to show (a loaded suite saw a traceback at quit here)
        self.set_interval(1.0, self.refresh_target, name="target")
        self.query_one("#target-body", VerticalScroll).focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            try:
                self.reload()
            except NoMatches:  # resumed before its children were mounted (a key burst,
                return  # a loaded suite): on_mount loads it once they are

    @property
    def key(self) -> tuple[str, str]:
        return self.target.key

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        self.reload()

    def reload(self) -> None:
        self.history = target_history(self.journal, self.target.venue, self.target.id)
        self.open_ops = {e.op_id for e in self.journal.interrupted()}
        count = len(self.history)  # at most one past the limit: "more than" is all we know
        if count > HISTORY_LIMIT:
            title = f"Journal history (more than {HISTORY_LIMIT} rows, newest first"
            title += f"; the newest {HISTORY_LIMIT} shown, all in `trading-console audit`"
        else:
            title = f"Journal history ({count} row{'s' if count != 1 else ''}, newest first"
        self.query_one("#target-history-title", Static).update(Text(title + ")"))
        body: Table | Text = (
            history_table(self.history, self.open_ops, self.tones)
            if self.history
            else Text("nothing journaled for this target in this profile", "dim")
        )
        self.query_one("#target-history", Static).update(body)
        self.refresh_target()

    def refresh_target(self) -> None:
        now = self.clock()
        current = self.store.get(*self.key)
        gone = current is None
        if current is not None:
            self.target = current
        target = self.target
        title = Text()
        title.append(" DETAIL ", "reverse bold")
        title.append(f" {target.venue} / {target.name} ")
        if gone:
            title.append(" GONE from the venue's list: last known values ", self.tones.danger)
        self.query_one("#target-title", Static).update(printable_text(title))
        self.query_one("#target-summary", Static).update(printable_text(self.summary(target)))
        self.query_one("#target-attrs", Static).update(
            Group(attributes_table(target, self.store, now, self.tones))
        )
        trail = self.store.pnl_history(*self.key)
        self.query_one("#target-trend", Static).update(trend_lines(tuple(trail), self.tones))

    # ----- keys -----------------------------------------------------------------------
    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_id(self) -> None:
        self.copy_target_id(self.target)

    def action_reload(self) -> None:
        self.reload()

    def action_top(self) -> None:
        self.query_one("#target-body", VerticalScroll).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#target-body", VerticalScroll).scroll_end(animate=False)
