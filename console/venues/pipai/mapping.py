"""PipAI's words mapped onto the console's vocabulary: states, Target attrs, list pages.

Attribute names follow docs/ATTRIBUTES.md (PipAI section); decimal strings stay strings.

A page of the strategy list (:func:`read_page`) is documented as ``{"data": [strategy],
"next_cursor": string | null}``. Anything else that came with a 200 (``{}``, ``null``, an
empty body, a list, ``data`` that is not a list, a cursor that is not a string) says
nothing about the account's strategies: it is
:class:`~console.venues.kit.feeds.Unreadable`, never "no strategies". A page whose
``data`` list reads but which has no ``next_cursor`` key at all (absent, not null) keeps
its strategies and is marked (:attr:`ListPage.cursor_missing`): it does not say whether
more follow, so the list ends there as *incomplete* (the client says so), never whole and
never thrown away. A page whose shape is right but one of whose strategies carries an impossible value (a leverage of
``1e400``, a negative position count, no id) loses only that strategy: it is named in
``skipped`` (``"<id>: <why>"``) and the page's other strategies are read. An object that
names a key twice (``"data"`` twice, the second ``[]``) makes the page unreadable: which
value PipAI meant is unknowable, and JSON readers keep the last one silently. The fast
reading (pydantic straight from the bytes into rows) takes every good page in one step;
only a page it refuses is read again row by row, to say what is wrong.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from console.core.model import AttrValue, State, Target, TargetKind
from console.core.scrub import Scrub, cut_scrubbed
from console.venues.kit.feeds import Unreadable
from console.venues.kit.json_screen import parse_json, screen_duplicate_keys
from console.venues.kit.shape import json_kind, shape_problem
from console.venues.pipai.wire import ROWS_PAGE, StatsRow, Strategy, StrategyRow

STATE_BY_STATUS: Mapping[str, State] = {
    "deployed": State.RUNNING,
    "paused": State.PAUSED,
    "stopped": State.STOPPED,
    "draft": State.STOPPED,
    "error": State.ERROR,
}

# Lifecycle event types and the status each one announces (a resume shows as deployed).
LIFECYCLE_STATUS: Mapping[str, str] = {
    "deployed": "deployed",
    "paused": "paused",
    "error": "error",
    "stopped": "stopped",  # not documented on the stream, but a webhook type: tolerate it
}


def state_for(status: str) -> State:
    """PipAI's status word, whatever its case and surrounding blanks."""
    return STATE_BY_STATUS.get(status.strip().lower(), State.UNKNOWN)


def event_kind(raw_type: str) -> str:
    """``paused`` and webhook-style ``strategy.paused`` both mean ``paused``."""
    return raw_type.strip().lower().removeprefix("strategy.")


def row_target(venue: str, row: StrategyRow, confirmed_at: float) -> Target:
    """The Target of one strategy, with the attrs docs/ATTRIBUTES.md lists for PipAI
    (a missing or null value leaves its attr out). Spelled out field by field: it runs
    4,500 times in a first paint."""
    attrs: dict[str, AttrValue] = {}
    if (text := row.get("template_id")) is not None:
        attrs["template"] = text
    attrs["symbols"] = tuple(row.get("symbols", ()))
    if (text := row.get("timeframe")) is not None:
        attrs["timeframe"] = text
    if (text := row.get("capital")) is not None:
        attrs["capital"] = text
    if (number := row.get("leverage")) is not None:
        attrs["leverage"] = number
    if stats := row.get("stats"):
        if (number := stats.get("open_positions")) is not None:
            attrs["open_positions"] = number
        if (text := stats.get("total_pnl")) is not None:
            attrs["pnl"] = text
        if (text := stats.get("win_rate")) is not None:
            attrs["win_rate"] = text
        if (number := stats.get("total_trades")) is not None:
            attrs["trades"] = number
    if (text := row.get("deployed_at")) is not None:
        attrs["deployed_at"] = text
    if (text := row.get("updated_at")) is not None:
        attrs["updated_at"] = text
    status = row.get("status", "")
    target_id = row["id"]
    return Target(
        venue,
        TargetKind.STRATEGY,
        target_id,
        row.get("name") or target_id,
        state_for(status),
        status,
        attrs,
        confirmed_at,
    )


def strategy_row(s: Strategy) -> StrategyRow:
    """The row of a strategy read whole (a single GET, an action's answer, a page read
    the tolerant way)."""
    stats = s.stats
    return StrategyRow(
        id=s.id,
        name=s.name,
        template_id=s.template_id,
        symbols=s.symbols,
        timeframe=s.timeframe,
        capital=s.capital,
        leverage=s.leverage,
        status=s.status,
        deployed_at=s.deployed_at,
        updated_at=s.updated_at,
        stats=None
        if stats is None
        else StatsRow(
            open_positions=stats.open_positions,
            total_pnl=stats.total_pnl,
            total_trades=stats.total_trades,
            win_rate=stats.win_rate,
        ),
    )


def to_target(venue: str, s: Strategy) -> Target:
    """The Target of a strategy read whole."""
    return row_target(venue, strategy_row(s), time.time())


def attrs_from_position_event(data: Mapping[str, Any]) -> dict[str, AttrValue]:
    """What a position event tells about the strategy's row (count and P&L when sent)."""
    attrs: dict[str, AttrValue] = {}
    count = data.get("open_positions")
    if isinstance(count, int) and not isinstance(count, bool):
        attrs["open_positions"] = count
    pnl = data.get("total_pnl")
    if isinstance(pnl, str):
        attrs["pnl"] = pnl
    return attrs


# ----- a page of the list ------------------------------------------------------------
DOING = "listing strategies"
# Longest cursor followed: PipAI's are ~50 characters; a megabyte "cursor" sent back in
# every query string is a venue gone wrong, not a longer list.
MAX_CURSOR_CHARS = 2048

_ROW: TypeAdapter[StrategyRow] = TypeAdapter(StrategyRow)


@dataclass
class ListPage:
    """One page read: its strategies, the rows skipped (``"<id>: <why>"``), the cursor.

    ``cursor_missing``: the page had no ``next_cursor`` key at all, so it did not say
    whether more pages follow; ``next_cursor`` is then None (there is nothing to follow)
    and whoever reads the list must not call it whole."""

    targets: list[Target] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    next_cursor: str | None = None
    cursor_missing: bool = False


def read_page(
    venue: str, content: bytes, confirmed_at: float, page: int = 1, *, scrub: Scrub | None = None
) -> ListPage:
    """The strategies of one 200 answer to ``GET /v1/strategies``.

    Raises :class:`Unreadable` when the page is not in the documented shape; never any
    other exception, whatever the bytes. ``scrub`` (the venue's scrubber) sees each
    venue text a note quotes before it is cut (:func:`_cut`).
    """
    try:
        fast = ROWS_PAGE.validate_json(content)
    except (ValidationError, ValueError, RecursionError):
        return _row_by_row(venue, content, confirmed_at, page, scrub)
    rows = fast["data"]
    try:  # pydantic's reader keeps a repeated key's last value: refuse it instead
        screen_duplicate_keys(content, _expected_keys(rows))
    except ValueError as exc:
        raise _unreadable(str(exc)) from None
    targets = [row_target(venue, row, confirmed_at) for row in rows]
    return ListPage(targets, [], fast["next_cursor"])


def _expected_keys(rows: list[StrategyRow]) -> dict[bytes, int]:
    """The keys a kill decides by (the page's two, a row's id and status), with how many
    objects of the page read hold each (:func:`~console.venues.kit.json_screen.screen_duplicate_keys`)."""
    with_status = sum(1 for row in rows if "status" in row)
    return {b'"data"': 1, b'"next_cursor"': 1, b'"id"': len(rows), b'"status"': with_status}


def _row_by_row(
    venue: str, content: bytes, confirmed_at: float, page: int, scrub: Scrub | None
) -> ListPage:
    body = _json(content)
    if not isinstance(body, dict):
        raise _unreadable(f"the page is {json_kind(body)}, not an object with data and next_cursor")
    if "data" not in body:
        raise _unreadable("the page has no data list (" + _keys(body, scrub) + ")")
    data = body["data"]
    if not isinstance(data, list):
        raise _unreadable(f"data is {json_kind(data)}, not a list of strategies")
    # No next_cursor key (not null): its rows are still read and kept; the page is marked
    # as not saying whether more follow, and the list ends there, incomplete (client.py).
    cursor = body.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise _unreadable(f"next_cursor is {json_kind(cursor)}, not a string or null")
    out = ListPage(next_cursor=cursor, cursor_missing="next_cursor" not in body)
    for index, item in enumerate(data):
        try:
            row = _ROW.validate_python(item)
        except (ValidationError, ValueError, RecursionError) as exc:
            out.skipped.append(f"{row_name(item, page, index, scrub)}: {_why(exc, scrub)}")
            continue
        out.targets.append(row_target(venue, row, confirmed_at))
    return out


def row_name(item: Any, page: int, index: int, scrub: Scrub | None) -> str:
    """What a skipped row is called: its id when it has a readable one."""
    raw = item.get("id") if isinstance(item, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**30:
        raw = str(raw)
    if isinstance(raw, str) and raw.strip() and raw.isprintable():
        return cut_scrubbed(raw, 80, scrub)
    return f"row {index + 1} of page {page}"


def _why(exc: BaseException, scrub: Scrub | None) -> str:
    if isinstance(exc, ValidationError):
        text = shape_problem(exc)
    elif isinstance(exc, RecursionError):
        text = "nested too deeply"
    else:
        text = str(exc) or type(exc).__name__
    return cut_scrubbed(text.splitlines()[0] if text else "unreadable", 160, scrub)


def _json(content: bytes) -> Any:
    if not content.strip():
        raise _unreadable("the body was empty")
    try:
        return parse_json(content)
    except ValueError as exc:
        raise _unreadable(str(exc)) from None


def _unreadable(why: str) -> Unreadable:
    return Unreadable(f"PipAI sent an unreadable answer when {DOING}: {why}")


def _keys(body: dict[str, Any], scrub: Scrub | None) -> str:
    if not body:
        return "an empty object"
    names = [cut_scrubbed(str(k), 40, scrub) for k in list(body)[:5]]
    return "keys: " + ", ".join(names) + (" …" if len(body) > 5 else "")
