"""Reading a venue's whole list, page after page, within bounds.

A venue's list is what a kill plans from and verifies against, so this reading says
exactly how much it could read, and never more than it knows:

* **Unreadable is not empty.** The vendor's page reader (``fetch``) raises
  :class:`~console.venues.kit.feeds.Unreadable` for a page not in its documented shape.
* **A bad row fails only itself.** The page reader leaves out a row it cannot read and
  names it (:attr:`Page.skipped`: ``"<id>: <why>"``); this reading gathers those names.
* **Bounded.** At most ``max_pages`` pages and ``max_targets`` targets per read, and no
  more pages than the :class:`Allowance` gives (what the venue's read budget can pay for
  within the Retry-After cap, :func:`page_allowance`); a page whose turn comes when the
  budget has no room left (:func:`room_for_a_page`) stops the read too. A page that
  repeats only targets already listed means the paging does not advance. Any of these,
  and a later page that fails, raise :class:`~console.venues.kit.feeds.Incomplete` with
  the targets read so far (a kill halts those, and says the venue is incomplete). The
  first page failing raises what it raised: nothing was read.

Pages are read four at a time (``PAGES_AT_ONCE``) in a task group, so a caller that
gives up (``asyncio.timeout``) cancels every page still in flight. Each page is mapped
to targets as it arrives (issue 13, last pass): the whole list mapped after its last
page held the screen's loop 50–113 ms CPU per x3algo poll at ~12,000 targets (30 such
callbacks over 50 ms in a 3-minute run; up to 560 ms wall at ~50,000); page by page, the
poll's longest callback is the store's snapshot (10–38 ms CPU, none over 50 ms). No row
is kept between reads (:class:`PagedList`). x3algo reads its
algorithm list this way (:class:`PagedList`, numbered pages; docs/venues/x3algo.md,
"Bounds"); PipAI follows a cursor from page to page (:class:`CursorList`: one page at a
time, a repeated or oversized cursor stops it).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from console.core.input_first import INPUT_FIRST
from console.core.model import Target
from console.core.scrub import Scrub, exception_line, printable, scrub_head
from console.venues.kit.feeds import FeedError, Incomplete, describe
from console.venues.kit.pacing import Pacer, wait_words
from console.venues.kit.scrubber import VenueScrubber

PAGES_AT_ONCE = 4
"""Pages of the list in flight at once. All 59 pages of a 6,000-algorithm list at once
came back together and were parsed back to back, holding the screen's event loop for
100–200 ms per poll (key presses waited behind them); four at a time on loopback reads
the list about as fast and leaves the loop free between pages."""

Row = TypeVar("Row", bound=Mapping[str, Any])
Room = Callable[[], "str | None"]


@dataclass(slots=True)
class Page(Generic[Row]):
    """One page of the list, read: its readable rows, its page count when the venue
    gave one, and what was left out."""

    number: int
    total_pages: int | None
    rows: list[Row]
    sent: int  # rows the venue sent, readable or not
    skipped: list[str] = field(default_factory=list)
    total: int | None = None  # the rows the venue says the whole list holds, when it says
    # The venue says more pages follow (an undocumented ``hasMore``, or a page as full as
    # the ``limit`` it says it used, below the one asked): read on.
    more: bool = False


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many pages one read may request, and what limits it (in words)."""

    pages: int
    why: str


@dataclass(frozen=True, slots=True)
class ListWords:
    """How messages name the list: ``"x3algo"``, ``"algorithm"`` (plural: noun + s)."""

    venue: str
    noun: str
    plural: str | None = None

    @property
    def nouns(self) -> str:
        return self.plural or self.noun + "s"


# ----- what the read budget allows ----------------------------------------------------
def reserve_of(pacer: Pacer, share: float) -> int:
    """Reads a list leaves to others: ``share`` of the budget, at least 3, at most half."""
    limit = pacer.rate.limit
    return min(max(3, int(limit * share)), limit // 2)


def page_allowance(
    venue: str, pacer: Pacer, *, max_pages: int, cap_s: float, reserve: int, pacing: bool
) -> Allowance:
    """Pages one list read may request: ``max_pages``, and no more than the budget can
    pay for within the Retry-After cap while leaving ``reserve`` reads for others. An
    endless list then stops as incomplete in seconds, instead of spending the whole
    budget and holding every later read (the kill's re-read first) for up to a window."""
    if not pacing:
        return Allowance(max_pages, f"max_pages is {max_pages}")
    limit = pacer.rate.limit
    low, high = 0, max(0, limit - reserve)
    while low < high:  # the most pages the pacer lets go within the cap
        mid = (low + high + 1) // 2
        if pacer.delay_for(mid + reserve) <= cap_s:
            low = mid
        else:
            high = mid - 1
    if low >= max_pages:
        return Allowance(max_pages, f"max_pages is {max_pages}")
    return Allowance(
        low,
        f"{venue} allows {limit} reads per {wait_words(pacer.rate.window_s)}; {low} fit "
        f"within {cap_s:g} s, keeping {reserve} for re-reads",
    )


def room_for_a_page(venue: str, pacer: Pacer, *, cap_s: float, reserve: int) -> str | None:
    """Why the budget cannot pay for one more page (and the reserve) within the cap, or
    None when it can; asked before every page past the first, as other reads share it."""
    wait = pacer.delay_for(1 + reserve)
    if wait <= cap_s:
        return None
    return f"{venue}'s read budget is spent for {wait_words(wait)}"


# ----- the whole list -----------------------------------------------------------------
class PagedList(Generic[Row]):
    """How to read the list, page after page; each page is mapped to targets as it
    arrives, so a poll of 6,000 algorithms costs 60 short callbacks on the screen's own
    loop, not one long one at the end.

    No row is kept once mapped. Until issue 13's last pass the rows of the last read were
    kept (~900 bytes of dicts per algorithm, 5 MB at ~12,000 targets, ~20 MB at ~50,000)
    so that an unchanged row could keep its target; mapped page by page, mapping every
    row costs ~2 µs a row more (~12 ms a poll of 6,000, in 60 slices) and holds nothing.
    """

    def __init__(
        self,
        words: ListWords,
        *,
        page_limit: int,
        max_targets: int,
        to_target: Callable[[Row, float], Target],
        scrubber: VenueScrubber | None = None,
    ) -> None:
        self.words = words
        self.scrubber = scrubber  # twin notes are scrubbed before they are cut
        self.page_limit = page_limit  # a page this full may have a next one
        self.max_targets = max_targets
        self.to_target = to_target  # a row as a Target, confirmed at the time given
        self.skipped: list[str] = []  # of the last read
        self.pages_read = 0  # pages requested by the last read

    async def read(
        self, fetch: Callable[[int], Awaitable[Page[Row]]], allowance: Allowance, room: Room
    ) -> list[Target]:
        """Every target, or :class:`Incomplete` with those read before it stopped."""
        self.skipped, self.pages_read = [], 1
        mapped: dict[int, list[Target]] = {}

        async def fetch_and_map(number: int) -> Page[Row]:
            """A page, mapped to targets as it arrives: the mapping of a 6,000-row list
            is spread over 60 page callbacks instead of holding the loop at the end."""
            page = await fetch(number)
            mapped[number] = self._map(page)
            return page

        first = await fetch_and_map(1)
        pages = [first]
        total = first.total_pages
        if total is None:  # no page count: read on until a short page, and the total
            problem = await self._read_on(fetch_and_map, pages, allowance, room)
            problem = problem or self._short_of_total(pages)
        else:
            problem = await self._read_rest(fetch_and_map, pages, total, allowance, room)
            if problem is None and self._short_of_total(pages):
                # totalPages said the list ended, its total says it did not: read on
                # while pages come back full, and never call the list whole short of it.
                problem = await self._read_on(fetch_and_map, pages, allowance, room)
                problem = problem or self._short_of_total(pages)
        targets, cap_problem = self._targets(pages, mapped)
        for page in pages:
            self.skipped += page.skipped
        problem = problem or cap_problem
        if problem is not None:
            raise Incomplete(
                f"{self.words.venue}'s {self.words.noun} list could not be read to its "
                f"end: {problem}. {_count(len(targets), self.words)} were read from "
                f"{_count(self.pages_read, ListWords('', 'page'))}; any others are unknown",
                targets,
            )
        return targets

    async def _read_on(
        self,
        fetch: Callable[[int], Awaitable[Page[Row]]],
        pages: list[Page[Row]],
        allowance: Allowance,
        room: Room,
    ) -> str | None:
        """Without a page count: one page after another while they come back full, or
        while the rows sent fall short of the list's ``total`` and the last page brought
        some (a venue capping pages below the limit asked — x3algo's documented maximum
        is 100, an independent one sent 10 a page with ``total: 33`` and no
        ``totalPages``, and its first page was taken for the whole list: a kill said ALL
        HALTED with 7 algorithms running)."""
        seen = {row["id"] for row in pages[0].rows}
        while pages[-1].sent >= self.page_limit or pages[-1].more or self._more_by_total(pages):
            number = pages[-1].number + 1
            if len(seen) >= self.max_targets:
                return self._too_many()
            if number > allowance.pages:
                return f"it is longer than one read may take ({allowance.why})"
            if (why := room()) is not None:
                return f"page {number} was not read: {why}"
            self.pages_read = number
            try:
                page = await fetch(number)
            except FeedError as exc:
                return f"page {number} failed: {describe(exc)}"
            pages.append(page)
            ids = {row["id"] for row in page.rows}
            if ids and ids <= seen:
                return self._repeats(number)
            seen |= ids
        return None

    async def _read_rest(
        self,
        fetch: Callable[[int], Awaitable[Page[Row]]],
        pages: list[Page[Row]],
        total: int,
        allowance: Allowance,
        room: Room,
    ) -> str | None:
        """With ``totalPages``: pages 2.. read ``PAGES_AT_ONCE`` at a time, in order."""
        last = min(total, allowance.pages)
        numbers = iter(range(2, last + 1))
        read: dict[int, Page[Row]] = {}
        problems: dict[int, str] = {}
        rows = [len(pages[0].rows)]

        async def reader() -> None:
            for number in numbers:  # one shared iterator: each page is taken once
                if problems:
                    return
                if rows[0] >= self.max_targets:
                    problems[number] = self._too_many()
                    return
                if (why := room()) is not None:
                    problems[number] = f"page {number} was not read: {why}"
                    return
                self.pages_read = max(self.pages_read, number)
                if INPUT_FIRST.holding:  # a key being answered goes first (bounded)
                    await INPUT_FIRST.turn()
                try:
                    page = read[number] = await fetch(number)
                except FeedError as exc:
                    problems[number] = f"page {number} failed: {describe(exc)}"
                    return
                rows[0] += len(page.rows)

        if last >= 2:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(PAGES_AT_ONCE, last - 1)):
                    group.create_task(reader())
        pages += [read[n] for n in sorted(read)]
        if problems:
            return problems[min(problems)]
        seen = {row["id"] for row in pages[0].rows}
        for page in pages[1:]:
            ids = {row["id"] for row in page.rows}
            if ids and ids <= seen:
                return self._repeats(page.number)
            seen |= ids
        if total > last:
            return (
                f"{self.words.venue} says it has {total} pages, more than one read may "
                f"take ({allowance.why})"
            )
        return None

    @staticmethod
    def _more_by_total(pages: list[Page[Row]]) -> bool:
        """The first page's ``total`` counts more rows than the pages sent, and the last
        page sent some (an empty one ends the reading: :meth:`_short_of_total` says)."""
        total = pages[0].total
        return total is not None and pages[-1].sent > 0 and sum(p.sent for p in pages) < total

    def _short_of_total(self, pages: list[Page[Row]]) -> str | None:
        """Why the pages read cannot be the whole list: the first page's ``total`` counts
        more rows than every page sent together (x3algo said ``totalPages: 1`` with
        ``total: 150`` and 100 rows: 50 algorithms were never listed), or None."""
        total = pages[0].total
        sent = sum(page.sent for page in pages)
        if total is None or sent >= total:
            return None
        nouns, venue = self.words.nouns, self.words.venue
        counted = pages[0].total_pages
        said = f"; it said {counted} page(s)" if counted is not None else ""
        return (
            f"{venue} says it holds {total} {nouns} but its pages listed {sent} (pages "
            f"1–{pages[-1].number}{said})"
        )

    def _too_many(self) -> str:
        return f"it holds more than {self.max_targets} {self.words.nouns} (max_targets)"

    def _repeats(self, number: int) -> str:
        nouns, venue = self.words.nouns, self.words.venue
        return (
            f"page {number} lists only {nouns} earlier pages listed ({venue}'s paging does "
            f"not advance)"
        )

    def _map(self, page: Page[Row]) -> list[Target]:
        """A page's rows as targets, confirmed now."""
        now, to_target = time.time(), self.to_target
        return [to_target(row, now) for row in page.rows]

    def _targets(
        self, pages: list[Page[Row]], mapped: Mapping[int, list[Target]]
    ) -> tuple[list[Target], str | None]:
        """The pages' targets (one per id, in page order), at most ``max_targets``.

        An id met again on a later page in the same state counts once (numbered pages
        shift when the list changes between two page reads). An id twice on one page, or
        again in another state, is two rows the venue cannot tell apart by id: kept once
        (the row still running when one is, so a kill still sends its call), the twin
        named in ``skipped`` — never merged silently."""
        seen: dict[str, Target] = {}
        for page in pages:
            on_page: set[str] = set()
            for target in mapped[page.number]:
                known = seen.get(target.id)
                if known is None and len(seen) >= self.max_targets:
                    return list(seen.values()), self._too_many()
                if known is not None:
                    if target.id in on_page or known.state != target.state:
                        note = twin_note(target, self.words, page.number, self._scrub)
                        self.skipped.append(note)
                    if not known.state.halted or target.state.halted:
                        continue
                seen[target.id] = target
                on_page.add(target.id)
        return list(seen.values()), None

    @property
    def _scrub(self) -> Scrub | None:
        return self.scrubber.scrub if self.scrubber is not None else None


def twin_note(target: Target, words: ListWords, page_number: int, scrub: Scrub | None) -> str:
    """How a row whose id was already listed is named in ``skipped``.

    Its id and status are scrubbed, then cut (80 and 40 characters): cut first, a secret
    a venue echoed in an id could lose its end and no longer be recognised whole. With
    no ``scrub`` (a caller that scrubs whole notes itself) they are not cut at all."""
    ident, status = printable(target.id), printable(target.raw_status)
    if scrub is not None:
        ident, status = scrub_head(ident, 80, scrub), scrub_head(status, 40, scrub)
    return (
        f"{ident}: listed twice by {words.venue} (again on page {page_number}, "
        f"{status or target.state}); a call by id reaches only one of them: the id is "
        f"addressed once, the other row cannot be addressed or verified on its own — check "
        f"it in {words.venue} itself"
    )


def _count(n: int, words: ListWords) -> str:
    return f"{n} {words.noun}" if n == 1 else f"{n} {words.nouns}"


# ----- what a client remembers of listed targets ------------------------------------
def forget_unlisted(memory: dict[str, Any], listed: Collection[str], whole: int = 0) -> None:
    """Drop from ``memory`` (a client's per-id notes: a name, a status) every id the
    list just read no longer holds, once it holds more than twice that list (and 1,000
    more): a venue whose ids churn (every read new ids, as a broken or hostile one may)
    grew a client's notes by every id it ever listed. Pruned this rarely, a poll of an
    unchanging list costs nothing here. After a read that stopped part-way (``listed``
    is what it read), ``whole`` is the size of the last whole list: the notes of targets
    the short read did not reach are kept unless they outgrow that too."""
    if len(memory) <= 2 * max(len(listed), whole) + 1000:
        return
    keep = listed if isinstance(listed, set | frozenset | dict) else set(listed)
    for gone in [key for key in memory if key not in keep]:
        del memory[gone]


# ----- a list read by following the venue's cursor ------------------------------------
class CursorPage(Protocol):
    """One page read: its targets, the rows skipped (``"<id>: <why>"``), the cursor."""

    targets: list[Target]
    skipped: list[str]
    next_cursor: str | None
    # A page type may also say ``cursor_missing`` (True: no cursor key at all, so whether
    # more follow is unsaid); one that does not never ends a list that way.


class CursorList:
    """A list read page after page by sending back the cursor each page names (PipAI's
    strategies), within ``max_pages``, ``max_targets`` and ``max_cursor_chars``; a
    repeated cursor stops it, and so does a page that brings no id not read before (a
    fresh cursor on the same rows: the paging does not advance).

    An id listed twice on one page, or again on a later page in another state, is never
    merged silently: two rows the venue cannot tell apart by id. The id is kept once (the
    row still running when one is, so a kill still sends its call) and the twin is named
    in ``skipped`` ("listed twice"): the venue has a row the console cannot address on
    its own, never "all halted". An id again on a later page in the same state counts
    once, as numbered pages do: a cursor that includes the row it ends on (an independent
    PipAI repeated each page's last row at the top of the next; all were named
    unaddressable, though each was paused).

    A page with no cursor key at all (``cursor_missing``) keeps its rows and ends the list
    *incomplete*: it did not say whether more follow. The first page failing raises what
    it raised (nothing was read); any later stop raises :class:`Incomplete` with the
    targets read so far. Every text is scrubbed.
    """

    def __init__(
        self,
        words: ListWords,
        *,
        max_pages: int,
        max_targets: int,
        max_cursor_chars: int,
        scrubber: VenueScrubber,
    ) -> None:
        self.words = words
        self.max_pages = max_pages
        self.max_targets = max_targets
        self.max_cursor_chars = max_cursor_chars
        self.scrubber = scrubber
        self.skipped: list[str] = []  # of the last read, scrubbed

    async def read(self, fetch: Callable[[str | None, int], Awaitable[CursorPage]]) -> list[Target]:
        """Every target: ``fetch(cursor, number)`` reads one page (no cursor: the first)."""
        self.skipped = []
        venue, scrub = self.words.venue, self.scrubber.scrub
        targets: list[Target] = []
        ids: dict[str, int] = {}  # id -> its place in targets
        skipped: list[str] = []
        cursor: str | None = None
        seen: set[bytes] = set()
        pages = 0

        def incomplete(why: str) -> Incomplete:
            self.skipped = [scrub(printable(row)) for row in skipped]
            read = _count(len(targets), self.words)
            return Incomplete(
                scrub(f"{venue}'s {self.words.noun} list was not read to its end: {why}; "
                      f"{read} read from {pages} page(s) are kept"),
                targets,
            )  # fmt: skip

        while True:
            if pages >= self.max_pages:
                raise incomplete(f"still more pages after {self.max_pages} (max_pages)")
            try:
                page = await fetch(cursor, pages + 1)
            except FeedError as exc:
                if pages == 0:  # nothing read: the venue is unreachable or unreadable
                    raise self.scrubber.error(exc) from None
                raise incomplete(f"page {pages + 1} failed ({_words(exc)})") from None
            except Exception as exc:  # the last line of defence: a read raises FeedErrors
                why = f"failed inside the console ({type(exc).__name__}: {exception_line(exc, scrub)})"
                if pages == 0:
                    raise FeedError(scrub(f"{venue}'s {self.words.noun} list {why}")) from None
                raise incomplete(f"page {pages + 1} {why}") from None
            pages += 1
            skipped.extend(page.skipped)
            twins = [t for t in page.targets if t.id in ids]
            advances = page.skipped or len(twins) < len(page.targets) or not page.next_cursor
            if pages > 1 and not advances:
                if _mark(page.next_cursor) in seen:
                    raise incomplete(f"{venue} repeated a page cursor; stopped paging")
                raise incomplete(
                    f"page {pages} brought no {self.words.noun} earlier pages had not "
                    f"listed ({venue}'s paging does not advance)"
                )
            on_page: set[str] = set()
            for target in page.targets:
                place = ids.get(target.id)
                if place is None:
                    ids[target.id] = len(targets)
                    targets.append(target)
                    on_page.add(target.id)
                    continue
                if target.id not in on_page and targets[place].state == target.state:
                    continue  # a cursor that includes the row it ends on: the same one
                on_page.add(target.id)
                skipped.append(twin_note(target, self.words, pages, scrub))
                if targets[place].state.halted and not target.state.halted:
                    targets[place] = target  # a kill calls the id while one row runs
            if len(targets) > self.max_targets:
                del targets[self.max_targets :]
                raise incomplete(f"more than {self.max_targets} {self.words.nouns} (max_targets)")
            if getattr(page, "cursor_missing", False):  # its rows kept; more follow? unsaid
                raise incomplete(
                    f"page {pages} did not say whether more {self.words.nouns} follow (its "
                    "answer has no next_cursor)"
                )
            cursor = page.next_cursor
            if not cursor:
                self.skipped = [scrub(printable(row)) for row in skipped]
                return targets
            if len(cursor) > self.max_cursor_chars:
                raise incomplete(
                    f"{venue} sent a page cursor of {len(cursor)} characters; not followed"
                )
            try:
                mark = hashlib.sha256(cursor.encode()).digest()
            except UnicodeEncodeError:  # "\ud800" in JSON: no URL can carry it back
                raise incomplete(f"{venue} sent a page cursor that cannot be sent back") from None
            if mark in seen:
                raise incomplete(f"{venue} repeated a page cursor; stopped paging")
            seen.add(mark)


def _mark(cursor: str | None) -> bytes:
    """A cursor's fingerprint (b"" for none or one no URL can carry)."""
    try:
        return hashlib.sha256(cursor.encode()).digest() if cursor else b""
    except UnicodeEncodeError:
        return b""


def _words(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else type(exc).__name__
