"""A panel: one kind of target in a keyed table that is sorted, filtered and selectable.

The app hands each panel the keys the store reports as changed; the panel's
:class:`~console.tui.panels.rows.RowModel` redraws only those rows, and only while the
panel is on screen: a hidden panel just remembers which keys are dirty. The row under the
cursor stays under the cursor whatever moves around it, so a key press always hits the
row the operator is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Input, TabbedContent, TabPane

from console.core.model import ActionKind, Target, TargetKind
from console.core.ports import FeedStatus
from console.core.store import Store
from console.tui.focus import hand_on
from console.tui.format import Tones, printable_text
from console.tui.panels.columns import STATE_KEYS, Column, RowContext, fit_widths
from console.tui.panels.freshness import ViewFacts, freshness_line
from console.tui.panels.rows import Key, RowModel, row_key
from console.tui.panels.table import TargetTable
from console.tui.panels.tally import Tally
from console.tui.widgets.live_static import LiveStatic

FILTER_NOW_BELOW = 2000
"""Filter as each key is typed below this many rows; above, on the next tick (coalesced)."""
SCROLLBAR = 2
"""Room kept for the table's vertical scrollbar when columns are fitted."""
DOWN_MARK = 5
"""Extra width of the state column while a venue is down: `` 12s?`` after the word."""


class FilterBox(Input):
    """The filter box: Enter hands focus back to the table at once, and keys that reached
    it after focus left go on to the table (:mod:`console.tui.focus`)."""

    async def on_key(self, event: events.Key) -> None:
        if hand_on(self, event):
            return
        if event.key == "enter":  # here, not once the key is back up at the app: the
            event.prevent_default()  # keys queued behind it must find focus moved
            event.stop()
            await self.action_submit()

    async def action_submit(self) -> None:
        parent = self.parent
        if parent is not None:
            self.screen.set_focus(parent.query_one(TargetTable))
        await super().action_submit()


class TargetPanel(Vertical):
    """Base of the five panels; subclasses declare columns and the detail line."""

    KIND: ClassVar[TargetKind]
    TITLE: ClassVar[str]
    SHORT: ClassVar[str]
    ACTIONS: ClassVar[tuple[ActionKind, ...]]
    DEFAULT_SORT: ClassVar[str] = "name"

    def __init__(
        self,
        store: Store,
        venues: Sequence[str],
        *,
        session_started: float,
        clock: Callable[[], float],
    ) -> None:
        super().__init__(classes="panel")
        self.store = store
        self.clock = clock
        self.number = 0  # position in the tab strip, set by the app
        self.venues = list(venues)
        self.session_started = session_started
        self.tones = Tones.monochrome()
        self.columns = self.build_columns()
        self._by_key = {c.key: c for c in self.columns}
        self.rows = RowModel(
            store, self.KIND, self.columns, self.context, self.search_text, self.DEFAULT_SORT
        )
        self._stale: dict[str, bool] = {}
        self._down: dict[str, bool] = {}
        self.tally = Tally(store, self.KIND)
        self._ready = False
        self.any_stale = False

    # ----- subclass hooks -----------------------------------------------------------
    def build_columns(self) -> list[Column]:
        raise NotImplementedError

    def detail(self, target: Target, ctx: RowContext) -> Text:
        """One or two lines about the cursor row, with what the table had to cut."""
        return Text(f"{target.name} · {target.venue} · id {target.id}")

    def search_text(self, target: Target) -> str:
        values = [target.name, target.id, target.raw_status, target.state.value]
        for value in target.attrs.values():
            if isinstance(value, str):
                values.append(value)
            elif isinstance(value, tuple):
                values.extend(value)
        return " ".join(values).lower()

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def on_targets_changed(self) -> None:
        """Called after a flush that changed rows (for gauges and banners)."""

    # ----- composition ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield LiveStatic(id="freshness", classes="freshness")
        box = FilterBox(
            placeholder="filter: words in any column (enter: keep, esc: clear)",
            id="filter",
            classes="filter",
            compact=True,
        )
        box.display = False  # shown by /, so it never takes focus (or keys) unseen
        yield box
        yield from self.compose_extra()
        yield TargetTable(id="table", on_toggle=self.toggle_row)
        yield LiveStatic(id="detail", classes="detail")

    def on_mount(self) -> None:
        self.tones = Tones.from_theme(self.app.theme_variables)
        table = self.table
        for column in self.columns:
            table.add_column(self._label(column), width=column.width, key=column.key)
        self._ready = True
        self.fit_columns()

    def on_target_table_resized(self, event: TargetTable.Resized) -> None:
        event.stop()
        self.fit_columns()

    def fit_columns(self) -> None:
        """Give the columns the room the table has (:func:`fit_widths`): numbers as wide
        as their widest value, names and other text growing with the terminal. Only a
        width that changed costs anything (the table's caches are dropped then)."""
        table = self.table
        if not self._ready or table.size.width <= 0:
            return
        self.rows.widest.changed = False
        widths = fit_widths(
            self.columns, self.rows.widest, table.size.width - SCROLLBAR, table.cell_padding
        )
        down = any(self._down.values())
        changed = False
        for column, width in zip(self.columns, widths, strict=True):
            if down and column.key in STATE_KEYS:
                width += DOWN_MARK
            shown = table.columns[column.key]
            if shown.width != width:
                shown.width = width
                changed = True
        if changed:
            table.refit()

    @property
    def table(self) -> TargetTable:
        return self.query_one(TargetTable)

    @property
    def targets(self) -> dict[str, Target]:
        return self.rows.targets

    @property
    def selected(self) -> set[str]:
        return self.rows.selected

    @property
    def filter_text(self) -> str:
        return self.rows.filter_text

    @property
    def sort_column(self) -> str:
        return self.rows.sort_column

    def _label(self, column: Column) -> Text:
        if column.key != self.rows.sort_column:
            return Text(column.label)
        return Text(column.label + (" ▼" if self.rows.sort_reverse else " ▲"), style="bold")

    # ----- data -----------------------------------------------------------------------
    def context(self, target: Target, now: float) -> RowContext:
        venue = target.venue
        stale = self._stale.get(venue)  # as of this tick's flush (asked once a venue, not
        return RowContext(  # once a row: sorting 25,000 rows built each one's context)
            now,
            self.store.effective_state(target, stale=stale),
            bool(stale),
            self.tones,
            self.store.known(venue, target.id),
            self.session_started,
            self.store.pnl_history(venue, target.id),
            self._down_age(target, now) if self._down.get(venue) else None,
        )

    def _down_age(self, target: Target, now: float) -> float | None:
        """How old a row's word is while its venue is DOWN: the venue's age, or the
        row's own when the venue last vouched for it longer ago. A read in part (a page
        that failed, one 55-tech key's status) keeps the venue's age low while the rows
        it could not read keep their last word: each said "2s?" of a state a minute old."""
        venue_age = self.store.age(target.venue)
        own = now - self.store.confirmed_at(target)
        return own if venue_age is None or own > venue_age else venue_age

    def note_changes(self, changed: Iterable[Key], removed: Iterable[Key]) -> None:
        changed = tuple(changed)
        removed = tuple(removed)
        for venue, _ in changed:
            if venue not in self.venues:
                self.venues.append(venue)
        self.rows.note(changed, removed)
        self.tally.note(changed, removed)

    def _check_staleness(self, *, second_changed: bool = False) -> bool:
        """A venue going stale (or fresh again), or its feed going down (or back up),
        changes every one of its rows' state cells. While a feed is down the rows on
        screen are redrawn each second, so their age mark counts up (rows scrolled to
        later show the age they were drawn with until the next second). True when a
        venue's down mark came or went (the state column's width follows)."""
        aged: set[str] = set()
        flipped = False
        for venue in self.venues:
            stale = self.store.is_stale(venue)
            down = not stale and self.store.venue_health(venue).status is FeedStatus.DOWN
            before, was_down = self._stale.get(venue), self._down.get(venue)
            self._stale[venue] = stale
            self._down[venue] = down
            if (before is not None and before != stale) or (
                was_down is not None and was_down != down
            ):
                self.rows.note((venue, t.id) for t in self.store.targets(venue))
                flipped = flipped or was_down != down
            elif down and second_changed:
                aged.add(venue)
        if aged:
            targets = self.rows.targets
            on_screen = (targets.get(k) for k in self.rows.keys_on_screen(self.table))
            self.rows.note(t.key for t in on_screen if t is not None and t.venue in aged)
        return flipped

    def flush(self, now: float, *, second_changed: bool) -> None:
        """Apply what changed since the last flush (bounded; visible rows first)."""
        if not self._ready:
            return
        down_flipped = self._check_staleness(second_changed=second_changed)
        if self.rows.flush(self.table, now, second_changed=second_changed):
            self.on_targets_changed()
        if down_flipped or self.rows.widest.changed:
            self.fit_columns()
        self.refresh_detail(now)
        self.refresh_freshness()

    # ----- what the operator does -----------------------------------------------------
    def cycle_sort(self, *, reverse_only: bool = False) -> str:
        keys = [c.key for c in self.columns[1:]]
        if reverse_only:
            self.rows.set_sort(self.rows.sort_column, not self.rows.sort_reverse)
        else:
            self.rows.set_sort(keys[(keys.index(self.rows.sort_column) + 1) % len(keys)], False)
        for column in self.columns:
            self.table.set_label(column.key, self._label(column))
        self.rows.sort(self.table)
        self.refresh_freshness()
        return self._by_key[self.rows.sort_column].label

    def select_shown(self) -> None:
        self.rows.select_shown(self.table)
        self.refresh_freshness()

    def clear_selection(self) -> bool:
        cleared = self.rows.clear_selection(self.table)
        self.refresh_freshness()
        return cleared

    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.screen.set_focus(box)  # now, not after a refresh: the next key is typed into it

    def clear(self) -> None:
        """Esc: leave the filter box, else drop the selection, else drop the filter."""
        box = self.query_one("#filter", Input)
        if box.has_focus or (not self.rows.selected and self.rows.filter_text):
            box.value = ""
            box.display = False
            self.screen.set_focus(self.table)
            self.set_filter("", now=True)
        else:
            self.clear_selection()

    def set_filter(self, text: str, *, now: bool) -> None:
        if self.rows.set_filter(text) and (now or len(self.targets) < FILTER_NOW_BELOW):
            self.flush(self.clock(), second_changed=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.set_filter(event.value.strip(), now=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.set_filter(event.value.strip(), now=True)
            event.input.display = bool(event.value.strip())  # FilterBox moved focus already

    def toggle_row(self, key: str) -> None:
        """Space on the row ``key`` (the table's cursor row when space was pressed)."""
        if key in self.rows.targets:
            self.rows.toggle(self.table, key)
            self.refresh_freshness()

    def on_target_table_row_highlighted(self, event: TargetTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_detail(self.clock())

    def is_hidden(self, target: Target) -> bool:
        return self.rows.is_hidden(target)

    def cursor_target(self) -> Target | None:
        key = self.table.cursor_key
        return self.targets.get(key) if key else None

    def action_targets(self) -> tuple[list[Target], str]:
        return self.rows.action_targets(self.table.cursor_key)

    # ----- the lines around the table ------------------------------------------------
    def refresh_tab_label(self) -> None:
        """``2 Algos !`` when stale, so the tab strip warns about panels not on screen.

        The label keeps its width (a space stands in for the mark) so the tab strip never
        reflows while data comes and goes.
        """
        stale = any(self.store.is_stale(v) for v in self.venues)
        label = f"{self.number} {self.SHORT} " + ("!" if stale else " ")
        try:
            tab = self.query_ancestor(TabbedContent).get_tab(self.query_ancestor(TabPane))
        except NoMatches:  # the tab strip is still being mounted
            return
        if str(tab.label) != label:
            tab.label = label

    def refresh_freshness(self) -> None:
        rows = self.rows
        facts = ViewFacts(
            len(rows.targets),
            len(rows.shown),
            len(rows.selected),
            self._sort_label(),
            rows.filter_text,
        )
        line, stale, alert = freshness_line(self.store, self.venues, facts, self.tones)
        self.any_stale = stale
        # On the two widgets they restyle, not the panel: a class change re-applies the
        # stylesheet to the node and everything under it (each venue's first data flips
        # both; on the panel that cost ~10 ms each, on the way to the first paint).
        self.table.set_class(stale, "-stale")
        freshness = self.query_one("#freshness", LiveStatic)
        freshness.set_class(alert, "-alert")
        freshness.show(line)

    def _sort_label(self) -> str:
        arrow = " ▼" if self.rows.sort_reverse else " ▲"
        return self._by_key[self.rows.sort_column].label + arrow

    def refresh_detail(self, now: float) -> None:
        """The detail pane: the subclass's words about the cursor row, made printable
        (names, statuses, reasons and attributes are the venue's words)."""
        target = self.cursor_target()
        text = self.detail(target, self.context(target, now)) if target else Text("")
        self.query_one("#detail", LiveStatic).show(printable_text(text))


__all__ = ["TargetPanel", "row_key"]
