"""Issue 11's budget holds: in CI each venue's hostile properties draw at least 2,000
examples together (tests/venues/mutations.py shares them out)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.venues.mutations import CI_EXAMPLES, IN_CI

VENUES = ("fiftyfive", "finradar", "joyride", "pipai", "x3algo")


@pytest.mark.parametrize("venue", VENUES)
def test_a_venues_properties_draw_the_ci_budget_together(venue: str) -> None:
    if not IN_CI:
        pytest.skip("the budget is CI's (CI is not set: 300 examples per property here)")
    module = importlib.import_module(f"tests.venues.test_{venue}_props")
    drawn = 0
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        given = getattr(fn, "hypothesis", None)
        chosen = getattr(fn, "_hypothesis_internal_use_settings", None)
        if name.startswith("test_") and given is not None and chosen is not None:
            drawn += chosen.max_examples
    assert drawn >= CI_EXAMPLES, f"{venue}: {drawn} examples in CI"
