"""One page of PipAI's strategy list read into Targets, or refused in plain words.

The documented page is ``{"data": [strategy], "next_cursor": string | null}``. Anything
else that came with a 200 (``{}``, ``null``, an empty body, a list, ``data`` that is not a
list, a cursor that is not a string) says nothing about the account's strategies: it is
:class:`~console.venues.kit.feeds.Unreadable`, never "no strategies".

A page whose shape is right but one of whose strategies carries an impossible value (a
leverage of ``1e400``, a negative position count, no id) loses only that strategy: it is
named in ``skipped`` (``"<id>: <why>"``) and the page's other strategies are read.

The fast reading (pydantic straight from the bytes into rows) takes every good page in
one step; only a page it refuses is read again row by row, to say what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from console.core.model import Target
from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import parse_json
from console.venues.pipai_map import row_target
from console.venues.pipai_wire import ROWS_PAGE, StrategyRow

DOING = "listing strategies"
# Longest cursor followed: PipAI's are ~50 characters; a megabyte "cursor" sent back in
# every query string is a venue gone wrong, not a longer list.
MAX_CURSOR_CHARS = 2048

_ROW: TypeAdapter[StrategyRow] = TypeAdapter(StrategyRow)


@dataclass
class ListPage:
    """One page read: its strategies, the rows skipped (``"<id>: <why>"``), the cursor."""

    targets: list[Target] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    next_cursor: str | None = None


def read_page(venue: str, content: bytes, confirmed_at: float, page: int = 1) -> ListPage:
    """The strategies of one 200 answer to ``GET /v1/strategies``.

    Raises :class:`Unreadable` when the page is not in the documented shape; never any
    other exception, whatever the bytes.
    """
    try:
        fast = ROWS_PAGE.validate_json(content)
    except (ValidationError, ValueError, RecursionError):
        return _row_by_row(venue, content, confirmed_at, page)
    targets = [row_target(venue, row, confirmed_at) for row in fast["data"]]
    return ListPage(targets, [], fast["next_cursor"])


def _row_by_row(venue: str, content: bytes, confirmed_at: float, page: int) -> ListPage:
    body = _json(content)
    if not isinstance(body, dict):
        raise _unreadable(f"the page is {_kind(body)}, not an object with data and next_cursor")
    if "data" not in body:
        raise _unreadable("the page has no data list (" + _keys(body) + ")")
    data = body["data"]
    if not isinstance(data, list):
        raise _unreadable(f"data is {_kind(data)}, not a list of strategies")
    if "next_cursor" not in body:
        raise _unreadable("the page has no next_cursor (it may or may not be the last page)")
    cursor = body["next_cursor"]
    if cursor is not None and not isinstance(cursor, str):
        raise _unreadable(f"next_cursor is {_kind(cursor)}, not a string or null")
    out = ListPage(next_cursor=cursor)
    for index, item in enumerate(data):
        try:
            row = _ROW.validate_python(item)
        except (ValidationError, ValueError, RecursionError) as exc:
            out.skipped.append(f"{row_name(item, page, index)}: {_why(exc)}")
            continue
        out.targets.append(row_target(venue, row, confirmed_at))
    return out


def row_name(item: Any, page: int, index: int) -> str:
    """What a skipped row is called: its id when it has a readable one."""
    raw = item.get("id") if isinstance(item, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**30:
        raw = str(raw)
    if isinstance(raw, str) and raw.strip() and raw.isprintable():
        return raw if len(raw) <= 80 else raw[:79] + "…"
    return f"row {index + 1} of page {page}"


def _why(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        text = f"{where}: {first['msg']}" if where else str(first["msg"])
    elif isinstance(exc, RecursionError):
        text = "nested too deeply"
    else:
        text = str(exc) or type(exc).__name__
    text = text.splitlines()[0] if text else "unreadable"
    return text if len(text) <= 160 else text[:159] + "…"


def _json(content: bytes) -> Any:
    if not content.strip():
        raise _unreadable("the body was empty")
    try:
        return parse_json(content)
    except ValueError as exc:
        raise _unreadable(str(exc)) from None


def _unreadable(why: str) -> Unreadable:
    return Unreadable(f"PipAI sent an unreadable answer when {DOING}: {why}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _keys(body: dict[str, Any]) -> str:
    if not body:
        return "an empty object"
    names = [str(k)[:40] for k in list(body)[:5]]
    return "keys: " + ", ".join(names) + (" …" if len(body) > 5 else "")
