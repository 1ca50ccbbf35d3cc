"""A big kill fits the desk's messages: NATS refuses a message past the server's
``max_payload`` (1 MB by default), and a 2,000-target kill's report carried every result
again (1.3 MB of JSON: unpublishable, so the operator's console waited for a report that
could not come). Long messages go compressed, the report leaves out what the batch's
``results`` events carried, and a compressed message that inflates past the bound is a
protocol error, not a memory blow-up."""

from __future__ import annotations

import time
import zlib

import pytest

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.desk import messages
from console.desk.subjects import ProtocolError

MAX_PAYLOAD = 1024 * 1024
"""nats-server's default ``max_payload``."""


def big_kill(n: int) -> Report:
    items = tuple(
        PlanItem(
            "x3algo",
            f"algo-{i:05d}",
            f"RSI Momentum strategy number {i}",
            TargetKind.ALGORITHM,
            Action(ActionKind.STOP, {}, "emergency stop"),
            State.RUNNING,
            1234.5,
        )
        for i in range(n)
    )
    plan = Plan(items, "EMERGENCY STOP — everything", "all", (), time.time())
    results = {
        (i.venue, i.target_id): ItemResult(
            i,
            Outcome(OutcomeKind.APPLIED, "stopped (HTTP 200)", 200, 12.3, State.STOPPED),
            State.STOPPED,
            True,
        )
        for i in items
    }
    return Report(plan, "b" * 32, 1, results, 2)


def test_a_5000_target_kill_request_fits_one_message() -> None:
    report = big_kill(5000)
    request = messages.KillRequest(plan=messages.PlanMsg.of(report.plan)).encode()
    assert len(request) < MAX_PAYLOAD
    assert messages.KillRequest.decode(request).plan.plan() == report.plan


def test_a_2000_target_kill_report_fits_and_reads_back_whole() -> None:
    report = big_kill(2000)
    sent = dict(report.results)  # every result went out in the batch's events
    wire = messages.ReportMsg.of(report, sent).encode()
    assert len(wire) < MAX_PAYLOAD
    back = messages.ReportMsg.decode(wire).report(sent)
    assert back.results == report.results
    assert back.summary() == report.summary()


def test_a_result_the_events_did_not_carry_as_it_is_stays_in_the_report() -> None:
    report = big_kill(3)
    key = next(iter(report.results))
    earlier = report.results[key]
    sent = {**report.results, key: ItemResult(earlier.item, earlier.outcome)}  # not verified yet
    msg = messages.ReportMsg.of(report, sent)
    assert [(m.item.venue, m.item.target_id) for m in msg.results] == [key]


def test_a_compressed_message_that_inflates_past_the_bound_is_a_protocol_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(messages, "MAX_DECODED", 1000)
    bomb = b"z" + zlib.compress(b"{" + b" " * 10_000 + b"}")
    with pytest.raises(ProtocolError, match="inflates past"):
        messages.ActivityMsg.decode(bomb)
    with pytest.raises(ProtocolError, match="does not inflate"):
        messages.ActivityMsg.decode(b"z" + b"not zlib")
