"""Reading x3algo's whole algorithm list, page by page, within bounds.

A venue's list is what a kill plans from and verifies against, so this reading says
exactly how much it could read, and never more than it knows:

* **Unreadable is not empty.** A page that is not the documented shape (``{}``, ``null``,
  an empty body, ``data`` that is not a list, a pagination block of the wrong types, a
  first page with no rows whose ``total`` says there are some) raises
  :class:`~console.venues.kit.feeds.Unreadable` — never "no algorithms".
* **A bad row fails only itself.** A page the fast reading refuses is read row by row;
  a row that cannot be read is left out and named (``skipped``: ``"<id>: <why>"``).
* **Bounded.** At most ``max_pages`` pages and ``max_targets`` algorithms per read, and
  no more pages than the allowance the client gives (what x3algo's read budget can pay
  for within the Retry-After cap, see :meth:`X3AlgoClient._page_allowance`); a page
  whose turn comes when the budget has no room left stops the read too. A page that
  repeats only algorithms already listed means the paging does not advance. Any of
  these, and a later page that fails, raise :class:`~console.venues.kit.feeds.Incomplete`
  with the algorithms read so far (a kill halts those, and says the venue is
  incomplete). The first page failing raises what it raised: nothing was read.

Pages are read four at a time (``PAGES_AT_ONCE``) in a task group, so a caller that
gives up (``asyncio.timeout``) cancels every page still in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from console.core.model import Target
from console.core.scrub import printable
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable, describe
from console.venues.kit.http import Reply
from console.venues.x3algo_rows import ROW, ROWS_PAGE, AlgorithmRow, row_target
from console.venues.x3algo_wire import Pagination

PAGE_LIMIT = 100
PAGES_AT_ONCE = 4
"""Pages of the list in flight at once. All 59 pages of a 6,000-algorithm list at once
came back together and were parsed back to back, holding the screen's event loop for
100–200 ms per poll (key presses waited behind them); four at a time on loopback reads
the list about as fast and leaves the loop free between pages."""

Scrub = Callable[[str], str]
Fetch = Callable[[int], Awaitable["Page"]]
Room = Callable[[], "str | None"]


@dataclass(slots=True)
class Page:
    """One page of the list, read: its readable rows, pagination, and what was left out."""

    number: int
    pagination: Pagination | None
    rows: list[AlgorithmRow]
    sent: int  # rows the venue sent, readable or not
    skipped: list[str] = field(default_factory=list)

    @property
    def total_pages(self) -> int | None:
        return self.pagination.total_pages if self.pagination is not None else None


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many pages one read may request, and what limits it (in words)."""

    pages: int
    why: str


# ----- one page ---------------------------------------------------------------------
def parse_page(content: bytes, number: int, scrub: Scrub) -> Page:
    """A 200's body as one page of the list. Raises :class:`Unreadable` (only) when the
    body is not the documented shape; a row that cannot be read is skipped and named."""
    try:
        body = ROWS_PAGE.validate_json(content)
    except (ValidationError, RecursionError):
        return _parse_row_by_row(content, number, scrub)
    page = Page(number, body.get("pagination"), [], len(body["data"]))
    for index, row in enumerate(body["data"]):
        _keep(page, index, row, scrub)
    _check_first(page, scrub)
    return page


def _parse_row_by_row(content: bytes, number: int, scrub: Scrub) -> Page:
    """The page the fast reading refused: say what is wrong with it as a whole, or read
    each row on its own so one bad row costs only itself."""
    where = f"the algorithm list (page {number})"
    if not content.strip():
        raise _unreadable(f"x3algo answered {where} with an empty body", scrub)
    try:
        body = Reply(200, {}, content, 0.0).json()
    except ValueError as exc:
        raise _unreadable(f"x3algo sent an unreadable answer to {where}: {exc}", scrub) from None
    if not isinstance(body, dict):
        raise _unreadable(f"x3algo answered {where} with {_kind(body)}, not an object", scrub)
    data = body.get("data")
    if not isinstance(data, list):
        keys = ", ".join(repr(k[:40]) for k in list(body)[:6]) or "no keys"
        shown = "without a data list" if data is None else f"with data as {_kind(data)}"
        raise _unreadable(f"x3algo answered {where} {shown} ({keys})", scrub)
    pagination = None
    if body.get("pagination") is not None:
        try:
            pagination = Pagination.model_validate(body["pagination"])
        except ValidationError as exc:
            why = f"an unreadable pagination block ({_problem(exc)})"
            raise _unreadable(f"x3algo answered {where} with {why}", scrub) from None
    page = Page(number, pagination, [], len(data))
    for index, raw in enumerate(data):
        try:
            row = ROW.validate_python(raw)
        except ValidationError as exc:
            page.skipped.append(scrub(f"{_row_name(raw, index, number)}: {_problem(exc)}"))
            continue
        except RecursionError:
            page.skipped.append(scrub(f"{_row_name(raw, index, number)}: nested too deeply"))
            continue
        _keep(page, index, row, scrub)
    _check_first(page, scrub)
    return page


def _keep(page: Page, index: int, row: AlgorithmRow, scrub: Scrub) -> None:
    """A readable row, unless it has no id to address it by."""
    if row["id"].strip():
        page.rows.append(row)
    else:
        page.skipped.append(scrub(f"{_row_name(row, index, page.number)}: no id"))


def _check_first(page: Page, scrub: Scrub) -> None:
    """A first page without rows whose ``total`` counts some is not an empty account."""
    total = page.pagination.total if page.pagination is not None else None
    if page.number == 1 and page.sent == 0 and total is not None and total > 0:
        raise _unreadable(
            f"x3algo's algorithm list says it holds {total} algorithms but its first page "
            f"lists none",
            scrub,
        )


def _unreadable(text: str, scrub: Scrub) -> Unreadable:
    return Unreadable(
        scrub(f"{printable(text)}; nothing can be said of its algorithms (not read as none)")
    )


def _problem(exc: ValidationError) -> str:
    """The first thing pydantic refused, without the value it refused."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if not errors:
        return "not the documented shape"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    text = f"{where}: {first['msg']}" if where else first["msg"]
    return printable(text)[:200]


def _row_name(row: object, index: int, number: int) -> str:
    """How a row is named in ``skipped``: its id when it has one, else its place."""
    row_id = row.get("id") if isinstance(row, dict) else None
    if isinstance(row_id, str) and row_id.strip():
        return printable(row_id)[:64]
    return f"row {index + 1} of page {number}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return "a number"


# ----- the whole list -----------------------------------------------------------------
class AlgorithmList:
    """The list as read last, and how to read it again.

    A row identical to the one read last time keeps its parsed target (re-confirmed now):
    a poll of 6,000 algorithms, of which a few dozen moved, maps a few dozen, not 6,000,
    on the screen's own loop.
    """

    def __init__(self, venue: str, names: dict[str, str], max_targets: int) -> None:
        self.venue = venue
        self.names = names  # id -> name, shared with the client's messages
        self.max_targets = max_targets
        self.skipped: list[str] = []  # of the last read
        self.pages_read = 0  # pages requested by the last read
        self._cache: dict[str, tuple[AlgorithmRow, Target]] = {}

    async def read(self, fetch: Fetch, allowance: Allowance, room: Room) -> list[Target]:
        """Every algorithm, or :class:`Incomplete` with those read before it stopped."""
        self.skipped, self.pages_read = [], 1
        first = await fetch(1)
        pages = [first]
        total = first.total_pages
        if total is None:  # no pagination block: read on until a short page
            problem = await self._read_on(fetch, pages, allowance, room)
        else:
            problem = await self._read_rest(fetch, pages, total, allowance, room)
        targets, cap_problem = self._targets(pages)
        for page in pages:
            self.skipped += page.skipped
        problem = problem or cap_problem
        if problem is not None:
            raise Incomplete(
                f"x3algo's algorithm list could not be read to its end: {problem}. "
                f"{_count(len(targets), 'algorithm')} were read from "
                f"{_count(self.pages_read, 'page')}; any others are unknown",
                targets,
            )
        return targets

    async def _read_on(
        self, fetch: Fetch, pages: list[Page], allowance: Allowance, room: Room
    ) -> str | None:
        """Without pagination: one page after another while they come back full."""
        seen = {row["id"] for row in pages[0].rows}
        while pages[-1].sent >= PAGE_LIMIT:
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
                return _repeats(number)
            seen |= ids
        return None

    async def _read_rest(
        self, fetch: Fetch, pages: list[Page], total: int, allowance: Allowance, room: Room
    ) -> str | None:
        """With ``totalPages``: pages 2.. read ``PAGES_AT_ONCE`` at a time, in order."""
        last = min(total, allowance.pages)
        numbers = iter(range(2, last + 1))
        read: dict[int, Page] = {}
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
                return _repeats(page.number)
            seen |= ids
        if total > last:
            return (
                f"x3algo says it has {total} pages, more than one read may take ({allowance.why})"
            )
        return None

    def _too_many(self) -> str:
        return f"it holds more than {self.max_targets} algorithms (max_targets)"

    def _targets(self, pages: list[Page]) -> tuple[list[Target], str | None]:
        """The pages' rows as targets (one per id), at most ``max_targets`` of them."""
        now = time.time()
        cached = self._cache
        fresh: dict[str, tuple[AlgorithmRow, Target]] = {}
        seen: dict[str, Target] = {}
        problem = None
        for page in pages:
            for row in page.rows:
                target_id = row["id"]
                if target_id not in seen and len(seen) >= self.max_targets:
                    problem = self._too_many()
                    break
                hit = cached.get(target_id)
                if hit is not None and hit[0] == row:
                    old = hit[1]
                    target = Target(old.venue, old.kind, old.id, old.name, old.state,
                                    old.raw_status, old.attrs, now)  # fmt: skip
                else:
                    target = row_target(self.venue, row, now)
                    self.names[target_id] = row.get("name", "")
                seen[target_id] = target
                fresh[target_id] = (row, target)
            if problem is not None:
                break
        if problem is None and all(p.number == i + 1 for i, p in enumerate(pages)):
            self._cache = fresh  # algorithms no longer listed drop out of the cache
        else:
            self._cache.update(fresh)
        return list(seen.values()), problem


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _repeats(number: int) -> str:
    return (
        f"page {number} lists only algorithms earlier pages listed (x3algo's paging does "
        f"not advance)"
    )
