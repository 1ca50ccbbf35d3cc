"""``as_number`` reads a venue's decimal string with float's own reader first (a first
paint reads ~40,000 of them): the number must be the one the Decimal reading gave,
for any text, and the same texts refused."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.model import State, Target, TargetKind
from console.core.store import Store
from console.tui.format import as_number
from console.tui.panels.tally import Tally, VenueTally


def _by_decimal(text: str) -> float | None:
    """The reading before: every text through Decimal (and no NaN or infinity)."""
    try:
        number = float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a):
        return math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


_NUMERIC = st.text(st.sampled_from(list("0123456789.eE+-_ naNiIfFtys\t\n\u00a0١٣１")), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_NUMERIC, st.text(max_size=10), st.decimals().map(str), st.floats().map(repr)))
def test_a_decimal_string_reads_as_the_decimal_reading_did(text: str) -> None:
    assert _same(as_number(text), _by_decimal(text)), text


def test_texts_only_decimal_reads_still_read() -> None:
    # float() refuses a trailing underscore; Decimal reads it (what the console showed).
    assert as_number("0_") == 0.0
    assert as_number("1_000.5") == 1000.5
    assert as_number("12.50") == 12.5
    assert as_number("n/a") is None
    assert as_number("") is None


def test_nan_and_the_infinities_are_no_amount() -> None:
    for odd in ("NaN", "nan", "Infinity", "-inf", "1e400", float("nan"), float("inf")):
        assert as_number(odd) is None, odd
    assert as_number(1e308) == 1e308


def test_a_nan_pnl_is_left_out_of_the_overview_total() -> None:
    """One strategy's ``NaN`` P&L made its panel's total "nan" (x3algo's numbers skip
    the parse: a float NaN went straight into the sum)."""
    rows = [("a", 100.0), ("b", float("nan")), ("c", "NaN"), ("d", float("-inf")), ("e", 23.5)]
    venue = x3algo_tally(rows)
    assert venue.sums["P&L"] == 123.5 and venue.summed["P&L"] == 2
    assert venue.total == 5  # every target still counted by state


def x3algo_tally(rows: list[tuple[str, object]]) -> VenueTally:
    """The overview's tally of one x3algo venue whose algorithms made these profits."""
    store = Store()
    store.snapshot("x3", [Target("x3", TargetKind.ALGORITHM, i, i, State.RUNNING, "active",
                                 {"profit": p}, 0.0) for i, p in rows])  # type: ignore[misc]  # fmt: skip
    tally = Tally(store, TargetKind.ALGORITHM)
    tally.note(store.drain().changed)
    tally.refresh(["x3"])
    return tally.venues["x3"]
