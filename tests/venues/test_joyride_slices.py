"""Joyride's instrument list counted a slice at a time (``count_list``) says exactly what
the list read whole says — the same rounds, rows skipped, totals, or the same words of
refusal — however its rows are spelt: a string that ends in ``},{``, objects nested in a
row, rows that are no instrument, keys named twice, whitespace between the rows."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.venues.joyride import wire
from console.venues.joyride.mapping import Counted, count_list, count_rounds
from console.venues.joyride.wire import ListSlices, read_instrument_list
from console.venues.kit.feeds import Unreadable
from tests.venues.mutations import IN_CI

EXAMPLES = 300 if IN_CI else 60
TRICKY = st.sampled_from(["a},{", '},{"', "x-C", "BTC_USDC-6DEC26-80000-P", ".", "é\u202e", ""])
ROW = st.fixed_dictionaries(
    {"id": TRICKY | st.text(max_size=6), "expiration": st.sampled_from([1_796_544_000, 1, 0, 10**13])},
    optional={
        "option_type": st.sampled_from(["call", "put", "odd", None]),
        "status": st.sampled_from(["open", None]),
        "extra": st.sampled_from([[{"k": 1}, {"k": 2}], {"a": {"b": "},{"}}, "},{", 3]),
    },
)  # fmt: skip
ROWS = st.lists(ROW | st.sampled_from([{}, 1, "x", None]), max_size=12)


def whole(body: bytes, max_rows: int) -> Counted | str:
    try:
        listing = read_instrument_list(body, max_rows)
    except Unreadable as exc:
        return str(exc)
    return Counted(count_rounds(listing.rows), listing.skipped, listing.total, listing.truncated)


def sliced(body: bytes, max_rows: int) -> Counted | str:
    try:
        return asyncio.run(count_list(body, max_rows))
    except Unreadable as exc:
        return str(exc)


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "SLICE_BYTES", 40)  # a few rows a slice


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=ROWS, max_rows=st.integers(1, 14), spaced=st.booleans(), twice=st.booleans())
def test_a_list_counted_in_slices_says_what_it_says_read_whole(
    small_slices: None, rows: list[Any], max_rows: int, spaced: bool, twice: bool
) -> None:
    text = json.dumps(rows, separators=(", ", ": ") if spaced else (",", ":"))
    if twice and rows and isinstance(rows[-1], dict):  # a key named twice in the last row
        text = text[:-2] + ',"id":"dup"}]'
    body = text.encode()
    assert sliced(body, max_rows) == whole(body, max_rows)


def test_a_long_list_is_read_in_slices_and_kept_whole(small_slices: None) -> None:
    rows = [{"id": f"BTC_USDC-6DEC26-{i}-C", "expiration": 1_796_544_000} for i in range(50)]
    rows[7]["id"] = "a},{"  # its closing quote makes a cut that is no list: read whole
    body = json.dumps(rows, separators=(",", ":")).encode()
    parts = list(ListSlices(body, 100)._parts())
    assert len(parts) > 10 and all(p.startswith(b"[") and p.endswith(b"]") for p in parts)
    assert sliced(body, 100) == whole(body, 100)
    del rows[7]
    body = json.dumps(rows, separators=(",", ":")).encode()
    reading = ListSlices(body, 30)
    assert sum(len(r) for r in reading) == 30 and not reading.failed  # slice by slice
    assert (reading.total, reading.truncated) == (49, True)
    assert sliced(body, 30) == whole(body, 30)
