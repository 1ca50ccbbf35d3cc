"""x3algo wire models (pydantic v2), and x3algo's status words as console states (the
mapping to Target is in :mod:`console.venues.x3algo.mapping`).

Every model ignores unknown fields and keeps ``status`` as the raw string, so a status
the docs never listed (or a future one) is shown as UNKNOWN with its own word beside it
instead of breaking the feed. Numbers are JSON numbers at x3algo, so they stay numbers;
nullability is undocumented [GAP], so everything but ``id`` is optional.
"""

from __future__ import annotations

from typing import Annotated, Any, Required

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from typing_extensions import TypedDict

from console.core.model import State

_TOLERANT = ConfigDict(extra="allow", populate_by_name=True)

STATES: dict[str, State] = {
    "active": State.RUNNING,
    "paused": State.PAUSED,
    "stopped": State.STOPPED,
    "draft": State.STOPPED,
    "error": State.ERROR,
}


class Performance(BaseModel):
    model_config = _TOLERANT

    total_trades: int | None = Field(None, alias="totalTrades")
    winning_trades: int | None = Field(None, alias="winningTrades")
    losing_trades: int | None = Field(None, alias="losingTrades")
    total_profit: float | None = Field(None, alias="totalProfit")
    total_loss: float | None = Field(None, alias="totalLoss")
    win_rate: float | None = Field(None, alias="winRate")
    profit_factor: float | None = Field(None, alias="profitFactor")
    sharpe_ratio: float | None = Field(None, alias="sharpeRatio")
    max_drawdown: float | None = Field(None, alias="maxDrawdown")
    average_win: float | None = Field(None, alias="averageWin")
    average_loss: float | None = Field(None, alias="averageLoss")


class LastExecution(BaseModel):
    model_config = _TOLERANT

    timestamp: str | None = None
    status: str | None = None
    result: Any = None


class Algorithm(BaseModel):
    """A list item or the full GET object (the full one adds the config sub-objects)."""

    model_config = _TOLERANT

    id: str
    name: str = ""
    status: str = ""
    active: bool | None = None
    user_id: str | None = Field(None, alias="userId")
    strategy_type: str | None = Field(None, alias="strategyType")
    timeframe: str | None = None
    symbols: list[str] | None = None  # null: nullability is a documented [GAP]
    performance: Performance | None = None
    position_sizing: dict[str, Any] | None = Field(None, alias="positionSizing")
    entry_conditions: dict[str, Any] | None = Field(None, alias="entryConditions")
    exit_conditions: dict[str, Any] | None = Field(None, alias="exitConditions")
    risk_parameters: dict[str, Any] | None = Field(None, alias="riskParameters")
    execution_settings: dict[str, Any] | None = Field(None, alias="executionSettings")
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")
    last_execution: LastExecution | None = Field(None, alias="lastExecution")


class Pagination(BaseModel):
    model_config = _TOLERANT

    page: int | None = None
    limit: int | None = None
    total: int | None = None
    total_pages: int | None = Field(None, alias="totalPages")
    has_more: bool | None = Field(None, alias="hasMore")  # not documented; seen elsewhere


class AlgorithmPage(BaseModel):
    model_config = _TOLERANT

    data: list[Algorithm] = Field(default_factory=list)
    pagination: Pagination | None = None


class ControlReply(BaseModel):
    """The 200 of start and stop: the algorithm's new status and the vendor's message."""

    model_config = _TOLERANT

    id: str | None = None
    name: str | None = None
    status: str | None = None
    active: bool | None = None
    message: str | None = None


class ErrorDetail(BaseModel):
    model_config = _TOLERANT

    message: str = ""
    code: str = ""
    status: int | None = None
    details: dict[str, Any] | None = None
    request_id: str | None = Field(None, alias="requestId")


class ErrorEnvelope(BaseModel):
    model_config = _TOLERANT

    error: ErrorDetail


class LoginReply(BaseModel):
    """Login and refresh answers: the login body is [GAP: truncated]; signup's shape
    assumed (``accessToken``, ``expiresIn``), and the shapes an implementation of the same
    docs may choose instead read the same: ``access_token`` / ``token`` for the token,
    ``expires_in``, and the whole inside a ``data`` envelope (as the list's rows are)."""

    model_config = _TOLERANT

    access_token: str = Field(validation_alias=AliasChoices("accessToken", "access_token", "token"))
    # Any value: what it says is weighed by the session (auth.token_life), never a reason
    # to refuse a token that works.
    expires_in: Any = Field(None, validation_alias=AliasChoices("expiresIn", "expires_in"))

    @model_validator(mode="before")
    @classmethod
    def _unwrapped(cls, value: Any) -> Any:
        """``{"data": {...the answer...}}`` read as the answer, when the top level holds
        no token of its own."""
        enveloped = isinstance(value, dict) and isinstance(value.get("data"), dict)
        if enveloped and not {"accessToken", "access_token", "token"} & value.keys():
            return value["data"]
        return value


# ----- the list read straight into rows (mapping.py says why) ----------------------
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
    active: bool | None
    strategy_type: Annotated[str | None, _either("strategy_type", "strategyType")]
    timeframe: str | None
    symbols: list[str] | None
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


def state_of(raw: str) -> State:
    """x3algo's status word as a console state; words nobody listed are UNKNOWN. Read
    whatever its case and surrounding blanks (``"Active"``, ``" STOPPED"``): the same
    word, whichever implementation of x3algo's API spells it."""
    return STATES.get(raw.strip().lower(), State.UNKNOWN)
