"""A number no venue could mean neither crashes the console nor widens a column off the
screen.

A count of 400 digits (JSON carries any integer; pydantic reads one of up to ~4,300)
raised OverflowError wherever it was made a float — the overview's total, the table's
sort, a guard's comparison — and the console exited; ``1e300`` as money was a cell of
404 characters, its column as wide. Past a quadrillion a number is shown compact.
"""

from __future__ import annotations

import math

import pytest

from console.automation.guards import number
from console.core.model import State, Target, TargetKind
from console.tui.format import as_number, fmt_money, fmt_pct, fmt_value, sort_key
from console.tui.panels.columns import fmt_whole
from console.tui.widgets.overview import fmt_total
from tests.tui.test_as_number import x3algo_tally

BIG = 10**400


def test_an_integer_too_large_for_a_float_is_no_number_and_sorts_last_or_first() -> None:
    assert as_number(BIG) is None and as_number(-BIG) is None
    assert number(BIG) is None
    assert sort_key(BIG) == (0, math.inf) and sort_key(-BIG) == (0, -math.inf)
    assert sorted([BIG, 5, -BIG], key=sort_key) == [-BIG, 5, BIG]


@pytest.mark.parametrize(
    ("shown", "expected"),
    [(fmt_money(1e300), "1e+300"), (fmt_money(-2.5e18), "-2.5e+18"), (fmt_money(12.5), "12.50"),
     (fmt_money(999_999_999_999_999.0), "999,999,999,999,999.00"), (fmt_pct(3e20), "3e+20%"),
     (fmt_value(BIG), ">1e308"), (fmt_value(-BIG), "->1e308"), (fmt_value(10**18), "1e+18"),
     (fmt_whole(10**5000), ">1e308"), (fmt_whole(42), "42"), (fmt_value(True), "yes"),
     (fmt_total("open positions", 4e30), "open positions 4e+30")],
)  # fmt: skip
def test_huge_numbers_are_shown_compact(shown: str, expected: str) -> None:
    assert shown == expected
    assert len(shown) <= 24


def test_the_overview_total_leaves_out_a_count_too_large_to_sum() -> None:
    venue = x3algo_tally([("a", 3), ("b", BIG), ("c", 4)])
    assert venue.sums["P&L"] == 7 and venue.summed["P&L"] == 2


def test_a_kill_is_planned_whatever_number_a_target_carries() -> None:
    """An exposure attribute of 400 digits raised OverflowError in ``exposure_of``: the
    kill's plan could not be built (a traceback instead of a kill); NaN ordered it anyhow."""
    from console.core.plan import exposure_of

    weights = [("open_positions", 1.0), ("capital", 0.001)]
    odd = {"open_positions": BIG, "capital": float("nan")}
    assert exposure_of(Target("v", TargetKind.STRATEGY, "1", "s", State.RUNNING, "x", odd),
                       weights) == 0.0  # fmt: skip
    sane = {"open_positions": 3, "capital": "5000"}
    assert exposure_of(Target("v", TargetKind.STRATEGY, "2", "s", State.RUNNING, "x", sane),
                       weights) == 8.0  # fmt: skip
