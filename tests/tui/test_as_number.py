"""``as_number`` reads a venue's decimal string with float's own reader first (a first
paint reads ~40,000 of them): the number must be the one the Decimal reading gave,
for any text, and the same texts refused."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from console.tui.format import as_number


def _by_decimal(text: str) -> float | None:
    """The reading before: every text through Decimal."""
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


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
