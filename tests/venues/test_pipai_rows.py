"""The strategy list read fast (straight into rows) reads every strategy as the tolerant
reading of a single strategy does: same Target, same attrs, same coercions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from console.core.model import State
from console.venues.pipai.mapping import row_target, strategy_row
from console.venues.pipai.wire import ROWS_PAGE, Strategy
from tests.venues.test_pipai_contract import GET_SAMPLE, GET_SAMPLE_ATTRS, LIST_SAMPLE

DOCUMENTED = json.loads(GET_SAMPLE)

STRATEGIES: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "the list's abbreviated item": json.loads(LIST_SAMPLE)["data"][0],
    "the list's full item": json.loads(LIST_SAMPLE)["data"][1],
    "bare id": {"id": "strat_1"},
    "unknown status, extra fields": {
        "id": "strat_2",
        "status": "archived",
        "params": {"a": [1, 2]},
        "future": {"x": 1},
        "stats": None,
    },
    "numbers where strings are documented": {
        "id": "strat_3",
        "status": "paused",
        "capital": 5000,
        "leverage": "2",
        "stats": {"open_positions": "4", "total_pnl": -12.5, "win_rate": 0.5},
    },
    "nulls where allowed": {
        "id": "strat_4",
        "template_id": None,
        "timeframe": None,
        "capital": None,
        "leverage": None,
        "deployed_at": None,
        "updated_at": None,
        "stats": {"open_positions": None, "total_pnl": None},
    },
    "empty name falls back to the id": {"id": "strat_5", "name": "", "symbols": []},
    "a number for an id": {"id": 6, "name": "numbered"},
    "opaque fields null or odd (never read)": {
        "id": "strat_7",
        "status": "deployed",
        "params": None,
        "created_at": {"not": "a time"},
    },
}


def fast(strategy: dict[str, Any]) -> Any:
    page = json.dumps({"data": [strategy], "next_cursor": None})
    return ROWS_PAGE.validate_json(page)["data"][0]


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_a_strategy_read_fast_is_the_strategy_read_whole(name: str) -> None:
    strategy = STRATEGIES[name]
    whole = row_target("pipai", strategy_row(Strategy.model_validate(strategy)), 1.0)
    quick = row_target("pipai", fast(strategy), 1.0)
    assert quick == whole
    assert dict(quick.attrs) == dict(whole.attrs)


def test_the_documented_strategy_reads_as_documented() -> None:
    target = row_target("pipai", fast(DOCUMENTED), 1.0)
    assert (target.name, target.state, target.raw_status) == (
        "BTC grid 1h",
        State.RUNNING,
        "deployed",
    )
    assert target.attrs == GET_SAMPLE_ATTRS
    numbers = row_target("pipai", fast(STRATEGIES["numbers where strings are documented"]), 1.0)
    assert (numbers.attrs["capital"], numbers.attrs["leverage"], numbers.attrs["pnl"]) == (
        "5000",
        2,
        "-12.5",
    )


@pytest.mark.parametrize(
    "strategy",
    [
        {"name": "no id"},
        {"id": "s", "name": None},
        {"id": "s", "symbols": "BTCUSDT"},
        {"id": "s", "leverage": "high"},
        {"id": "s", "stats": {"total_trades": "many"}},
        {"id": "s", "stats": []},
        {"id": "s", "leverage": 1e400},
        {"id": "s", "leverage": 10**30},
        {"id": "s", "stats": {"open_positions": -1}},
    ],
)
def test_a_strategy_the_whole_reading_refuses_is_refused_fast_too(
    strategy: dict[str, Any],
) -> None:
    """So the page falls back to reading row by row, which skips and names this row."""
    with pytest.raises(ValidationError):
        Strategy.model_validate(strategy)
    with pytest.raises(ValidationError):
        fast(strategy)
