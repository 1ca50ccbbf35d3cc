"""x3algo algorithms as the console's Targets, and the list read straight into rows.

A 6,000-algorithm list is 60 pages read on the screen's own loop at start-up. Read the
way a single algorithm is (``json.loads``, then one pydantic model per row with every
config sub-object copied, then a Target) a page cost 1.7 ms; parsed by pydantic from the
bytes into plain dicts of the fields the console shows, 0.5 ms.

The rows read the same as :class:`~console.venues.x3algo_wire.Algorithm` does: the same
types and coercions, camelCase names or their snake_case twins, unknown fields ignored,
``status`` kept raw (tests/venues/test_x3algo_rows.py holds the two side by side). A page
the fast reading refuses is read again the tolerant way, which says what is wrong (or
reads what it can). One difference, on purpose: a field the console does not show (the
config sub-objects) is not read, so a malformed one no longer costs the whole page.
Both readings end in :func:`row_target`: one mapping to a Target, not two.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Required

from pydantic import AliasChoices, Field, TypeAdapter
from typing_extensions import TypedDict

from console.core.model import AttrValue, Target, TargetKind
from console.venues.x3algo_outcomes import short_text
from console.venues.x3algo_wire import Algorithm, Pagination, state_of


def _either(name: str, alias: str) -> Any:
    """The field read under x3algo's camelCase name or its snake_case twin (the
    models' ``populate_by_name``)."""
    return Field(validation_alias=AliasChoices(alias, name))


class PerformanceRow(TypedDict, total=False):
    total_trades: Annotated[int | None, _either("total_trades", "totalTrades")]
    win_rate: Annotated[float | None, _either("win_rate", "winRate")]
    total_profit: Annotated[float | None, _either("total_profit", "totalProfit")]
    profit_factor: Annotated[float | None, _either("profit_factor", "profitFactor")]


class LastExecutionRow(TypedDict, total=False):
    status: str | None
    result: Any


class AlgorithmRow(TypedDict, total=False):
    """One algorithm of the list, as far as the console shows it."""

    id: Required[str]
    name: str
    status: str
    strategy_type: Annotated[str | None, _either("strategy_type", "strategyType")]
    timeframe: str | None
    symbols: list[str]
    performance: PerformanceRow | None
    updated_at: Annotated[str | None, _either("updated_at", "updatedAt")]
    last_execution: Annotated[LastExecutionRow | None, _either("last_execution", "lastExecution")]


class AlgorithmRowsPage(TypedDict, total=False):
    """``GET /api/algorithms``: the documented shape, ``data`` a list."""

    data: Required[list[AlgorithmRow]]
    pagination: Pagination | None


ROWS_PAGE: TypeAdapter[AlgorithmRowsPage] = TypeAdapter(AlgorithmRowsPage)
ROW: TypeAdapter[AlgorithmRow] = TypeAdapter(AlgorithmRow)
"""One row alone: a page the fast reading refuses is read row by row, so one bad row
fails only itself."""


def _last_execution(last: LastExecutionRow | None) -> str | None:
    if last is None:
        return None
    parts = [short_text(p) for p in (last.get("status"), last.get("result")) if p not in (None, "")]
    return ": ".join(parts) if parts else None


def row_target(venue: str, row: AlgorithmRow, confirmed_at: float) -> Target:
    """The Target of one algorithm, with the attrs docs/ATTRIBUTES.md lists for x3algo
    (a missing or null value leaves its attr out). Spelled out field by field: it runs
    6,000 times in a first paint."""
    attrs: dict[str, AttrValue] = {"symbols": tuple(row.get("symbols", ()))}
    if (text := row.get("timeframe")) is not None:
        attrs["timeframe"] = text
    if (text := row.get("strategy_type")) is not None:
        attrs["strategy_type"] = text
    if perf := row.get("performance"):
        if (number := perf.get("total_trades")) is not None:
            attrs["trades"] = number
        if (rate := perf.get("win_rate")) is not None:
            attrs["win_rate"] = rate
        if (amount := perf.get("total_profit")) is not None:
            attrs["profit"] = amount
        if (factor := perf.get("profit_factor")) is not None:
            attrs["profit_factor"] = factor
    if (text := row.get("updated_at")) is not None:
        attrs["updated_at"] = text
    if (text := _last_execution(row.get("last_execution"))) is not None:
        attrs["last_execution"] = text
    status = row.get("status", "")
    target_id = row["id"]
    return Target(
        venue,
        TargetKind.ALGORITHM,
        target_id,
        row.get("name") or target_id,
        state_of(status),
        status or "(none)",
        attrs,
        confirmed_at,
    )


def algorithm_row(algo: Algorithm) -> AlgorithmRow:
    """The row of an algorithm read whole (a single GET, or a page read the tolerant way)."""
    perf = algo.performance
    last = algo.last_execution
    return AlgorithmRow(
        id=algo.id,
        name=algo.name,
        status=algo.status,
        strategy_type=algo.strategy_type,
        timeframe=algo.timeframe,
        symbols=algo.symbols,
        performance=None
        if perf is None
        else PerformanceRow(
            total_trades=perf.total_trades,
            win_rate=perf.win_rate,
            total_profit=perf.total_profit,
            profit_factor=perf.profit_factor,
        ),
        updated_at=algo.updated_at,
        last_execution=None
        if last is None
        else LastExecutionRow(status=last.status, result=last.result),
    )


def to_target(venue: str, algo: Algorithm) -> Target:
    """The Target of an algorithm read whole."""
    return row_target(venue, algorithm_row(algo), time.time())
