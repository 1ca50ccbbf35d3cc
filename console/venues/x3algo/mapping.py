"""x3algo algorithms as the console's Targets, and a page of the list read into rows.

A 6,000-algorithm list is 60 pages read on the screen's own loop at start-up. Read the
way a single algorithm is (``json.loads``, then one pydantic model per row with every
config sub-object copied, then a Target) a page cost 1.7 ms; parsed by pydantic from the
bytes into plain dicts of the fields the console shows, 0.5 ms.

The rows read the same as :class:`~console.venues.x3algo.wire.Algorithm` does: the same
types and coercions, camelCase names or their snake_case twins, unknown fields ignored,
``status`` kept raw (tests/venues/test_x3algo_rows.py holds the two side by side). A page
the fast reading refuses is read again the tolerant way, which says what is wrong (or
reads what it can). One difference, on purpose: a field the console does not show (the
config sub-objects) is not read, so a malformed one no longer costs the whole page.
Both readings end in :func:`row_target`: one mapping to a Target, not two.

A page (:func:`parse_page`) not in the documented shape (``{}``, ``null``, an empty body,
``data`` that is not a list, a pagination block of the wrong types, a first page with no
rows whose ``total`` says there are some) raises
:class:`~console.venues.kit.feeds.Unreadable` — never "no algorithms"; a row that cannot
be read is left out and named (``skipped``: ``"<id>: <why>"``). Paging through the whole
list is :mod:`console.venues.kit.paging`'s.
"""

from __future__ import annotations

import time

from pydantic import ValidationError

from console.core.model import AttrValue, State, Target, TargetKind
from console.core.scrub import Scrub, printable, scrub_head
from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.json_screen import screen_duplicate_keys
from console.venues.kit.paging import Page
from console.venues.kit.shape import shape_problem
from console.venues.x3algo.outcomes import short_text
from console.venues.x3algo.wire import (
    ROW,
    ROWS_PAGE,
    Algorithm,
    AlgorithmRow,
    AlgorithmRowsPage,
    LastExecutionRow,
    Pagination,
    PerformanceRow,
    state_of,
)

PAGE_LIMIT = 100


def _last_execution(last: LastExecutionRow | None) -> str | None:
    if last is None:
        return None
    parts = [
        short_text(p, None) for p in (last.get("status"), last.get("result")) if p not in (None, "")
    ]
    return ": ".join(parts) if parts else None


def row_target(venue: str, row: AlgorithmRow, confirmed_at: float) -> Target:
    """The Target of one algorithm, with the attrs docs/ATTRIBUTES.md lists for x3algo
    (a missing or null value leaves its attr out). Spelled out field by field: it runs
    6,000 times in a first paint."""
    attrs: dict[str, AttrValue] = {"symbols": tuple(row.get("symbols") or ())}
    if (text := row.get("timeframe")) is not None:
        attrs["timeframe"] = text
    if (text := row.get("strategy_type")) is not None:
        attrs["strategy_type"] = text
    if perf := row.get("performance"):
        if (number := perf.get("total_trades")) is not None:
            attrs["trades"] = number
        if (rate := perf.get("win_rate")) is not None:
            attrs["win_rate"] = rate
        if (amount := perf.get("total_profit")) is not None:
            attrs["profit"] = amount
        if (factor := perf.get("profit_factor")) is not None:
            attrs["profit_factor"] = factor
    if (text := row.get("updated_at")) is not None:
        attrs["updated_at"] = text
    if (text := _last_execution(row.get("last_execution"))) is not None:
        attrs["last_execution"] = text
    status = row.get("status", "")
    state, raw = state_of(status), status or "(none)"
    if (active := row.get("active")) is not None and contradicts(status, active):
        state, raw = State.UNKNOWN, f"{status} (active: {'true' if active else 'false'})"
    target_id = row["id"]
    return Target(
        venue,
        TargetKind.ALGORITHM,
        target_id,
        row.get("name") or target_id,
        state,
        raw,
        attrs,
        confirmed_at,
    )


def contradicts(status: str | None, active: bool) -> bool:
    """True when x3algo's two words for one algorithm disagree (``"stopped"`` with
    ``active: true``, ``"active"`` with ``active: false``): which one is right is
    unknowable, so the algorithm is UNKNOWN — a kill still stops it, and never counts it
    halted on such a row."""
    word = (status or "").strip().lower()
    if word not in ("active", "stopped", "paused", "draft", "error"):
        return False  # a word nobody listed is UNKNOWN already
    return active != (word == "active")


def listed_target(
    venue: str, names: dict[str, str], row: AlgorithmRow, confirmed_at: float
) -> Target:
    """The Target of a row of the list, its name kept in ``names`` for messages."""
    names[row["id"]] = row.get("name", "")
    return row_target(venue, row, confirmed_at)


def algorithm_row(algo: Algorithm) -> AlgorithmRow:
    """The row of an algorithm read whole (a single GET, or a page read the tolerant way)."""
    perf = algo.performance
    last = algo.last_execution
    return AlgorithmRow(
        id=algo.id,
        name=algo.name,
        status=algo.status,
        active=algo.active,
        strategy_type=algo.strategy_type,
        timeframe=algo.timeframe,
        symbols=algo.symbols,
        performance=None
        if perf is None
        else PerformanceRow(
            total_trades=perf.total_trades,
            win_rate=perf.win_rate,
            total_profit=perf.total_profit,
            profit_factor=perf.profit_factor,
        ),
        updated_at=algo.updated_at,
        last_execution=None
        if last is None
        else LastExecutionRow(status=last.status, result=last.result),
    )


def to_target(venue: str, algo: Algorithm) -> Target:
    """The Target of an algorithm read whole."""
    return row_target(venue, algorithm_row(algo), time.time())


# ----- one page ---------------------------------------------------------------------
def parse_page(content: bytes, number: int, scrub: Scrub) -> Page[AlgorithmRow]:
    """A 200's body as one page of the list. Raises :class:`Unreadable` (only) when the
    body is not the documented shape; a row that cannot be read is skipped and named."""
    try:
        body = ROWS_PAGE.validate_json(content)
    except (ValidationError, RecursionError):
        return _parse_row_by_row(content, number, scrub)
    try:  # pydantic's reader keeps a repeated key's last value: refuse it instead
        screen_duplicate_keys(content, _expected_keys(body))
    except ValueError as exc:
        where = f"the algorithm list (page {number})"
        raise _unreadable(f"x3algo sent an unreadable answer to {where}: {exc}", scrub) from None
    pagination = body.get("pagination")
    page = _page(number, pagination, len(body["data"]))
    for index, row in enumerate(body["data"]):
        _keep(page, index, row, scrub)
    _check_first(page, pagination, scrub)
    return page


def _expected_keys(body: AlgorithmRowsPage) -> dict[bytes, int]:
    """The keys a kill decides by — the page's, its pagination's counts, a row's id and
    status (and its last execution's) — with how many objects read hold each
    (:func:`~console.venues.kit.json_screen.screen_duplicate_keys`)."""
    rows = body["data"]
    statuses = 0
    for row in rows:
        statuses += "status" in row
        last = row.get("last_execution")
        statuses += last is not None and "status" in last
    pagination = body.get("pagination")
    given = pagination.model_fields_set if pagination is not None else set()
    return {
        b'"data"': 1,
        b'"pagination"': int("pagination" in body),
        b'"total"': int("total" in given),
        b'"totalPages"': int("total_pages" in given),
        b'"id"': len(rows),
        b'"status"': statuses,
    }


def _parse_row_by_row(content: bytes, number: int, scrub: Scrub) -> Page[AlgorithmRow]:
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
        keys = ", ".join(repr(scrub_head(k, 40, scrub)) for k in list(body)[:6]) or "no keys"
        shown = "without a data list" if data is None else f"with data as {_kind(data)}"
        raise _unreadable(f"x3algo answered {where} {shown} ({keys})", scrub)
    pagination = None
    if body.get("pagination") is not None:
        try:
            pagination = Pagination.model_validate(body["pagination"])
        except ValidationError as exc:
            why = f"an unreadable pagination block ({_problem(exc, scrub)})"
            raise _unreadable(f"x3algo answered {where} with {why}", scrub) from None
    page = _page(number, pagination, len(data))
    for index, raw in enumerate(data):
        try:
            row = ROW.validate_python(raw)
        except ValidationError as exc:
            page.skipped.append(
                scrub(f"{_row_name(raw, index, number, scrub)}: {_problem(exc, scrub)}")
            )
            continue
        except RecursionError:
            page.skipped.append(scrub(f"{_row_name(raw, index, number, scrub)}: nested too deeply"))
            continue
        _keep(page, index, row, scrub)
    _check_first(page, pagination, scrub)
    return page


def _page(number: int, pagination: Pagination | None, sent: int) -> Page[AlgorithmRow]:
    if pagination is None:
        return Page(number, None, [], sent)
    limit = pagination.limit
    # (an empty page saying hasMore ends the read: it would page on empty to the budget)
    more = sent > 0 and (bool(pagination.has_more) or (limit is not None and 0 < limit <= sent))
    return Page(number, pagination.total_pages, [], sent, total=pagination.total, more=more)


def _keep(page: Page[AlgorithmRow], index: int, row: AlgorithmRow, scrub: Scrub) -> None:
    """A readable row, unless it has no id to address it by."""
    if row["id"].strip():
        page.rows.append(row)
    else:
        page.skipped.append(scrub(f"{_row_name(row, index, page.number, scrub)}: no id"))


def _check_first(page: Page[AlgorithmRow], pagination: Pagination | None, scrub: Scrub) -> None:
    """A first page without rows whose ``total`` counts some is not an empty account."""
    total = pagination.total if pagination is not None else None
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


def _problem(exc: ValidationError, scrub: Scrub) -> str:
    """The first thing pydantic refused, without the value it refused (its place may
    name a key the venue sent: scrubbed, then cut)."""
    return scrub(printable(shape_problem(exc)))[:200]


def _row_name(row: object, index: int, number: int, scrub: Scrub) -> str:
    """How a row is named in ``skipped``: its id when it has one, else its place. The
    id is scrubbed, then cut: cut first, a secret x3algo echoed across the 64th
    character would lose its end and no longer be recognised whole."""
    row_id = row.get("id") if isinstance(row, dict) else None
    if isinstance(row_id, str) and row_id.strip():
        return scrub(printable(row_id))[:64]
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
