"""What a one-key retry re-sends and what a report's headline counts (issue 12, item 3
re-walk): a call that was never answered (*uncertain*) but whose target a later re-read
verified as asked needs no retry and is not counted uncertain; its outcome is kept."""

from __future__ import annotations

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report

NO_ANSWER = Outcome(OutcomeKind.UNCERTAIN, "no answer within 10 s")
FAILED = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable", 503)
APPLIED = Outcome(OutcomeKind.APPLIED, "stopped")


def item(target_id: str) -> PlanItem:
    return PlanItem("x3algo", target_id, f"algo {target_id}", TargetKind.ALGORITHM,
                    Action(ActionKind.STOP))  # fmt: skip


def report(*results: ItemResult) -> Report:
    plan = Plan(tuple(r.item for r in results), "Emergency stop", "kill")
    out = Report(plan, "batch", 0)
    out.results = {(r.item.venue, r.item.target_id): r for r in results}
    return out


def test_an_uncertain_call_verified_by_a_re_read_needs_no_retry() -> None:
    verified = ItemResult(item("a1"), NO_ANSWER, State.STOPPED, True)
    assert not verified.needs_retry
    assert verified.outcome.kind is OutcomeKind.UNCERTAIN  # as answered (the journal's)
    assert ItemResult(item("a1"), NO_ANSWER).needs_retry  # not re-read yet
    assert ItemResult(item("a1"), NO_ANSWER, State.RUNNING, False).needs_retry
    assert ItemResult(item("a1"), NO_ANSWER, State.UNKNOWN, None).needs_retry
    assert ItemResult(item("a1"), FAILED).needs_retry
    assert ItemResult(item("a1"), APPLIED, State.RUNNING, False).needs_retry
    assert not ItemResult(item("a1"), APPLIED, State.STOPPED, True).needs_retry


def test_the_retry_and_the_headline_leave_out_what_the_re_read_verified() -> None:
    done = report(
        ItemResult(item("a1"), NO_ANSWER, State.STOPPED, True),  # re-read after it came back
        ItemResult(item("a2"), NO_ANSWER, State.STOPPED, True),
        ItemResult(item("a3"), NO_ANSWER),  # still in doubt
        ItemResult(item("a4"), FAILED, State.STOPPED, True),  # halted by someone else
    )
    retry = done.retry_plan()
    assert retry is not None
    assert [i.target_id for i in retry.items] == ["a3"]
    assert done.summary() == "halted 3/4 verified · 1 uncertain"
    assert done.counts() == {"uncertain": 3, "failed": 1}  # the answers, as journaled


def test_a_report_all_verified_after_uncertain_calls_says_no_uncertain() -> None:
    done = report(ItemResult(item("a1"), NO_ANSWER, State.STOPPED, True))
    assert done.summary() == "halted 1/1 verified"
    assert done.retry_plan() is None
    assert done.all_verified


def test_an_empty_plan_says_there_was_nothing_to_do() -> None:
    """A kill when nothing runs read "halted 0/0 verified": a count of nothing, read as
    a kill that halted something (session 23)."""
    assert report().summary() == "nothing to do: 0 targets planned"
