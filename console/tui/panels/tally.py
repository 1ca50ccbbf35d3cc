"""One panel's figures for the overview: per venue, targets by state and summed totals.

Kept up to date by the keys the store reports as changed (the same keys the panel gets),
so the overview never walks every target: a change costs a dictionary lookup until the
overview is on screen, and the overview's refresh re-reads only the changed targets.

Which attributes are summed is data (:data:`TOTALS`, names from docs/ATTRIBUTES.md),
never a test on the vendor: a kind that has none of them shows no totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from math import isfinite

from console.core.model import State, Target, TargetKind
from console.core.store import Store
from console.core.trend import PNL_ATTRS
from console.tui.format import HUGE_INT, as_number

Key = tuple[str, str]

TOTALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("P&L", tuple(sorted(set(PNL_ATTRS.values())))),
    ("open positions", ("open_positions",)),
    ("capital", ("capital",)),
)
"""Overview totals: a label and the target attributes summed under it (docs/ATTRIBUTES.md)."""


@dataclass
class VenueTally:
    """One venue's targets of one kind: how many in each state, and the sums."""

    counts: Counter[State] = field(default_factory=Counter)
    sums: dict[str, float] = field(default_factory=dict)
    summed: Counter[str] = field(default_factory=Counter)  # targets carrying each total

    @property
    def total(self) -> int:
        return sum(self.counts.values())


_Entry = tuple[str, State, tuple[float | None, ...]]


_LABELS = tuple(label for label, _ in TOTALS)
_SLOTS = tuple((slot, name) for slot, (_, names) in enumerate(TOTALS) for name in names)
"""Each summed attribute with the place of its total, in one flat run."""
_NONE: tuple[float | None, ...] = (None,) * len(TOTALS)


def _values(target: Target) -> tuple[float | None, ...]:
    """The target's value under each total (None: it carries none of its attributes).
    One flat pass over the summed attributes: a first paint at ~50,000 targets reads
    44,000 targets here, most carrying one total of three; a plain int or float
    (x3algo's, not PipAI's decimal strings) skips the call."""
    attrs = target.attrs
    if not attrs:
        return _NONE
    values: list[float | None] | None = None
    for slot, name in _SLOTS:
        raw = attrs.get(name)
        if raw is None:
            continue
        kind = type(raw)
        if kind is float and isfinite(raw):  # type: ignore[arg-type]
            number: float | None = raw  # type: ignore[assignment]
        elif kind is int and -HUGE_INT < raw < HUGE_INT:  # type: ignore[operator]
            number = float(raw)  # type: ignore[arg-type]
        else:
            number = as_number(raw)  # (NaN and the infinities: None, never summed)
        if number is None:
            continue
        if values is None:
            values = list(_NONE)
        held = values[slot]
        values[slot] = number if held is None else held + number
    return _NONE if values is None else tuple(values)


class Tally:
    """Targets of one kind, counted by venue and effective state, with :data:`TOTALS`."""

    def __init__(self, store: Store, kind: TargetKind) -> None:
        self.store = store
        self.kind = kind
        self.venues: dict[str, VenueTally] = {}
        self._entries: dict[Key, _Entry] = {}
        self._dirty: set[Key] = set()
        self._stale: dict[str, bool] = {}

    def note(self, changed: Iterable[Key], removed: Iterable[Key] = ()) -> None:
        self._dirty.update(changed)
        self._dirty.update(removed)

    def venue(self, venue: str) -> VenueTally:
        tally = self.venues.get(venue)
        if tally is None:
            tally = self.venues[venue] = VenueTally()
        return tally

    def refresh(self, venues: Iterable[str]) -> bool:
        """Re-read the changed targets (and every target of a venue whose staleness
        flipped: its states read UNKNOWN while stale); True when anything changed."""
        store = self.store
        for venue in venues:
            stale = store.is_stale(venue)
            if self._stale.get(venue, stale) != stale:
                self._dirty.update(t.key for t in store.targets(venue))
            self._stale[venue] = stale
        if not self._dirty:
            return False
        dirty, self._dirty = self._dirty, set()
        entries, kind, get, apply = self._entries, self.kind, store.get, self._apply
        effective_state = store.effective_state
        stale_of: dict[str, bool] = {}  # one look at each venue's clock, not one a target
        added: list[_Entry] = []  # entries new to the tally, counted in one pass
        for key in dirty:
            old = entries.pop(key, None)
            target = get(*key)
            if target is None or target.kind is not kind:
                if old is not None:
                    apply(old, -1)
                continue
            venue = target.venue
            known = stale_of.get(venue)
            if known is None:
                known = stale_of[venue] = store.is_stale(venue)
            entry = (venue, effective_state(target, stale=known), _values(target))
            entries[key] = entry
            if old is None:
                added.append(entry)
            elif entry != old:  # a change the tally does not count costs nothing more
                apply(old, -1)
                apply(entry, 1)
        if added:
            self._add(added)
        return True

    def _add(self, entries: list[_Entry]) -> None:
        """:meth:`_apply` of each entry (``sign`` 1), the states counted in one pass: a
        first fill adds tens of thousands at once."""
        for (venue, state), n in Counter((venue, state) for venue, state, _ in entries).items():
            (self.venues.get(venue) or self.venue(venue)).counts[state] += n
        for venue, _, values in entries:
            if values is _NONE:
                continue
            tally = self.venues[venue]
            sums, summed = tally.sums, tally.summed
            for label, value in zip(_LABELS, values, strict=True):
                if value is not None:
                    sums[label] = sums.get(label, 0.0) + value
                    summed[label] += 1

    def _apply(self, entry: _Entry, sign: int) -> None:
        venue, state, values = entry
        tally = self.venues.get(venue) or self.venue(venue)
        counts = tally.counts
        count = counts[state] + sign
        if count:
            counts[state] = count
        else:
            del counts[state]
        if values is _NONE:  # (:func:`_values` hands out this one tuple)
            return
        sums, summed = tally.sums, tally.summed
        for label, value in zip(_LABELS, values, strict=True):
            if value is None:
                continue
            sums[label] = sums.get(label, 0.0) + sign * value
            count = summed[label] + sign
            if count:
                summed[label] = count
            else:
                del summed[label]
                sums.pop(label, None)
