"""Joyride's instrument list turned into one Target per expiration, and its actions.

The venue cannot say whether an expiration is paused (Project decision 4: the
instrument object has no ``paused`` field and no endpoint lists paused rounds). So a
target is UNKNOWN with ``pause_source="unknown"`` unless this process paused or resumed
it itself and got a definite answer, in which case it is PAUSED/RUNNING with
``pause_source="set here"`` and ``set_at``. The core overlays the journal on top of that
across restarts. An expiration already past is STOPPED (raw ``expired``): the exchange
closes its market (error 1009) and settles it, so there is nothing left to pause.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from console.core.input_first import INPUT_FIRST
from console.core.model import ActionKind, ActionSpec, AttrValue, State, Target, TargetKind
from console.core.scrub import Scrub, printable
from console.venues.joyride.wire import (
    MAX_EXPIRATION,
    InstrumentRow,
    ListSlices,
    asset_of,
    read_instrument_list,
    side_of,
)

NOT_REPORTED = "not reported"

LEAVES_BEHIND = (
    "resting orders stay on the book (owners can still cancel them); open positions "
    "stay open until the round settles at 08:00 UTC"
)
ACTIONS = (
    ActionSpec(ActionKind.PAUSE, "Pause expiration", leaves_behind=LEAVES_BEHIND),
    ActionSpec(
        ActionKind.RESUME,
        "Resume expiration",
        leaves_behind="new orders are accepted again on every instrument of this round",
    ),
)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What this process learned from its own pause/resume call on one expiration."""

    paused: bool
    at: float  # UNIX seconds
    drift: str | None = None


def expiration_name(expiration: int) -> str:
    """``28 FEB 26 08:00 UTC``: what a person reads for a round."""
    return datetime.fromtimestamp(expiration, UTC).strftime("%d %b %y %H:%M UTC").upper()


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_expiration(target_id: str) -> int | None:
    """A target id is the expiration in Unix seconds, as a string (digits only, within
    the range a round can have: :data:`MAX_EXPIRATION`)."""
    text = target_id.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if 0 < value <= MAX_EXPIRATION else None


@dataclass
class _Round:
    instruments: int = 0
    calls: int = 0
    puts: int = 0
    per_asset: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: set[str] = field(default_factory=set)


Rounds = dict[int, "_Round"]


Group = tuple[int, str, "str | None", "str | None", str]
"""(expiration, id prefix, option_type, status, id's last two characters): rows alike."""


def count_rounds(rows: Iterable[InstrumentRow]) -> Rounds:
    """Instruments counted per expiration (by asset and call/put), each id once."""
    return rounds_of(tally_groups(once_each(rows, set())))


def once_each(rows: Iterable[InstrumentRow], seen: set[str]) -> Iterator[InstrumentRow]:
    """``rows`` without an id already listed (``seen``: the ids so far, across slices). An
    instrument is one whatever the list repeats: an independent Joyride listing an id
    twice showed its round at 61 instruments where the engine had 60. A pause is by
    expiration, so a repeat under another expiration is paused with either."""
    for row in rows:
        rid = row["id"]
        if rid not in seen:
            seen.add(rid)
            yield row


def tally_groups(
    rows: Iterable[InstrumentRow], into: Counter[Group] | None = None
) -> Counter[Group]:
    """The rows tallied by :data:`Group` (into ``into``, when given). A list has tens of
    thousands of rows but only a few dozen groups: each group is read once
    (:func:`rounds_of`)."""
    groups: Counter[Group] = Counter() if into is None else into
    groups.update(
        (
            row["expiration"],
            (rid := row["id"]).partition("-")[0],
            row.get("option_type"),
            row.get("status"),
            rid[-2:],
        )
        for row in rows
    )  # Counter's own counting loop, not a += per row
    return groups


def rounds_of(groups: Counter[Group]) -> Rounds:
    """The rounds the groups make up."""
    rounds: Rounds = {}
    for (expiration, head, option_type, status, tail), n in groups.items():
        r = rounds.get(expiration)
        if r is None:
            r = rounds[expiration] = _Round()
        side = side_of(tail, option_type)
        r.instruments += n
        if side == "C":
            r.calls += n
        elif side == "P":
            r.puts += n
        # Venue text (an asset from the id, a status word) on its way to a terminal:
        # escape sequences and control characters removed, once per group.
        r.per_asset[(printable(asset_of(head)), side)] += n
        if status is not None:
            r.statuses.add(printable(status))
    return rounds


@dataclass(frozen=True, slots=True)
class Counted:
    """The instrument list, counted: its rounds, the rows skipped (named), how many rows
    it held and whether it held more than were read (``max_rows``)."""

    rounds: Rounds
    skipped: list[str]
    total: int
    truncated: bool


async def count_list(body: bytes, max_rows: int, *, scrub: Scrub | None = None) -> Counted:
    """``GET /v1/market/instruments`` counted, a slice at a time (:class:`ListSlices`;
    a key being answered goes first between two slices), or read whole when a slice is
    no list of instruments (:func:`read_instrument_list`). Raises :class:`Unreadable`."""
    sliced = ListSlices(body, max_rows)
    groups: Counter[Group] = Counter()
    seen: set[str] = set()
    for rows in sliced:
        tally_groups(once_each(rows, seen), groups)
        await INPUT_FIRST.turn()
    if not sliced.failed:
        return Counted(rounds_of(groups), sliced.skipped, sliced.total, sliced.truncated)
    listing = read_instrument_list(body, max_rows, scrub=scrub)
    return Counted(count_rounds(listing.rows), listing.skipped, listing.total, listing.truncated)


def group_targets(
    venue: str,
    instruments: Iterable[InstrumentRow] | Rounds,
    known: Mapping[int, Knowledge],
    *,
    now: float,
) -> list[Target]:
    """One Target per expiration present in ``instruments`` (or already counted), oldest first."""
    rounds = instruments if isinstance(instruments, dict) else count_rounds(instruments)
    confirmed = time.time()
    return [
        _target(venue, expiration, rounds[expiration], known.get(expiration), now, confirmed)
        for expiration in sorted(rounds)
    ]


def _target(
    venue: str,
    expiration: int,
    r: _Round,
    knowledge: Knowledge | None,
    now: float,
    confirmed: float,
) -> Target:
    per_asset = r.per_asset
    assets = tuple(sorted({asset for asset, _ in per_asset}))
    by_asset = " · ".join(f"{a} {per_asset[(a, 'C')]}C/{per_asset[(a, 'P')]}P" for a in assets)
    attrs: dict[str, AttrValue] = {
        "expiration": expiration,
        "instruments": r.instruments,
        "calls": r.calls,
        "puts": r.puts,
        "assets": assets,
        "by_asset": by_asset,
        "pause_source": "unknown",
        "set_at": None,
        "drift": None,
    }
    state, raw = State.UNKNOWN, NOT_REPORTED
    if knowledge is not None:
        attrs["pause_source"] = "set here"
        attrs["set_at"] = iso(knowledge.at)
        attrs["drift"] = knowledge.drift
        state = State.PAUSED if knowledge.paused else State.RUNNING
        raw = f"paused={'true' if knowledge.paused else 'false'}"
    if r.statuses:
        # A status word Joyride never documented: show it, guess nothing.
        state, raw = State.UNKNOWN, ",".join(sorted(r.statuses))
        attrs["pause_source"] = "unknown"
    if expiration <= now:
        state, raw = State.STOPPED, "expired"
    return Target(
        venue=venue,
        kind=TargetKind.EXPIRATION,
        id=str(expiration),
        name=expiration_name(expiration),
        state=state,
        raw_status=raw,
        attrs=attrs,
        confirmed_at=confirmed,
    )


def actionable(target: Target, now: float) -> bool:
    """A live round with instruments: one that pause and resume can reach."""
    expiration = parse_expiration(target.id)
    instruments = target.attrs.get("instruments", 1)
    return (
        target.kind is TargetKind.EXPIRATION
        and expiration is not None
        and expiration > now
        and not (isinstance(instruments, int) and instruments <= 0)
    )
