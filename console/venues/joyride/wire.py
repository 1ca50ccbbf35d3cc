"""Joyride wire models (pydantic v2), as tolerant as the docs' history demands.

Every model allows unknown fields (the exchange has added fields across doc snapshots).
``option_type`` stays a plain string so an unknown kind is kept, not rejected. Prices
and sizes are integer micros / millicontracts on the wire and stay integers here.
``status`` on an instrument is not documented: it is read only so that a venue that
starts sending one is shown as the raw word it sent (never guessed at).

Reading the instrument list (:func:`read_instrument_list`) is where a hostile answer
stops: a body that is not a list of instruments at all (empty, ``{}``, ``null``,
malformed or too deeply nested JSON, a list of which no row is an instrument) raises
:class:`~console.venues.kit.feeds.Unreadable` — never read as "no rounds"; one row with an
impossible value (an expiration of 10^12, a ``true`` for a number, an id ``.``) fails
only itself and is named in ``skipped`` as ``"<instrument id>: <why>"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, NotRequired

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict

from console.core.scrub import Scrub, cut_scrubbed, printable
from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.json_screen import parse_json, screen_duplicate_keys

# The last second a date can be written for (9999-12-31 23:59:59 UTC). An expiration
# beyond it (10^12: milliseconds sent as seconds) cannot be a round; one at or before
# 0 neither.
MAX_EXPIRATION = 253_402_300_799

Expiration = Annotated[int, Strict(), Field(ge=1, le=MAX_EXPIRATION)]
Count = Annotated[int, Strict(), Field(ge=0)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class InstrumentRow(TypedDict):
    """One row of ``GET /v1/market/instruments``, as far as the console reads it.

    The console only counts instruments per expiration, by asset and call/put, so only
    these fields are validated; the rest of a row (strike, tick size, sizes, and any
    field added later) goes unread. There is no ``paused`` field. ``option_type`` stays
    a plain string so an unknown kind is kept, not rejected.
    """

    id: Annotated[str, StringConstraints(min_length=1)]
    expiration: Expiration  # Unix seconds, a JSON integer in range
    option_type: NotRequired[str | None]  # "call" | "put" (others kept as sent)
    status: NotRequired[str | None]  # undocumented; kept raw when present


def asset_of(instrument_id: str) -> str:
    """``SOL`` from ``SOL_USDC-28FEB26-150-C`` (the documented id format)."""
    head = instrument_id.split("-", 1)[0]
    return head.split("_", 1)[0] or head


def side_of(instrument_id: str, option_type: str | None) -> str:
    """``C`` for a call, ``P`` for a put, ``?`` for anything else."""
    kind = (option_type or "").lower()
    if kind == "call" or instrument_id.endswith("-C"):
        return "C"
    if kind == "put" or instrument_id.endswith("-P"):
        return "P"
    return "?"


class PauseRequest(_Wire):
    expiration: int
    paused: bool


class PauseResult(_Wire):
    """``POST /v1/admin/instruments/pause-by-expiration`` 200 body (all fields required,
    of their documented JSON types: a ``"true"`` for ``paused`` or a negative count is no
    answer to trust)."""

    expiration: Annotated[int, Strict()]
    paused: Annotated[bool, Strict()]
    db_updated: Count
    engine_updated: Count
    engine_missing: list[Annotated[str, Strict()]]


_PAUSE_TYPES = {
    "expiration": "an integer (Unix seconds)",
    "paused": "a boolean",
    "db_updated": "an integer count",
    "engine_updated": "an integer count",
    "engine_missing": "a list of instrument ids",
}


def pause_result_problem(exc: ValidationError) -> str:
    """Why a 200 pause answer is no :class:`PauseResult`, each field named: ``lacked the
    documented fields engine_updated, engine_missing`` and/or ``did not have the
    documented types: db_updated is a string, not an integer count``. The model is
    strict (CONTRACTS: the counts are int), so a ``"5"`` is a wrong type, never read as 5.
    A venue's value is never quoted, only its JSON kind (or a number out of range)."""
    missing: list[str] = []
    wrong: list[str] = []
    for error in exc.errors():
        loc, value = error["loc"], error.get("input")
        if not loc:
            return f"was {_kind(value)}, not the documented object"
        name = str(loc[0]) + "".join(f"[{part}]" for part in loc[1:])
        if error["type"] == "missing":
            missing.append(name)
        elif error["type"] == "greater_than_equal":
            wrong.append(f"{name} is {str(value)[:_MAX_DIGITS]}, not a count (0 or more)")
        else:
            wanted = (
                "an instrument id (a string)"
                if len(loc) > 1
                else _PAUSE_TYPES.get(name, "of its documented type")
            )
            wrong.append(f"{name} is {_kind(value)}, not {wanted}")
    parts = []
    if missing:
        plural = "s" if len(missing) > 1 else ""
        parts.append(f"lacked the documented field{plural} {', '.join(missing)}")
    if wrong:
        parts.append(f"did not have the documented types: {'; '.join(wrong)}")
    return " and ".join(parts)


class Units(_Wire):
    price_decimals: int | None = None
    size_decimals: int | None = None
    quote_asset: str | None = None


class MarketConfig(_Wire):
    """``GET /v1/market/config``; ``round_epoch`` is in milliseconds (unlike expirations)."""

    round_duration_hours: int | None = None
    round_epoch: int | None = None
    units: Units | None = None


class SettlementClock(_Wire):
    """``GET /v1/oracle/settlement``: field names documented, types [GAP] (ints assumed)."""

    next_settlement: int | str | None = None
    twap_window_start: int | str | None = None
    seconds_to_twap_window: float | None = None
    seconds_to_settlement: float | None = None
    in_twap_window: bool | None = None


class ErrorBody(_Wire):
    """REST error body ([GAP]; the simulator answers ``{"error", "message"}``)."""

    error: str | None = None
    message: str | None = None
    details: list[dict[str, object]] | None = None


_ROWS = TypeAdapter(list[InstrumentRow])
_ROW = TypeAdapter(InstrumentRow)
_SHOWN = 60  # characters of a venue value quoted in a skipped row's reason
# Digits of an integer read at most (Python refuses past 4,300; no field needs 30).
_MAX_DIGITS = 30


@dataclass(frozen=True, slots=True)
class Listing:
    """The instrument list as read: the readable rows, the rows skipped (named), and how
    many rows the answer held (more than were read when it exceeded ``max_rows``)."""

    rows: list[InstrumentRow]
    skipped: list[str]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows) + len(self.skipped)


def read_instrument_list(body: bytes, max_rows: int, *, scrub: Scrub | None = None) -> Listing:
    """``GET /v1/market/instruments`` read into rows, at most ``max_rows`` of them.

    ``scrub`` (the venue's scrubber) sees each venue value a skipped row quotes before
    it is cut; without it the values are quoted whole, for the caller to scrub.

    The whole list is parsed straight from the body by pydantic's JSON parser when every
    row is readable (:class:`ListSlices`, one slice: about six times faster than
    ``json.loads`` plus models at 30,000 rows); otherwise row by row, each bad row skipped
    and named. Raises :class:`Unreadable` (and nothing else) when the body is not a list
    of instruments.
    """
    whole = ListSlices(body, max_rows, size=len(body))  # (an empty body: Unreadable)
    rows = [row for part in whole for row in part]
    if not whole.failed:
        return Listing(rows, whole.skipped, whole.total)
    data = _loads(body)
    if not isinstance(data, list):
        raise Unreadable(f"{_kind(data)} where a list of instruments belongs")
    total = len(data)
    rows, skipped = [], []
    for index, item in enumerate(data[:max_rows]):
        try:
            row = _ROW.validate_python(item)
        except ValidationError as exc:
            skipped.append(f"{_row_name(index, item, scrub)}: {_why(exc.errors()[0], scrub)}")
            continue
        good, bad = _without_unsafe_ids([row])
        rows += good
        skipped += bad
    if skipped and not rows:
        raise _none_readable(total, skipped)
    return Listing(rows, skipped, total)


SLICE_BYTES = 262_144
"""About this much of the instrument list is read at a time (:class:`ListSlices`)."""
_BETWEEN = b'},{"'  # two objects of the list, side by side (never inside a JSON string)


class ListSlices:
    """The instrument list read a slice at a time: iterating yields each slice's
    readable rows (at most ``max_rows`` in all), and the caller may let its loop run
    between two slices.

    Why: read whole, the 22 MB list at ~50,000 targets held the screen's loop ~330 ms in
    one step (and, in a process of its own, 30,000 rows built at once left +35 MB
    resident against +3 MB read 256 KB at a time; the console's RSS at ~12,000 targets
    did not move: 134 / 136 MB). :func:`read_instrument_list` reads the body as one
    slice, the same way. The body is cut between two of its objects (``},{"``:
    a ``"`` right after ``{`` is never inside a JSON string; a cut where an object is
    nested or a string ends in ``},{`` leaves a slice that is no JSON list, never a
    different list), each slice read as a list of its own. A slice that is not a list of
    instruments sets :attr:`failed` and ends the iteration: the caller reads the body
    whole then (:func:`read_instrument_list`: it says why, or skips the bad rows).
    After the last slice the body is screened for a key named twice (as a whole read
    is), raising :class:`Unreadable`.
    """

    def __init__(self, body: bytes, max_rows: int, *, size: int | None = None) -> None:
        if not body.strip():
            raise Unreadable("an empty body")
        self.body, self.max_rows = body, max_rows
        self.size = SLICE_BYTES if size is None else size  # (the whole body: one slice)
        self.total = 0  # rows the list holds
        self.kept = 0  # rows read or skipped, up to max_rows
        self.skipped: list[str] = []
        self.failed = False

    @property
    def truncated(self) -> bool:
        return self.total > self.kept

    def _parts(self) -> Iterator[bytes]:
        body = self.body.strip()
        if body[:1] != b"[" or body[-1:] != b"]" or len(body) <= self.size:
            yield body
            return
        start = 1
        while start < len(body) - 1:
            cut = body.find(_BETWEEN, start + self.size)
            end = len(body) - 1 if cut < 0 else cut + 1
            yield b"[" + body[start:end] + b"]"
            start = end + 1

    def __iter__(self) -> Iterator[list[InstrumentRow]]:
        for part in self._parts():
            try:
                rows = _ROWS.validate_json(part)
            except (ValidationError, RecursionError):
                self.failed = True
                return
            self.total += len(rows)
            room = self.max_rows - self.kept
            good, bad = _without_unsafe_ids(rows[:room]) if room > 0 else ([], [])
            self.kept += len(good) + len(bad)
            self.skipped += bad
            yield good
        try:  # pydantic's reader keeps a repeated key's last value: refuse it instead
            screen_duplicate_keys(self.body, {b'"id"': self.total, b'"expiration"': self.total})
        except ValueError as exc:
            raise Unreadable(str(exc)) from None
        if self.skipped and self.kept == len(self.skipped):
            raise _none_readable(self.total, self.skipped)


def _none_readable(total: int, skipped: list[str]) -> Unreadable:
    return Unreadable(
        f"a list of {total} rows none of which is an instrument (first: {skipped[0]})"
    )


def _without_unsafe_ids(rows: list[InstrumentRow]) -> tuple[list[InstrumentRow], list[str]]:
    """Rows whose id is ``.``, ``..`` (dots only): no instrument id is, and a normalising
    proxy would resolve one in a path."""
    if all(row["id"].strip(".") for row in rows):
        return rows, []
    good = [row for row in rows if row["id"].strip(".")]
    bad = [
        f"{row['id']}: instrument id {row['id']!r} is a dot segment, not an instrument id"
        for row in rows
        if not row["id"].strip(".")
    ]
    return good, bad


def _bounded_int(digits: str) -> int | str:
    """An integer as JSON wrote it; one too long to be any field's value stays text
    (so it is refused by its row, not by Python's 4,300-digit limit for the whole body)."""
    return int(digits) if len(digits) <= _MAX_DIGITS else digits


def _loads(body: bytes) -> object:
    try:
        return parse_json(body, parse_int=_bounded_int)
    except ValueError as exc:  # Joyride's words name no venue: the caller says "Joyride"
        raise Unreadable(str(exc).replace("JSON from venue", "JSON", 1)) from None


def _kind(data: object) -> str:
    names = {
        dict: "an object",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a decimal number",
        list: "a list",
    }
    if data is None:
        return "null"
    return names.get(type(data), f"a {type(data).__name__}")


def _short(text: str, scrub: Scrub | None) -> str:
    """A venue value for a skipped row's reason: scrubbed, then cut to ``_SHOWN``.
    Cut first, a secret Joyride echoed across the cut would lose its end and no longer
    be recognised whole; with no ``scrub`` (a caller that scrubs whole notes itself)
    it is not cut at all."""
    return cut_scrubbed(printable(text), _SHOWN, scrub)


def _row_name(index: int, item: object, scrub: Scrub | None) -> str:
    """A row by its instrument id when it has a usable one, else by its position."""
    if isinstance(item, dict):
        rid = item.get("id")
        if isinstance(rid, str) and rid.strip():
            return _short(rid, scrub)
    return f"row {index}"


_EXPECTED = {
    "id": "an instrument id",
    "expiration": "Unix seconds (a JSON integer)",
    "option_type": "a word",
    "status": "a word",
}


def _why(error: ErrorDetails, scrub: Scrub | None) -> str:
    """One reason a row was refused, in words: ``expiration 1000000000000 out of range``."""
    loc = [str(part) for part in error["loc"]]
    field = ".".join(loc) or "row"
    kind = error["type"]
    value = error.get("input")
    if not loc:
        return f"not an instrument object ({_kind(value)})"
    if kind == "missing":
        return f"no {field}"
    if field == "expiration" and kind in ("less_than_equal", "greater_than_equal"):
        return f"expiration {value} out of range"
    shown = _short(repr(value), scrub)
    return f"{field} {shown} is not {_EXPECTED.get(loc[0], 'a documented value')}"


def parse_error(data: object) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return None


def venue_words(reply: Reply, scrub: Scrub) -> str:
    """``HTTP 503 service_unavailable: 'the venue's message'`` (or its raw text),
    control characters removed; each venue text scrubbed before it is cut (cut first,
    a secret echoed across the cut would no longer be recognised whole)."""
    err = parse_error(reply.json_or_none())
    if err is not None and (err.error or err.message):
        code = f" {scrub(printable(err.error))[:80]}" if err.error else ""
        said = f": {scrub(printable(err.message))[:300]!r}" if err.message else ""
        return f"HTTP {reply.status}{code}{said}"
    text = printable(reply.text(160, scrub=scrub))
    if reply.unread:  # (a body too large to read: said so, not quoted as its words)
        return f"HTTP {reply.status} {text}"
    return f"HTTP {reply.status}" + (f": {text!r}" if text else "")


def vendor_code(reply: Reply, scrub: Scrub) -> str | None:
    """The error body's ``error`` word, printable, scrubbed and then cut short."""
    err = parse_error(reply.json_or_none())
    if err is None or err.error is None:
        return None
    return scrub(printable(err.error))[:80]
