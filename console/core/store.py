"""The live store: the latest state of every target, and how fresh each venue's data is.

Feeds write into it (it is the ``FeedSink``) as fast as events arrive; the screen reads
it on a steady tick through :meth:`Store.drain`, which hands over only the keys that
changed since the last drain, so redraws cost what changed, never one per message.

Freshness is data: :meth:`Store.effective_state` reads UNKNOWN once a venue's feed has
been silent past ``stale_after_s``, and for venues that cannot report a state at all
(Joyride) it overlays what this console's journal knows, saying how it knows.

Each algorithm's and strategy's P&L also leaves a short trail (:mod:`console.core.trend`:
one sample a second at most, distinct values, a bounded ring) for the trend sparklines.

A poll's :meth:`Store.snapshot` runs in one callback of the screen's loop (the sink is
synchronous): at ~12,000 targets, x3algo's 6,000-target snapshot is now the longest part
of a poll (10–38 ms CPU measured on a shared machine, issue 13), so it compares targets
field by field (:func:`_same`, 0.3 µs a target instead of ``Target.__eq__``'s 1.0 µs).
An unchanged target re-confirmed stays the stored object, untouched: the panels still
hold its attrs and texts (a poll's fresh copies, a new dict and strings a target, 6,000
of them, would otherwise live twice), and rebuilding 6,000 frozen targets only to move
their ``confirmed_at`` cost most of it (a 6,000-target list, all unchanged, in a fresh
process: 8.4 ms a snapshot with the rebuild, 2.7 ms without). The read's time is kept once a venue
instead, and :meth:`Store.confirmed_at` is what a reader asks for "when did the venue
last vouch for this target" (a stored target's own ``confirmed_at`` is when it last
changed, or was last upserted).

Even so, comparing 6,000 targets with the stored ones costs 10–20 ms CPU in the running
console (5.8 ms for the same two lists in a fresh process: the stored targets are spread
over a ~150 MB heap and each compare misses the cache). Handing the list over in slices,
the loop given back between them, was tried and measured (issue 13): a key's modal is
built over many turns of the loop, one slice ran before each of them, and the press
waited for the whole snapshot all the same (p99 at 10,000 events/s 111 ms in that run).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from console.core.model import AttrValue, State, Target
from console.core.ports import FeedStatus
from console.core.scrub import Scrubber
from console.core.target_secrets import masked_attrs, masked_text, without_secrets
from console.core.trend import PNL_ATTRS, PnlTrails

Clock = Callable[[], float]


@dataclass
class VenueHealth:
    """One venue's feed health, as the header shows it."""

    status: FeedStatus = FeedStatus.CONNECTING
    detail: str = ""
    since: float = 0.0  # when the status last changed
    last_update: float | None = None  # when the venue last confirmed anything
    events: int = 0
    rate_window: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=120))


@dataclass(frozen=True, slots=True)
class KnownState:
    """A state the venue cannot report, known from this console's own journal."""

    state: State
    set_at: str
    set_by: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the last drain."""

    changed: frozenset[tuple[str, str]]
    removed: frozenset[tuple[str, str]]
    health: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed or self.health)


def _same(old: Target, new: Target) -> bool:
    """``old == new`` for two targets of one venue and id, field by field: a poll compares
    thousands (0.3 µs each instead of the dataclass's 1.0 µs, which builds two tuples)."""
    return (
        old.attrs == new.attrs
        and old.state == new.state
        and old.raw_status == new.raw_status
        and old.name == new.name
        and old.kind == new.kind
        and old.venue == new.venue
    )


class Store:
    """Latest target per (venue, id), plus per-venue health; implements ``FeedSink``."""

    def __init__(
        self,
        *,
        stale_after_s: float = 30.0,
        clock: Clock = time.time,
        blind_venues: Collection[str] | None = None,
    ) -> None:
        self.stale_after_s = stale_after_s
        # Venues that cannot report pause state (their clients' capabilities say so):
        # there the journal's knowledge fills an UNKNOWN state. None: not told, so it
        # fills any UNKNOWN state it knows (a session always tells).
        self.blind_venues = None if blind_venues is None else frozenset(blind_venues)
        self._clock = clock
        self._targets: dict[str, dict[str, Target]] = {}
        self._health: dict[str, VenueHealth] = {}
        self._known: dict[tuple[str, str], KnownState] = {}
        self._changed: set[tuple[str, str]] = set()
        self._removed: set[tuple[str, str]] = set()
        self._health_changed: set[str] = set()
        self._trails = PnlTrails()
        self.version = 0
        # Per venue: the ids its last full list found unchanged (less any written since
        # by an upsert or a patch) and that read's oldest time (see confirmed_at).
        self._reconfirmed: dict[str, tuple[set[str], float]] = {}
        self.listed: set[str] = set()  # venues whose full list came in at least once
        self._masks: dict[str, Scrubber] = {}  # per venue: its credentials (mask_with)
        self._clean_words: set[tuple[str, str]] = set()  # (venue, status word) found clean
        # Venues whose list went from some targets to none: (count before, when). A
        # venue that empties is more often broken than flat; a kill says so.
        self.emptied: dict[str, tuple[int, float]] = {}

    # ----- FeedSink -------------------------------------------------------------------
    def _venue(self, venue: str) -> dict[str, Target]:
        targets = self._targets.get(venue)
        if targets is None:
            targets = self._targets[venue] = {}
            self._health.setdefault(venue, VenueHealth(since=self._clock()))
        return targets

    def _touch(self, venue: str) -> None:
        self._health[venue].last_update = self._clock()
        self._health_changed.add(venue)

    def mask_with(self, venue: str, scrubber: Scrubber) -> None:
        """Mask ``venue``'s credentials in every target of it this store is given (its
        names and status words: :mod:`console.core.target_secrets`)."""
        self._masks[venue] = scrubber

    def snapshot(self, venue: str, targets: Iterable[Target]) -> None:
        current = self._venue(venue)
        fresh = {t.id: t for t in targets}
        if not fresh and current:
            self.emptied[venue] = (len(current), self._clock())
        elif fresh:
            self.emptied.pop(venue, None)
        second = int(self._clock())
        changed, removed, trails = self._changed, self._removed, self._trails
        record = trails.record
        for gone in current.keys() - fresh.keys():
            del current[gone]
            removed.add((venue, gone))
            trails.forget((venue, gone))
            self._known.pop((venue, gone), None)  # gone from the venue: what was set ends
        reconfirmed: set[str] = set()
        keep = reconfirmed.add
        oldest = float("inf")
        written: list[Target] = []
        for tid, target in fresh.items():
            old = current.get(tid)
            if old is not None and _same(old, target):
                # Re-confirmed, unchanged: the stored target stays (the panels still hold
                # its attrs and texts); the read's time is kept once for the venue.
                keep(tid)
                if (at := target.confirmed_at) < oldest:
                    oldest = at
                continue
            current[tid] = target
            written.append(target)
            key = (venue, tid)
            changed.add(key)
            if removed:
                removed.discard(key)
            # trails.see(target, second), inlined: a first fill writes ~44,000 targets
            if (pnl := PNL_ATTRS.get(target.kind)) is not None:
                record(key, target.attrs.get(pnl), second)
        mask = self._masks.get(venue)
        if mask is not None and written:  # only what changed: a poll of the same list
            masked = without_secrets(written, mask)  # costs nothing here
            if masked is not written:  # (a venue echoing a secret: every poll)
                for target in masked:
                    current[target.id] = target
        self._reconfirmed[venue] = (reconfirmed, oldest)
        self._touch(venue)
        self.listed.add(venue)
        self.version += 1

    def confirmed_at(self, target: Target) -> float:
        """When the venue last vouched for ``target``'s state: its own time, or the read
        of the venue's last full list that found it unchanged, whichever is later.

        A multi-page list's re-confirmation is its oldest page's time (never later than
        the venue vouched). A target not (or no longer) the stored one, or written since
        that list, answers its own time."""
        venue = target.venue
        stored = self._targets.get(venue)
        if stored is None or stored.get(target.id) is not target:
            return target.confirmed_at
        reconfirmed = self._reconfirmed.get(venue)
        if reconfirmed is None or target.id not in reconfirmed[0]:
            return target.confirmed_at
        return max(target.confirmed_at, reconfirmed[1])

    def _written(self, venue: str, target_id: str) -> None:
        """A target written outside a full list carries its own time (see confirmed_at)."""
        reconfirmed = self._reconfirmed.get(venue)
        if reconfirmed is not None:
            reconfirmed[0].discard(target_id)

    def upsert(self, targets: Iterable[Target]) -> None:
        venues = set()
        second = int(self._clock())
        if self._masks:
            targets = [self._mask_one(t) for t in targets]
        for target in targets:
            self._venue(target.venue)[target.id] = target
            self._written(target.venue, target.id)
            self._changed.add(target.key)
            self._removed.discard(target.key)
            self._trails.see(target, second)
            venues.add(target.venue)
        for venue in venues:
            self._touch(venue)
        self.version += 1

    def patch(
        self,
        venue: str,
        target_id: str,
        *,
        state: State | None = None,
        raw_status: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
        confirms: bool = True,
    ) -> None:
        targets = self._venue(venue)
        current = targets.get(target_id)
        if current is None:
            return
        mask = self._masks.get(venue)
        if mask is not None:
            if raw_status and (venue, raw_status) not in self._clean_words:
                masked = masked_text(raw_status, mask)
                if masked is raw_status and len(self._clean_words) < 1024:
                    self._clean_words.add((venue, raw_status))  # a stream repeats a few
                raw_status = masked
            if attrs:  # a stream's texts too (PipAI's P&L comes as a string)
                attrs = masked_attrs(attrs, mask)
        merged = {**current.attrs, **attrs} if attrs else current.attrs
        now = self._clock()
        targets[target_id] = replace(
            current,
            state=state or current.state,
            raw_status=raw_status or current.raw_status,
            attrs=merged,
            confirmed_at=now if confirms else current.confirmed_at,
        )
        if confirms:  # (a figure that says nothing of the state: its age stays)
            self._written(venue, target_id)
        if attrs:
            self._trails.see_patch(current, attrs, int(now))
        self._changed.add((venue, target_id))
        if confirms:
            self._touch(venue)
        self.version += 1

    def _mask_one(self, target: Target) -> Target:
        mask = self._masks.get(target.venue)
        return without_secrets([target], mask)[0] if mask is not None else target

    def health(self, venue: str, status: FeedStatus, detail: str = "") -> None:
        self._venue(venue)
        health = self._health[venue]
        if health.status != status or health.detail != detail:
            health.status = status
            health.detail = detail
            health.since = self._clock()
            self._health_changed.add(venue)
            self.version += 1
        if status in (FeedStatus.LIVE, FeedStatus.POLLING):
            health.last_update = self._clock()

    def count_events(self, venue: str, n: int = 1) -> None:
        self._venue(venue)
        health = self._health[venue]
        health.events += n
        second = int(self._clock())
        window = health.rate_window
        if window and window[-1][0] == second:
            window[-1] = (second, window[-1][1] + n)
        else:
            window.append((second, n))

    # ----- reading ----------------------------------------------------------------------
    def drain(self) -> Changes:
        """Keys changed since the last drain (the screen's tick calls this)."""
        changes = Changes(frozenset(self._changed), frozenset(self._removed),
                          frozenset(self._health_changed))  # fmt: skip
        self._changed.clear()
        self._removed.clear()
        self._health_changed.clear()
        return changes

    def venues(self) -> list[str]:
        return list(self._targets)

    def targets(self, venue: str) -> list[Target]:
        return list(self._targets.get(venue, {}).values())

    def all_targets(self) -> list[Target]:
        return [t for targets in self._targets.values() for t in targets.values()]

    def get(self, venue: str, target_id: str) -> Target | None:
        # No `.get(venue, {})`: that builds an empty dict on every call (44,000 calls
        # in a ~50,000-target first paint: panel rows, tally).
        targets = self._targets.get(venue)
        return None if targets is None else targets.get(target_id)

    def venue_health(self, venue: str) -> VenueHealth:
        health = self._health.get(venue)
        if health is None:  # not setdefault: that built a VenueHealth (a deque) every call
            health = self._health[venue] = VenueHealth(since=self._clock())
        return health

    def age(self, venue: str) -> float | None:
        """Seconds since the venue last confirmed anything (None: never)."""
        last = self.venue_health(venue).last_update
        return None if last is None else max(0.0, self._clock() - last)

    def is_stale(self, venue: str) -> bool:
        age = self.age(venue)
        return age is None or age > self.stale_after_s

    def event_rate(self, venue: str, seconds: int = 5) -> float:
        """Stream events per second over the last ``seconds`` whole seconds."""
        now = int(self._clock())
        window = self.venue_health(venue).rate_window
        total = sum(n for sec, n in window if now - seconds <= sec < now)
        return total / seconds

    def rate_history(self, venue: str, seconds: int = 30) -> list[int]:
        """Events per second for each of the last ``seconds`` seconds, oldest first."""
        now = int(self._clock())
        counts = dict(self.venue_health(venue).rate_window)
        return [counts.get(sec, 0) for sec in range(now - seconds, now)]

    def pnl_history(self, venue: str, target_id: str) -> Sequence[float]:
        """The target's last distinct P&L values, oldest first, at most one a second.

        Empty for kinds without a P&L. The live ring, not a copy: read it, don't keep it.
        """
        return self._trails.trail((venue, target_id))

    # ----- what the console knows on its own ------------------------------------------
    def remember(self, venue: str, target_id: str, known: KnownState) -> None:
        """Record a state this console set on a venue that cannot report it."""
        self._known[(venue, target_id)] = known
        self._changed.add((venue, target_id))
        self.version += 1

    def forget(self, venue: str, target_id: str) -> None:
        """What this console knew of a target is no longer so (a call of its own that may
        or may not have landed): its state shows UNKNOWN, never the old knowledge."""
        if self._known.pop((venue, target_id), None) is not None:
            self._changed.add((venue, target_id))
            self.version += 1

    def known(self, venue: str, target_id: str) -> KnownState | None:
        return self._known.get((venue, target_id))

    def effective_state(self, target: Target, *, stale: bool | None = None) -> State:
        """The state to show and act on: UNKNOWN when stale; journal knowledge overlaid.

        ``stale``: :meth:`is_stale` of the target's venue, when the caller knows it (a
        caller reading thousands of targets asks once a venue)."""
        if self.is_stale(target.venue) if stale is None else stale:
            return State.UNKNOWN
        blind = self.blind_venues is None or target.venue in self.blind_venues
        if target.state is State.UNKNOWN and blind:
            known = self._known.get(target.key)
            if known is not None:
                return known.state
        return target.state
