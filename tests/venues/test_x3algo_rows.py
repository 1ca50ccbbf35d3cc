"""The algorithm list read fast (straight into rows) reads every row as the tolerant
reading of a single algorithm does: same Target, same attrs, same coercions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from console.venues.x3algo.mapping import algorithm_row, row_target
from console.venues.x3algo.wire import ROWS_PAGE, Algorithm
from tests.venues.test_x3algo_contract import DOCUMENTED_ATTRS
from tests.x3algo_samples import LIST_SAMPLE

DOCUMENTED = LIST_SAMPLE["data"][0]

ROWS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "with last execution": {
        **DOCUMENTED,
        "lastExecution": {"timestamp": "t", "status": "success", "result": "ok"},
    },
    "result zero, status empty": {**DOCUMENTED, "lastExecution": {"status": "", "result": 0}},
    "bare id": {"id": "b" * 24},
    "unknown status, extra fields": {
        "id": "c" * 24,
        "status": "archived",
        "futureField": {"a": 1},
        "performance": None,
        "positionSizing": {"type": "fixed"},
    },
    "snake_case twins": {
        "id": "d" * 24,
        "name": "Snake",
        "status": "paused",
        "strategy_type": "grid",
        "updated_at": "2026-01-01T00:00:00Z",
        "performance": {"total_trades": 3, "win_rate": 50, "total_profit": -2.5},
        "last_execution": {"status": "error", "result": {"code": 1}},
    },
    "camelCase wins over its twin": {
        "id": "e" * 24,
        "strategyType": "camel",
        "strategy_type": "snake",
    },
    "numbers as strings, whole floats": {
        "id": "f" * 24,
        "status": "stopped",
        "performance": {"totalTrades": "7", "winRate": "12.5", "profitFactor": 2},
    },
    "nulls where allowed": {
        "id": "g" * 24,
        "timeframe": None,
        "strategyType": None,
        "updatedAt": None,
        "performance": {"totalTrades": None, "winRate": None},
        "lastExecution": None,
    },
    "empty name falls back to the id": {"id": "h" * 24, "name": "", "symbols": []},
}


def fast(row: dict[str, Any]) -> Any:
    return ROWS_PAGE.validate_json(json.dumps({"data": [row]}))["data"][0]


@pytest.mark.parametrize("name", list(ROWS))
def test_a_row_read_fast_is_the_row_read_whole(name: str) -> None:
    row = ROWS[name]
    whole = row_target("x3", algorithm_row(Algorithm.model_validate(row)), 1.0)
    assert row_target("x3", fast(row), 1.0) == whole
    assert dict(row_target("x3", fast(row), 1.0).attrs) == dict(whole.attrs)


def test_the_documented_row_reads_as_documented() -> None:
    target = row_target("x3", fast(ROWS["with last execution"]), 1.0)
    assert (target.name, target.raw_status, target.confirmed_at) == (
        "RSI Momentum Strategy",
        "active",
        1.0,
    )
    assert target.attrs == DOCUMENTED_ATTRS
    assert (
        row_target("x3", fast(ROWS["camelCase wins over its twin"]), 1.0).attrs["strategy_type"]
        == "camel"
    )


@pytest.mark.parametrize(
    "row",
    [
        {"name": "no id"},
        {"id": ["not", "a", "string"]},
        {"id": "x", "name": None},
        {"id": "x", "performance": {"totalTrades": "many"}},
        {"id": "x", "lastExecution": "yesterday"},
    ],
)
def test_a_row_the_whole_reading_refuses_is_refused_fast_too(row: dict[str, Any]) -> None:
    """So the page falls back to the tolerant reading, which says what is wrong."""
    with pytest.raises(ValidationError):
        Algorithm.model_validate(row)
    with pytest.raises(ValidationError):
        fast(row)


def test_null_symbols_are_read_the_same_both_ways() -> None:
    """Nullability is a documented gap: a null list of symbols is no symbols."""
    row = {"id": "x" * 24, "symbols": None}
    assert Algorithm.model_validate(row).symbols is None
    assert row_target("x3", fast(row), 1.0).attrs["symbols"] == ()
