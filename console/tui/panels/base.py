"""A panel: one kind of target in a keyed table that is sorted, filtered and selectable.

The app hands each panel the keys the store reports as changed; the panel redraws only
those rows (``update_cell`` / ``add_row`` / ``remove_row`` by row key = ``venue/id``),
and only when it is on screen: a hidden panel just remembers which keys are dirty. The
row under the cursor stays under the cursor whatever moves around it, so a key press
always hits the row the operator is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, TabbedContent, TabPane
from textual.widgets.data_table import ColumnKey

from console.core.model import ActionKind, Target, TargetKind
from console.core.store import Store
from console.tui.format import Cell, Tones
from console.tui.live_static import LiveStatic
from console.tui.panels.columns import Column, RowContext
from console.tui.panels.freshness import ViewFacts, freshness_line
from console.tui.panels.table import TargetTable

Key = tuple[str, str]


def row_key(venue: str, target_id: str) -> str:
    return f"{venue}/{target_id}"


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
        self._ticking = [c for c in self.columns if c.ticking]
        self.targets: dict[str, Target] = {}
        self._shown: dict[str, tuple[tuple[str, str], ...]] = {}
        self.selected: set[str] = set()
        self.filter_text = ""
        self.sort_column = self.DEFAULT_SORT
        self.sort_reverse = False
        self._dirty: set[Key] = set()
        self._gone: set[Key] = set()
        self._stale: dict[str, bool] = {}
        self._needs_rebuild = True
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
        yield Input(
            placeholder="filter: words in any column (enter: keep, esc: clear)",
            id="filter",
            classes="filter",
            compact=True,
        )
        yield from self.compose_extra()
        yield TargetTable(id="table")
        yield LiveStatic(id="detail", classes="detail")

    def on_mount(self) -> None:
        self.tones = Tones.from_theme(self.app.theme_variables)
        table = self.table
        for column in self.columns:
            table.add_column(self._label(column), width=column.width, key=column.key)
        self.query_one("#filter", Input).display = False
        self._ready = True

    @property
    def table(self) -> TargetTable:
        return self.query_one(TargetTable)

    def _label(self, column: Column) -> Text:
        if column.key != self.sort_column:
            return Text(column.label)
        return Text(column.label + (" ▼" if self.sort_reverse else " ▲"), style="bold")

    # ----- rows -----------------------------------------------------------------------
    def context(self, target: Target, now: float) -> RowContext:
        state = self.store.effective_state(target)
        return RowContext(
            now,
            state,
            self._stale.get(target.venue, False),
            self.tones,
            self.store.known(target.venue, target.id),
            self.session_started,
        )

    def cells(self, key: str, target: Target, now: float) -> list[Cell]:
        ctx = self.context(target, now)
        mark = Cell("●" if key in self.selected else " ", sort=key in self.selected)
        return [mark, *(c.render(target, ctx) for c in self.columns[1:])]

    def matches(self, target: Target) -> bool:
        if not self.filter_text:
            return True
        text = self.search_text(target)
        return all(word in text for word in self.filter_text.lower().split())

    def note_changes(self, changed: Iterable[Key], removed: Iterable[Key]) -> None:
        self._dirty.update(changed)
        self._gone.update(removed)

    def _check_staleness(self) -> None:
        for venue in self.venues:
            stale = self.store.is_stale(venue)
            if self._stale.get(venue) != stale:
                self._stale[venue] = stale
                self._dirty.update((venue, t.id) for t in self.store.targets(venue))

    def flush(self, now: float, *, second_changed: bool) -> None:
        """Apply what changed since the last flush; cost is proportional to the changes."""
        if not self._ready:
            return
        self._check_staleness()
        table = self.table
        cursor = table.cursor_key
        changed_any = bool(self._dirty or self._gone)
        if self._needs_rebuild:
            self._absorb()
            self.rebuild(now)
        else:
            resort = self._apply(now)
            if second_changed and self._ticking:
                resort |= self._refresh_ticking(now)
            if resort:
                self._sort()
        table.move_to_key(cursor)
        if changed_any:
            self.on_targets_changed()
        self.refresh_detail(now)
        self.refresh_freshness()

    def _absorb(self) -> None:
        """Bring ``self.targets`` up to date without touching the table."""
        for venue, tid in self._gone:
            self.targets.pop(row_key(venue, tid), None)
        for venue, tid in self._dirty:
            target = self.store.get(venue, tid)
            key = row_key(venue, tid)
            if target is None or target.kind is not self.KIND:
                self.targets.pop(key, None)
            else:
                self.targets[key] = target
                self._adopt(venue)
        self.selected &= self.targets.keys()
        self._dirty.clear()
        self._gone.clear()

    def _apply(self, now: float) -> bool:
        table = self.table
        resort = False
        for venue, tid in self._gone:
            key = row_key(venue, tid)
            self.targets.pop(key, None)
            self.selected.discard(key)
            if self._shown.pop(key, None) is not None:
                table.remove_row(key)
        for venue, tid in self._dirty:
            key = row_key(venue, tid)
            target = self.store.get(venue, tid)
            if target is None or target.kind is not self.KIND:
                if self._shown.pop(key, None) is not None:
                    table.remove_row(key)
                self.targets.pop(key, None)
                self.selected.discard(key)
                continue
            self.targets[key] = target
            self._adopt(venue)
            resort |= self._draw(key, target, now)
        self._dirty.clear()
        self._gone.clear()
        return resort

    def _adopt(self, venue: str) -> None:
        if venue not in self.venues:
            self.venues.append(venue)

    def _draw(self, key: str, target: Target, now: float) -> bool:
        """Add, update or hide one row; True when the sort order may have changed."""
        table = self.table
        shown = self._shown.get(key)
        if not self.matches(target):
            if shown is not None:
                table.remove_row(key)
                del self._shown[key]
            return False
        cells = self.cells(key, target, now)
        signature = tuple(c.signature for c in cells)
        if shown is None:
            table.add_row(*cells, key=key)
            self._shown[key] = signature
            return True
        resort = False
        for column, cell, old, new in zip(self.columns, cells, shown, signature, strict=True):
            if old != new:
                table.update_cell(key, column.key, cell)
                resort |= column.key == self.sort_column
        self._shown[key] = signature
        return resort

    def _refresh_ticking(self, now: float) -> bool:
        resort = False
        for key in self._shown:
            target = self.targets[key]
            ctx = self.context(target, now)
            for column in self._ticking:
                self.table.update_cell(key, column.key, column.render(target, ctx))
                resort |= column.key == self.sort_column
        return resort

    def rebuild(self, now: float) -> None:
        """Redraw every row (first paint, filter change): sorted once, added in order."""
        self._needs_rebuild = False
        table = self.table
        table.clear()
        self._shown.clear()
        rows = []
        index = [c.key for c in self.columns].index(self.sort_column)
        for key, target in self.targets.items():
            if self.matches(target):
                rows.append((key, self.cells(key, target, now)))
        rows.sort(key=lambda kc: kc[1][index].sort_key, reverse=self.sort_reverse)
        for key, cells in rows:
            table.add_row(*cells, key=key)
            self._shown[key] = tuple(c.signature for c in cells)

    def _sort(self) -> None:
        self.table.sort(self.sort_column, key=_cell_sort_key, reverse=self.sort_reverse)

    # ----- what the operator does -----------------------------------------------------
    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._needs_rebuild = True

    def cycle_sort(self, *, reverse_only: bool = False) -> str:
        keys = [c.key for c in self.columns[1:]]
        if reverse_only:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
            self.sort_reverse = False
        for column in self.columns:
            self.table.columns[ColumnKey(column.key)].label = self._label(column)
        cursor = self.table.cursor_key
        self._sort()
        self.table.move_to_key(cursor)
        self.refresh_freshness()
        return self._by_key[self.sort_column].label

    def toggle_select(self, key: str) -> None:
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)
        self._redraw_mark(key)

    def select_shown(self) -> int:
        """Select every row the filter shows; if they all are already, clear instead."""
        shown = set(self._shown)
        if shown and shown <= self.selected:
            changed, self.selected = self.selected, set()
        else:
            changed = shown - self.selected
            self.selected |= shown
        for key in changed:
            self._redraw_mark(key)
        self.refresh_freshness()
        return len(self.selected)

    def clear_selection(self) -> bool:
        if not self.selected:
            return False
        changed, self.selected = self.selected, set()
        for key in changed:
            self._redraw_mark(key)
        self.refresh_freshness()
        return True

    def _redraw_mark(self, key: str) -> None:
        if key in self._shown:
            mark = Cell("●" if key in self.selected else " ", sort=key in self.selected)
            self.table.update_cell(key, "sel", mark)
            old = self._shown[key]
            self._shown[key] = (mark.signature, *old[1:])

    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def clear(self) -> None:
        """Esc: leave the filter box, else drop the selection, else drop the filter."""
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.table.focus()
        elif not self.clear_selection() and self.filter_text:
            box.value = ""
            box.display = False
        self.flush(self.clock(), second_changed=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.set_filter(event.value.strip())
            self.flush(self.clock(), second_changed=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            event.input.display = bool(event.value.strip())
            self.table.focus()

    def on_target_table_toggle_select(self, event: TargetTable.ToggleSelect) -> None:
        event.stop()
        key = self.table.cursor_key
        if key is not None:
            self.toggle_select(key)
            self.table.action_cursor_down()
            self.refresh_freshness()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_detail(self.clock())

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

    def is_hidden(self, target: Target) -> bool:
        return row_key(target.venue, target.id) not in self._shown

    def cursor_target(self) -> Target | None:
        key = self.table.cursor_key
        return self.targets.get(key) if key else None

    def action_targets(self) -> tuple[list[Target], str]:
        """What an action key hits: the selection if any, else the row under the cursor."""
        if self.selected:
            targets = [self.targets[k] for k in sorted(self.selected) if k in self.targets]
            scope = "panel" if len(self.selected) == len(self.targets) else "selection"
            return targets, scope
        target = self.cursor_target()
        return ([target] if target else []), "one"

    # ----- the lines around the table ------------------------------------------------
    def refresh_freshness(self) -> None:
        facts = ViewFacts(
            len(self.targets),
            len(self._shown),
            len(self.selected),
            self._sort_label(),
            self.filter_text,
        )
        line, stale, alert = freshness_line(self.store, self.venues, facts, self.tones)
        self.any_stale = stale
        self.set_class(stale, "-stale")
        self.set_class(alert, "-alert")
        self.query_one("#freshness", LiveStatic).show(line)

    def _sort_label(self) -> str:
        return self._by_key[self.sort_column].label + (" ▼" if self.sort_reverse else " ▲")

    def refresh_detail(self, now: float) -> None:
        target = self.cursor_target()
        text = self.detail(target, self.context(target, now)) if target else Text("")
        self.query_one("#detail", LiveStatic).show(text)


def _cell_sort_key(cell: object) -> object:
    return getattr(cell, "sort_key", (2, ""))
