"""FinRadar sniper rows as targets: one SNIPER target per row of the list, and what this
client remembers of each (for ``read_target``'s filter and telling *already* from
*applied*).

Target attrs (docs/ATTRIBUTES.md): ``ticker``, ``window_start``, ``window_end``,
``form_types`` (empty tuple = any filing), ``resolution``, ``filing_uuid``,
``slots_available``, ``slots_total``, ``created_at``, ``stopped_at``.

The whole list as rows (:func:`read_whole`). Offset paging over a newest-first list lies
easily: a venue may serve fewer rows than asked while more remain, a row may vanish
between two page reads (every later offset then skips one target), an answer may say
``meta.total`` is 4 and list none, or list one id twice. The rules (docs/venues/
finradar.md, "Bounds"):

* With ``meta.total`` the read ends when the offset reaches it (or at an empty page),
  never at a merely short page (one request for a list of one page); ``has_more: true``
  past the total reads on. Without a total the read goes on to an empty page, or to a
  page saying ``has_more: false`` (undocumented; a JSON boolean only): a short page is
  no proof of the end, since a venue may serve fewer rows a page than asked.
* A venue seen capping its pages (a short page, then a page of only new rows) has pages
  of that size counted as full on the client's later reads: never as an end (a cap in
  rows is the venue's to change), only so that such a page followed by the same rows is
  a venue ignoring ``offset`` (:class:`Incomplete`), not one that does not page (whole).
* ``meta.total`` changing between two pages, or an id coming back on a later page while
  the total stayed put, means the list moved under the read: the read goes on to its end
  (every row it can reach is kept), then starts again from offset 0, at most
  :data:`READS` reads in all, then :class:`Incomplete` with every row read.
* Unless two reads in a row are the same (the same ids on the same pages in the same
  states, one total all along): the list did not change while it was read, so an id
  that came back on a later page is one id on two rows (a twin across a page
  boundary), named like one on two rows of one answer, and the read is whole.
* At the end, the rows listed must number ``meta.total``: none listed while it counts
  some is :class:`Unreadable`; any other difference is :class:`Incomplete` with what was
  read (a kill halts those).
* An id on two rows of one answer is never merged silently: it stays one target (one
  stop addresses the id), read as its least-stopped row, and is named in the notes, so a
  kill never calls the venue cleanly halted.
* A page that adds no new row at all (a venue ignoring ``offset``), more than
  ``max_pages`` pages or more than ``max_targets`` targets: :class:`Incomplete`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from console.core.model import ActionKind, ActionSpec, AttrValue, State, Target, TargetKind
from console.venues.finradar.wire import READING, ListMeta, Page, SniperTarget, state_of
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.kit.http import QueryValue

STOP_SPEC = ActionSpec(
    kind=ActionKind.STOP,
    label="Stop sniper",
    leaves_behind="frees a plan slot; a stopped target cannot be restarted — create a new one",
)


@dataclass(frozen=True, slots=True)
class Seen:
    """What the last read said about a target (for read_target and already/applied)."""

    status: str
    ticker: str


def to_target(
    venue: str, row: SniperTarget, meta: ListMeta, slots_total: int, confirmed: float
) -> Target:
    """One sniper row as the console sees it (``slots_total``: the plan's, when the
    answer's ``meta`` does not say)."""
    forms = tuple(row.form_types or ())
    attrs: dict[str, AttrValue] = {
        "ticker": row.ticker,
        "window_start": row.start_time,
        "window_end": row.end_time,
        "form_types": forms,
        "resolution": row.resolution_reason,
        "filing_uuid": row.filing_uuid,
        "slots_available": meta.slots_available,
        "slots_total": meta.slots_total or slots_total,
        "created_at": row.created_at,
        "stopped_at": row.stopped_at,
    }
    scope = ", ".join(forms) if forms else "any filing"
    return Target(
        venue=venue,
        kind=TargetKind.SNIPER,
        id=row.target_id,
        name=f"{row.ticker} sniper ({scope})",
        state=state_of(row.status),
        raw_status=row.status,
        attrs=attrs,
        confirmed_at=confirmed,
    )


def label(target_id: str, ticker: str | None) -> str:
    """How messages name a sniper: ``TSLA sniper tgt_…`` once its ticker is known."""
    return f"{ticker} sniper {target_id}" if ticker else f"sniper {target_id}"


# ----- the whole list, through offset pages ----------------------------------------------
READS = 3  # a list that moved while it was read is read again from the start, twice at most
_RANK = {State.RUNNING: 0, State.UNKNOWN: 1, State.STOPPED: 2}


@dataclass(slots=True)
class Listing:
    """Every row of one list read, so far."""

    rows: dict[str, SniperTarget] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    meta: ListMeta = field(default_factory=ListMeta)
    twins: dict[str, int] = field(default_factory=dict)  # id -> rows of one answer carrying it
    spread: dict[str, list[int]] = field(default_factory=dict)  # id -> the pages listing it
    # (twins across pages: a list read twice alike, so they were not a moving list)
    earlier: dict[str, SniperTarget] = field(default_factory=dict)  # of reads that moved

    def notes(self) -> list[str]:
        """What was not read cleanly: ``<id>: <why>`` (unscrubbed)."""
        notes = [f"{key}: {why}" for key, why in self.skipped.items()]
        notes += [
            f"{key}: FinRadar lists this id on {count} rows of one answer; shown once, as "
            "its least-stopped row, and a stop addresses the id once — check in FinRadar's "
            "dashboard that every copy stopped"
            for key, count in self.twins.items()
            if key not in self.spread
        ]
        notes += [
            f"{key}: FinRadar lists this id on {len(pages) + self.twins.get(key, 1) - 1} rows, "
            f"on pages {_pages(pages)} of a list read twice alike (it did not change while "
            "it was read); shown once, as its least-stopped row, and a stop addresses the "
            "id once — check in FinRadar's dashboard that every copy stopped"
            for key, pages in self.spread.items()
        ]
        return notes

    def keep(self, row: SniperTarget) -> None:
        """``row`` into the rows; of two rows with one id the least stopped stands."""
        held = self.rows.get(row.target_id)
        if held is None or _rank(row) < _rank(held):
            self.rows[row.target_id] = row

    def restart(self) -> None:
        """The list moved: what was read stays known (for a partial), the read begins again."""
        self.earlier.update(self.rows)
        self.rows, self.skipped, self.twins, self.spread = {}, {}, {}, {}

    def everything(self) -> None:
        """Rows of every read of this listing, the latest winning (for an incomplete one)."""
        self.rows = {**self.earlier, **self.rows}


@dataclass(frozen=True, slots=True)
class Bounds:
    page_size: int
    max_pages: int
    max_targets: int
    # Page sizes below ``page_size`` this venue was seen to cap at (a short page, then a
    # page of new rows): such a page counts as full, never as "the venue does not page".
    # The client's, kept across its reads; never a reason to end a read.
    caps: set[int] = field(default_factory=set)


Fetch = Callable[[Mapping[str, QueryValue]], Awaitable[Page]]
ToTargets = Callable[[Listing], list[Target]]


async def read_whole(
    fetch: Fetch,
    filters: Mapping[str, QueryValue],
    listing: Listing,
    bounds: Bounds,
    targets: ToTargets,
) -> None:
    """Every page of the (filtered) list into ``listing``, by the rules above.

    ``fetch`` reads one page (raising the venue's FeedError); ``targets`` turns the
    listing into targets for an :class:`Incomplete`'s partial.
    """
    pages = 0
    before: Read | None = None
    for _ in range(READS):
        if before is not None:
            listing.restart()
        read = await _read_once(fetch, filters, listing, bounds, targets, pages)
        pages = read.pages
        if not read.moved:
            listing.earlier = {}
            return
        if before is not None and read.same_as(before):
            # Read twice alike: the list did not move. Each id that came back is one id
            # on rows of two pages (a twin across a page boundary), named as such.
            listing.spread = dict(read.came_back)
            if read.total is not None:
                _check_count(listing, read.listed, read.total, targets)
            listing.earlier = {}
            return
        before = read
    listing.everything()
    moved = before.moved if before is not None else ""
    raise Incomplete(
        f"{READING}: the list changed while it was read, {READS} reads running "
        f"({moved}); a target may have been skipped — {len(listing.rows)} targets read, "
        "check FinRadar's dashboard for the rest",
        targets(listing),
    )


@dataclass(slots=True)
class Read:
    """One read from offset 0: why the list seemed to move ("" when it did not), and
    what it saw, to tell a list read twice alike (a twin across pages) from one moving."""

    pages: int  # pages requested so far, over every read
    moved: str = ""
    total_moved: bool = False  # meta.total changed between two of its pages
    short_page: bool = False  # with no total: the last page held fewer rows than asked
    # (and than a cap the venue was seen to serve, and it did not say has_more)
    total: int | None = None
    listed: int = 0  # rows in the answers, parsed or not
    came_back: dict[str, list[int]] = field(default_factory=dict)  # id -> its pages
    shape: list[tuple[object, ...]] = field(default_factory=list)  # per page: what it held

    def same_as(self, other: Read) -> bool:
        """Both moved only by ids coming back, and saw the same pages: the same ids on
        the same pages in the same states, the same total (so the list did not move)."""
        return (
            not self.total_moved
            and not other.total_moved
            and bool(self.came_back)
            and self.came_back == other.came_back
            and self.shape == other.shape
        )


async def _read_once(
    fetch: Fetch,
    filters: Mapping[str, QueryValue],
    listing: Listing,
    bounds: Bounds,
    targets: ToTargets,
    pages: int,
) -> Read:
    """One read from offset 0, to its end even when the list moved under it (so every
    row that can be read is): its :class:`Read` (``moved`` "" when whole)."""
    offset = 0
    total: int | None = None
    read = Read(pages)
    pages_of: dict[str, int] = {}  # id -> the page of this read it was first listed on
    short = 0  # rows of this read's previous page, when fewer than asked
    while True:
        if read.pages >= bounds.max_pages:
            listing.everything()
            raise Incomplete(
                f"{READING}: the list did not end within {bounds.max_pages} pages "
                f"({len(listing.rows)} targets read; max_pages)",
                targets(listing),
            )
        try:
            page = await fetch({**filters, "limit": bounds.page_size, "offset": offset})
        except Incomplete:
            raise
        except FeedError as exc:
            if not offset and not listing.rows and not listing.earlier:
                raise  # nothing was read: the venue's own words, its own kind
            raise _failed_later(offset, exc, listing, targets) from None
        read.pages += 1
        listing.meta = page.meta
        if offset and page.meta.total != total:
            read.total_moved = True
            if not read.moved:
                read.moved = f"its total went from {total} to {page.meta.total} between two pages"
        total = read.total = page.meta.total
        read.shape.append((
            offset, total, tuple((r.target_id, r.status) for r in page.rows),
            tuple(sorted(page.skipped)),
        ))  # fmt: skip
        known = len(listing.rows) + len(listing.skipped)
        number = len(read.shape)  # this page's number within this read
        came_back = _take(page, listing, pages_of, number)
        now = len(listing.rows) + len(listing.skipped)
        if now > bounds.max_targets:
            listing.everything()
            raise Incomplete(
                f"{READING}: more than {bounds.max_targets} targets (max_targets); "
                f"stopped after {read.pages} pages",
                targets(listing)[: bounds.max_targets],
            )
        if page.size and now == known:
            if total is None and read.short_page:  # a short page, then the same rows:
                return read  # a venue that does not page at all (ignores offset) sent it all
            listing.everything()
            raise Incomplete(
                f"{READING}: the page at offset {offset} repeats rows already read (the "
                "venue ignores offset); the rest of the list is unknown",
                targets(listing),
            )
        if came_back and total is not None:
            for key in came_back:
                read.came_back.setdefault(key, [pages_of[key]]).append(number)
            if not read.moved:
                read.moved = f"{came_back[0]} came back on a later page"
        if short and now > known and not came_back:  # a short page, then only new rows:
            bounds.caps.add(short)  # the venue caps its pages at that size
        short = page.size if 0 < page.size < bounds.page_size else 0
        offset += page.size
        read.listed += page.size
        more = page.meta.has_more  # undocumented: True, False, or None (not said)
        if total is None:  # the documented meta holds no total: read to an empty page
            if page.size == 0 or more is False:  # (or to the venue saying there is none)
                return read
            # A short page is not taken as the end: a venue serving fewer rows a page
            # than asked (its own cap) and saying no total was read as a list of one
            # page (session 16). The next offset, empty, ends it.
            read.short_page = bool(short) and short not in bounds.caps and more is not True
            continue
        # The total reached ends the read, unless the venue says more pages follow (it
        # contradicts itself: read on, and rows past the total are never the whole list).
        if page.size == 0 or (offset >= total and more is not True):
            if not read.moved:
                _check_count(listing, read.listed, total, targets)
            return read


def _failed_later(offset: int, exc: FeedError, listing: Listing, targets: ToTargets) -> Incomplete:
    """A page after rows were read failed: what was read is true and is halted, the rest
    is unknown (:class:`Incomplete`). Raised as the page's own error, a list whose first
    page held every target and whose next, read only to find the end, answered 500 was
    *unreachable*, and a kill stopped none of them (an independent FinRadar)."""
    listing.everything()
    words = str(exc).removeprefix(f"{READING}: ")
    return Incomplete(
        f"{READING}: the page at offset {offset} failed ({words}); {len(listing.rows)} "
        "targets read before it, any others unknown",
        targets(listing),
    )


def _take(page: Page, listing: Listing, pages_of: dict[str, int], number: int) -> list[str]:
    """The page's rows into ``listing``; the ids an earlier page of this read listed
    too, and each id listed twice within this page counted as a twin."""
    came_back: list[str] = []
    here: dict[str, int] = {}
    for row in page.rows:
        key = row.target_id
        here[key] = here.get(key, 0) + 1
        first_page = pages_of.setdefault(key, number)
        if first_page != number and here[key] == 1:
            came_back.append(key)
        listing.keep(row)
        listing.skipped.pop(key, None)
    for key, count in here.items():
        if count > 1:
            listing.twins[key] = listing.twins.get(key, 0) + count
    for key, why in page.skipped.items():
        if key not in listing.rows:
            listing.skipped.setdefault(key, why)
    return came_back


def _check_count(listing: Listing, listed: int, total: int, targets: ToTargets) -> None:
    """A whole read lists ``meta.total`` rows; anything else is never the complete list."""
    if listed == total:
        return
    if listed == 0:
        raise Unreadable(
            f"{READING}: the answer says FinRadar holds {total} targets but lists none "
            "(never read as no targets) — refresh, or stop them in FinRadar's dashboard"
        )
    listing.everything()
    raise Incomplete(
        f"{READING}: the answers say FinRadar holds {total} targets but list {listed} "
        "rows; the list is not known whole — check FinRadar's dashboard for the rest",
        targets(listing),
    )


def _pages(numbers: list[int]) -> str:
    """``1 and 2``, ``1, 2 and 3``."""
    shown = [str(n) for n in numbers]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _rank(row: SniperTarget) -> int:
    return _RANK.get(state_of(row.status), 1)
