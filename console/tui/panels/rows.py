"""Keeping one panel's table in step with the store, at a bounded cost per tick.

The store reports which ``(venue, id)`` keys changed; :class:`RowModel` redraws those
rows only, by row key (``venue/id``): ``update_cell`` for cells whose text or style
changed, ``add_row`` / ``remove_row`` for rows that appear, vanish or leave the filter.

Under a flood (10,000 events/s on 10,000 targets) a tick spends at most ``budget_s``:
rows on screen first, the rest carried over to the next tick. Changes to the same row
coalesce while they wait, so the backlog is bounded by the number of targets and the
screen never falls behind on what the operator is looking at. A live-changing sort
column re-sorts at most once a second, so rows do not jump under the cursor on every
tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, overload

from console.core.model import Target, TargetKind
from console.core.scrub import printable
from console.core.store import Store
from console.tui.format import Cell, LazyCell, sort_key
from console.tui.heap import gc_paused, settle_heap
from console.tui.panels.columns import Column, Renderer, RowContext, Widest
from console.tui.panels.table import HandedRow, TableCell, TargetTable

Key = tuple[str, str]
Signature = tuple[tuple[str, object], ...]
UNKNOWN_SIGNATURE = ("\x00never drawn", None)
"""Never equal to a real cell's: the first change of a lazily painted row redraws it all."""
RESORT_EVERY_S = 1.0
REBUILD_ABOVE = 500
FREEZE_ABOVE = 2000
# The selection mark, one shared cell each way (cells are never changed once made; a
# 6,000-row first paint made 6,000 of them).
_CHOSEN = Cell("●", sort=True)
_NOT_CHOSEN = Cell(" ", sort=False)


def row_key(venue: str, target_id: str) -> str:
    return f"{venue}/{target_id}"


def _sort_key(cell: object) -> object:
    return getattr(cell, "sort_key", (2, ""))


class _Row:
    """One row's target, and its RowContext built on first need, once for all its cells:
    a first paint of 6,000 rows draws about fifty."""

    __slots__ = ("_ctx", "context_of", "now", "target")

    def __init__(
        self, target: Target, now: float, context_of: Callable[[Target, float], RowContext]
    ) -> None:
        self.target, self.now, self.context_of = target, now, context_of
        self._ctx: RowContext | None = None

    def context(self) -> RowContext:
        if self._ctx is None:
            self._ctx = self.context_of(self.target, self.now)
        return self._ctx


class _RowCell(LazyCell):
    """A :class:`LazyCell` of one :class:`_Row`: built with the row's shared context."""

    __slots__ = ("_row",)

    def __init__(self, render: Callable[[Target, RowContext], Cell], row: _Row) -> None:
        # Not LazyCell's: no argument tuple (54,000 of these in a 6,000-row first paint).
        self._render = render
        self._row = row
        self._cell = None

    def __rich__(self) -> Cell:
        if self._cell is None:
            row = self._row
            self._cell = self._render(row.target, row.context())
        return self._cell


class _LazyRow(HandedRow):
    """One row's cells as the table keeps them: the mark, then each column's
    :class:`_RowCell` made the first time the table reads it. A 25,000-row first paint
    made ~250,000 of those up front (~100 ms of a ~50,000-target first paint) to draw
    about fifty rows; a row now costs three objects until it is drawn or sorted on."""

    __slots__ = ("_cells", "_renders", "_row")

    def __init__(self, mark: Cell, renders: Sequence[Renderer], row: _Row) -> None:
        self._cells: list[TableCell | None] = [mark]
        self._cells += repeat(None, len(renders))
        self._renders = renders  # column 1's renderer first (column 0 is the mark)
        self._row = row

    def __len__(self) -> int:
        return len(self._cells)

    def _cell(self, index: int) -> TableCell:
        cell = self._cells[index]  # IndexError past the end, as a list
        if cell is None:
            if index < 0:
                index += len(self._cells)
            cell = self._cells[index] = _RowCell(self._renders[index - 1], self._row)
        return cell

    @overload
    def __getitem__(self, index: int) -> TableCell: ...
    @overload
    def __getitem__(self, index: slice) -> list[TableCell]: ...
    def __getitem__(self, index: int | slice) -> TableCell | list[TableCell]:
        if isinstance(index, slice):
            return [self._cell(i) for i in range(*index.indices(len(self._cells)))]
        return self._cell(index)

    def __iter__(self) -> Iterator[TableCell]:
        return (self._cell(i) for i in range(len(self._cells)))

    def _all(self) -> list[TableCell | None]:
        """Every cell made: the list, no longer tied to the renderers' order."""
        for i in range(len(self._cells)):
            self._cell(i)
        return self._cells

    @overload
    def __setitem__(self, index: int, value: TableCell) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[TableCell]) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            self._all()[index] = value
        else:
            self._cells[index] = value

    @overload
    def __delitem__(self, index: int) -> None: ...
    @overload
    def __delitem__(self, index: slice) -> None: ...
    def __delitem__(self, index: int | slice) -> None:
        del self._all()[index]

    def insert(self, index: int, value: TableCell) -> None:
        self._all().insert(index, value)


def _built(cell: Cell | LazyCell) -> Cell:
    return cell.__rich__() if isinstance(cell, LazyCell) else cell


class RowModel:
    """Targets of one kind, what the table shows of them, the selection and the order."""

    def __init__(
        self,
        store: Store,
        kind: TargetKind,
        columns: Sequence[Column],
        context: Callable[[Target, float], RowContext],
        search_text: Callable[[Target], str],
        sort_column: str,
    ) -> None:
        self.store = store
        self.kind = kind
        self.columns = list(columns)
        self.context = context
        self.search_text = search_text
        self.targets: dict[str, Target] = {}
        self.shown: dict[str, Signature] = {}
        self.selected: set[str] = set()
        self.filter_text = ""
        self._filter_words: list[str] = []
        self._searched: dict[Key, tuple[Target, str]] = {}
        """While a filter is on: each target's search text, kept while it is the stored
        target (a 25,000-row panel rebuilt each filter keystroke's text from every
        target's attributes again: ~0.2 s a keystroke at ~50,000 targets)."""
        self.sort_column = sort_column
        self.sort_reverse = False
        self.dirty: dict[Key, None] = {}  # ordered: oldest change first
        self.gone: set[Key] = set()
        self.needs_rebuild = True
        self.budget_s = 0.03
        self._sort_due = False  # a sort-column value changed: re-sort, throttled
        self._rows_added = False  # new rows sit at the bottom: sort at once
        self._sorted_at = 0.0  # time.monotonic(): the app's clock may be frozen
        self._ticking = [c for c in self.columns if c.ticking]
        self._sort_index = [c.key for c in self.columns].index(sort_column)
        self.widest = Widest(self.columns)
        self._renders = [c.render for c in self.columns[1:]]

    # ----- cells ----------------------------------------------------------------------
    def cells(self, key: str, target: Target, now: float) -> list[Cell]:
        ctx = self.context(target, now)
        return [self.mark(key), *(c.render(target, ctx) for c in self.columns[1:])]

    def lazy_cells(self, key: str, target: Target, now: float) -> _LazyRow:
        """Cells built when first drawn; their signature is unknown until the row changes."""
        return _LazyRow(self.mark(key), self._renders, _Row(target, now, self.context))

    def mark(self, key: str) -> Cell:
        return _CHOSEN if key in self.selected else _NOT_CHOSEN

    def matches(self, target: Target) -> bool:
        if not self.filter_text:
            return True
        known = self._searched.get(target.key)
        if known is not None and known[0] is target:
            text = known[1]
        else:
            text = self.search_text(target)
            if len(self._searched) > 2 * len(self.targets) + 64:
                self._searched = {}  # (targets gone or replaced: never more than twice)
            self._searched[target.key] = (target, text)
        return all(word in text for word in self._filter_words)

    # ----- changes --------------------------------------------------------------------
    def note(self, changed: Iterable[Key], removed: Iterable[Key] = ()) -> None:
        for key in changed:
            self.dirty[key] = None
        self.gone.update(removed)

    def flush(self, table: TargetTable, now: float, *, second_changed: bool) -> bool:
        """Apply pending changes within the budget; True when any row changed."""
        changed = bool(self.dirty or self.gone)
        if len(self.dirty) > max(REBUILD_ABOVE, len(self.shown)):
            self.needs_rebuild = True  # a first snapshot: one sorted pass beats 10k inserts
        cursor = table.cursor_key
        if self.needs_rebuild:
            self._absorb()
            self.rebuild(table, now)
            changed = True
        else:
            self._apply(table, now)
            if second_changed and self._ticking:
                self._refresh_ticking(table, now)
            throttled = time.monotonic() - self._sorted_at < RESORT_EVERY_S
            if self._rows_added or (self._sort_due and not throttled):
                self._sort_rows(table)
            table.repaint()
        if cursor is None:
            table.move_cursor(row=0, animate=False)  # first rows: start at the top
        else:
            table.move_to_key(cursor)
        return changed

    def _absorb(self) -> None:
        for venue, tid in self.gone:
            self.targets.pop(row_key(venue, tid), None)
        seen = []
        get, kind, targets = self.store.get, self.kind, self.targets
        for venue, tid in self.dirty:  # a first paint: every row of the panel's venues
            target = get(venue, tid)
            if target is None or target.kind is not kind:
                targets.pop(f"{venue}/{tid}", None)  # row_key, inline
            else:
                targets[f"{venue}/{tid}"] = target
                seen.append(target)
        self.widest.see(seen)
        self.selected &= self.targets.keys()
        self.dirty.clear()
        self.gone.clear()

    def keys_on_screen(self, table: TargetTable) -> list[str]:
        """Row keys of the rows in the table's window."""
        return table.keys_in_window()

    def _dirty_on_screen(self, table: TargetTable) -> list[Key]:
        keys = []
        for key in table.keys_in_window():
            target = self.targets.get(key)
            if target is not None and target.key in self.dirty:
                keys.append(target.key)
        return keys

    def _apply(self, table: TargetTable, now: float) -> None:
        for venue, tid in self.gone:
            key = row_key(venue, tid)
            self.targets.pop(key, None)
            self.selected.discard(key)
            if self.shown.pop(key, None) is not None:
                table.remove_row(key)
        self.gone.clear()
        deadline = time.perf_counter() + self.budget_s
        on_screen = self._dirty_on_screen(table)
        visible = set(on_screen)
        for n, item in enumerate([*on_screen, *list(self.dirty)]):
            if item not in self.dirty:
                continue
            if n % 32 == 31 and time.perf_counter() > deadline:
                break
            del self.dirty[item]
            venue, tid = item
            key = row_key(venue, tid)
            target = self.store.get(venue, tid)
            if target is None or target.kind is not self.kind:
                self.targets.pop(key, None)
                self.selected.discard(key)
                if self.shown.pop(key, None) is not None:
                    table.remove_row(key)
                continue
            self.targets[key] = target
            self.widest.see((target,))
            self._draw(table, key, target, now, visible=item in visible)

    def _draw(
        self, table: TargetTable, key: str, target: Target, now: float, *, visible: bool = True
    ) -> None:
        """Add, update or hide one row."""
        shown = self.shown.get(key)
        if not self.matches(target):
            if shown is not None:
                table.remove_row(key)
                del self.shown[key]
            return
        if shown is not None and not visible:
            self._draw_later(table, key, target, now, shown)
            return
        cells = self.cells(key, target, now)
        signature = tuple(c.signature for c in cells)
        if shown is None:
            table.add_row(*cells, key=key)
            self.shown[key] = signature
            self._rows_added = True
            return
        for index, (column, cell) in enumerate(zip(self.columns, cells, strict=True)):
            if shown[index] != signature[index]:
                table.set_cell(key, column.key, cell)
                self._sort_due |= index == self._sort_index
        self.shown[key] = signature

    def _draw_later(
        self, table: TargetTable, key: str, target: Target, now: float, shown: Signature
    ) -> None:
        """A row off screen: its cells are built when scrolled to (a busy venue changes
        thousands of rows a second, and only the fifty on screen are worth rendering).
        Only the sort column is built now, to know whether the order changed; the row's
        cells are replaced at once, sharing one context (built now, for the sort cell)."""
        index = self._sort_index
        cells = self.lazy_cells(key, target, now)
        cells[0] = table.get_cell(key, self.columns[0].key)  # the mark: not the target's
        sort_cell = _built(cells[index])
        signature: list[tuple[str, object]] = [UNKNOWN_SIGNATURE] * len(cells)
        signature[0] = shown[0]
        signature[index] = sort_cell.signature
        self._sort_due |= shown[index] != signature[index]
        table.set_row(key, cells)
        self.shown[key] = tuple(signature)

    def _refresh_ticking(self, table: TargetTable, now: float) -> None:
        for key in self.shown:
            target = self.targets[key]
            ctx = self.context(target, now)
            for column in self._ticking:
                table.set_cell(key, column.key, column.render(target, ctx))
                self._sort_due |= column.key == self.sort_column

    def rebuild(self, table: TargetTable, now: float) -> None:
        """Redraw every row (first paint, filter change): sorted once, added in order."""
        self.needs_rebuild = False
        with gc_paused():
            table.clear()
            self.shown.clear()
            rows = [
                (key, self.lazy_cells(key, target, now))
                for key, target in self.targets.items()
                if self.matches(target)
            ]
            index = self._sort_index
            text_of = self.columns[index].text_of
            if text_of is None:  # sort on the cells themselves, built now
                built = [_built(cells[index]) for _, cells in rows]
                marks = [(cell.sort_key, cell.signature) for cell in built]
            else:  # Cell(text): sorted on the text, shown printable, as the cell has it
                texts = [printable(text_of(self.targets[key])) for key, _ in rows]
                marks = [(sort_key(text), (text, "")) for text in texts]
            order = sorted(range(len(rows)), key=lambda i: marks[i][0], reverse=self.sort_reverse)
            table.add_rows_keyed([rows[i] for i in order])
            # Keep what the sort cells show, so a row's first change re-sorts only when
            # its sort value really moved; the other cells are unknown until drawn.
            unknown: list[tuple[str, object]] = [UNKNOWN_SIGNATURE] * len(self.columns)
            for i in order:
                unknown[index] = marks[i][1]
                self.shown[rows[i][0]] = tuple(unknown)
            if len(rows) >= FREEZE_ABOVE:
                # Inside the pause: once collection is back on, its first young pass would
                # scan every object this paint made (~50 ms for 6,000 rows) and free none.
                # Every large rebuild, not only the first: a filter typed or cleared over
                # 25,000 rows paid that pass (~170 ms) at each keystroke. The rows it
                # replaces were freed by reference counting already (they hold no cycle).
                settle_heap()
        self._sort_due = self._rows_added = False
        self._sorted_at = time.monotonic()

    def sort(self, table: TargetTable) -> None:
        """Re-sort now (a new sort column), keeping the cursor on its row."""
        cursor = table.cursor_key
        self._sort_rows(table)
        table.move_to_key(cursor)

    def _sort_rows(self, table: TargetTable) -> None:
        table.sort(self.sort_column, key=_sort_key, reverse=self.sort_reverse)
        self._sort_due = self._rows_added = False
        self._sorted_at = time.monotonic()

    def set_sort(self, column: str, reverse: bool) -> None:
        self.sort_column = column
        self.sort_reverse = reverse
        self._sort_index = [c.key for c in self.columns].index(column)

    def set_filter(self, text: str) -> bool:
        if text == self.filter_text:
            return False
        self.filter_text = text
        self._filter_words = text.lower().split()
        if not text:
            self._searched = {}  # kept only while a filter is on
        self.needs_rebuild = True
        return True

    # ----- selection ------------------------------------------------------------------
    def toggle(self, table: TargetTable, key: str) -> None:
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)
        self._redraw_marks(table, (key,))

    def select_shown(self, table: TargetTable) -> None:
        """Select every row the filter shows; if they all are already, clear instead."""
        shown = set(self.shown)
        if shown and shown <= self.selected:
            changed, self.selected = set(self.selected), set()
        else:
            changed = shown - self.selected
            self.selected |= shown
        self._redraw_marks(table, changed)

    def clear_selection(self, table: TargetTable) -> bool:
        if not self.selected:
            return False
        changed, self.selected = self.selected, set()
        self._redraw_marks(table, changed)
        return True

    def _redraw_marks(self, table: TargetTable, keys: Iterable[str]) -> None:
        """The selection marks of ``keys`` drawn again, in one repaint (a repaint after
        each row made selecting or clearing 25,000 shown rows cost ~0.2 s more)."""
        shown = self.shown
        for key in keys:
            if key in shown:
                mark = self.mark(key)
                table.set_cell(key, "sel", mark)
                shown[key] = (mark.signature, *shown[key][1:])
        table.repaint()

    def is_hidden(self, target: Target) -> bool:
        return row_key(target.venue, target.id) not in self.shown

    def action_targets(self, cursor: str | None) -> tuple[list[Target], str]:
        """What an action key hits: the selection if any, else the row under the cursor."""
        if self.selected:
            targets = [self.targets[k] for k in sorted(self.selected) if k in self.targets]
            scope = "panel" if len(self.selected) == len(self.targets) else "selection"
            return targets, scope
        target = self.targets.get(cursor) if cursor else None
        return ([target] if target else []), "one"
