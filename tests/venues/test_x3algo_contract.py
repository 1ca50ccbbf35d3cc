"""x3algo wire models against the documented samples, and the state/attr mapping."""

from __future__ import annotations

from console.core.model import ActionKind, State, Target, TargetKind
from console.venues.kit.base import Secret, VenueSettings
from console.venues.x3algo.client import X3AlgoClient
from console.venues.x3algo.mapping import to_target
from console.venues.x3algo.wire import (
    Algorithm,
    AlgorithmPage,
    ControlReply,
    ErrorEnvelope,
    LoginReply,
)
from tests.x3algo_samples import LIST_SAMPLE, STOP_SAMPLE

DAILY_LOSS_SAMPLE = {
    "error": {
        "message": "Daily loss limit reached. Cannot start algorithm.",
        "code": "FORBIDDEN",
        "status": 403,
        "details": {"dailyLoss": 5000, "limit": 5000},
    }
}
ENVELOPE_SAMPLE = {
    "error": {
        "message": "Human-readable error message",
        "code": "ERROR_CODE",
        "status": 400,
        "details": {},
        "requestId": "abc-123-def",
    }
}
SIGNUP_SAMPLE = {"accessToken": "eyJ…", "expiresIn": 900}

DOCUMENTED_ATTRS = {
    "symbols": ("NSE:RELIANCE", "NSE:TCS"),
    "timeframe": "15m",
    "strategy_type": "momentum",
    "trades": 45,
    "win_rate": 62.5,
    "profit": 15000.0,
    "profit_factor": 1.8,
    "updated_at": "2024-01-15T10:30:00Z",
    "last_execution": "success: ok",
}
"""The Target attrs of LIST_SAMPLE's row with a lastExecution (status success, result ok)."""


def _client() -> X3AlgoClient:
    settings = VenueSettings(
        name="x3",
        api="x3algo",
        base_url="http://127.0.0.1:9",
        credentials={"email": Secret("a@b.c"), "password": Secret("pw-123456")},
    )
    return X3AlgoClient(settings)


def test_documented_list_sample_parses() -> None:
    page = AlgorithmPage.model_validate(LIST_SAMPLE)
    algo = page.data[0]
    assert algo.id == "507f1f77bcf86cd799439011"
    assert algo.performance is not None and algo.performance.total_profit == 15000
    assert page.pagination is not None and page.pagination.total_pages == 1


def test_documented_stop_reply_parses() -> None:
    reply = ControlReply.model_validate(STOP_SAMPLE)
    assert (reply.status, reply.active, reply.message) == (
        "stopped",
        False,
        "Algorithm stopped successfully",
    )


def test_documented_error_samples_parse_with_and_without_request_id() -> None:
    forbidden = ErrorEnvelope.model_validate(DAILY_LOSS_SAMPLE).error
    assert forbidden.code == "FORBIDDEN"
    assert forbidden.details == {"dailyLoss": 5000, "limit": 5000}
    assert forbidden.request_id is None
    assert ErrorEnvelope.model_validate(ENVELOPE_SAMPLE).error.request_id == "abc-123-def"


def test_documented_token_reply_parses() -> None:
    assert LoginReply.model_validate(SIGNUP_SAMPLE).expires_in == 900


def test_unknown_fields_and_missing_optional_fields_are_tolerated() -> None:
    algo = Algorithm.model_validate(
        {"id": "x" * 24, "status": "archived", "futureField": {"a": 1}, "performance": None}
    )
    target = to_target("x3", algo)
    assert target.state is State.UNKNOWN
    assert target.raw_status == "archived"
    assert target.attrs == {"symbols": ()}


def test_target_carries_the_documented_attrs() -> None:
    algo = Algorithm.model_validate(
        {
            **LIST_SAMPLE["data"][0],
            "lastExecution": {
                "timestamp": "2024-01-15T10:30:00Z",
                "status": "success",
                "result": "ok",
            },
        }
    )
    target = to_target("x3", algo)
    assert (target.kind, target.state, target.raw_status) == (
        TargetKind.ALGORITHM,
        State.RUNNING,
        "active",
    )
    assert target.attrs == DOCUMENTED_ATTRS


def _target(raw: str) -> Target:
    algo = Algorithm.model_validate({"id": "a" * 24, "name": "A", "status": raw})
    return to_target("x3", algo)


def test_states_map_as_documented() -> None:
    expected = {
        "active": State.RUNNING,
        "paused": State.PAUSED,
        "stopped": State.STOPPED,
        "draft": State.STOPPED,
        "error": State.ERROR,
        "hibernating": State.UNKNOWN,
    }
    assert {raw: _target(raw).state for raw in expected} == expected


def test_only_start_and_stop_are_offered_where_they_make_sense() -> None:
    client = _client()
    kinds = {
        raw: [a.kind for a in client.actions_for(_target(raw))]
        for raw in ("active", "paused", "stopped", "draft", "error", "hibernating")
    }
    assert kinds == {
        "active": [ActionKind.STOP],
        "paused": [ActionKind.STOP],
        "stopped": [ActionKind.START],
        "draft": [],
        "error": [],
        "hibernating": [ActionKind.STOP],
    }
    stop = client.actions_for(_target("active"))[0]
    assert "open positions stay open" in stop.leaves_behind


def test_kill_stops_active_and_paused_and_leaves_halted_alone() -> None:
    client = _client()
    for raw in ("active", "paused", "hibernating"):
        action = client.kill_action(_target(raw), clear_leaves_behind=True)
        assert action is not None and action.kind is ActionKind.STOP
    for raw in ("stopped", "draft", "error"):
        assert client.kill_action(_target(raw)) is None
