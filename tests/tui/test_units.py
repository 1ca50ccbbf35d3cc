"""Plain functions behind the screen: plans, words and times, arming, keys, freshness."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text

from console.core.model import ActionKind, State
from console.core.session import Session
from console.tui.arming import ArmState
from console.tui.format import Cell, fmt_age, fmt_countdown, fmt_duration, one_line, sort_key
from console.tui.keymap import DEFAULT_KEYS, validate_keymap
from console.tui.planning import PlanDraft, build_draft
from console.tui.widgets.banner import find_block
from console.tui.widgets.outcomes import advice
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FROZEN, FakeClock, FakeVenue, fake_session, preload


def draft_for(session: Session, kind: ActionKind, venue: str, *ids: str) -> PlanDraft:
    targets = [t for i in ids if (t := session.store.get(venue, i)) is not None]
    draft = build_draft(kind, targets, session.store, session.clients, scope="selection")
    assert isinstance(draft, PlanDraft)
    return draft


def test_plan_uses_effective_state_and_leaves_out_what_the_venue_does_not_offer(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    preload(session, venues)
    draft = draft_for(session, ActionKind.STOP, "x3algo", "a1", "a3")
    assert [i.target_id for i in draft.plan.items] == ["a1"]
    assert [e.target.id for e in draft.excluded] == ["a3"]
    assert "offers no stop while STOPPED" in draft.excluded[0].why
    assert draft.plan.items[0].state_before is State.RUNNING


def test_stale_targets_are_planned_as_unknown(
    session: Session, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    preload(session, venues)
    clock.now += 60
    draft = draft_for(session, ActionKind.STOP, "x3algo", "a1")
    assert draft.plan.items[0].state_before is State.UNKNOWN


def test_finalize_adds_chosen_options_only_where_offered_and_keeps_targets(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    preload(session, venues)
    draft = draft_for(session, ActionKind.PAUSE, "pipai", "s1")
    plan = draft.finalize({"close_positions": True, "bogus": True}, "  risk  ")
    assert [i.target_id for i in plan.items] == ["s1"]
    assert dict(plan.items[0].action.options) == {"close_positions": True}
    assert plan.items[0].action.reason == "risk"
    assert draft.finalize({}, "   ").items[0].action.reason is None


def test_nothing_to_do_returns_the_reasons(session: Session, venues: dict[str, FakeVenue]) -> None:
    preload(session, venues)
    crux = session.store.get("55tech", "crux")
    assert crux is not None
    result = build_draft(ActionKind.STOP, [crux], session.store, session.clients)
    assert isinstance(result, list) and result[0].target.id == "crux"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, "never"), (42, "42 s"), (600, "10 min"), (7200, "2 h"), (200000, "2 d")],
)
def test_ages_in_words(seconds: float | None, words: str) -> None:
    assert fmt_age(seconds) == words


def test_durations_and_countdowns() -> None:
    assert fmt_duration(252) == "4m12s"
    assert fmt_duration(8000) == "2h13m"
    assert fmt_countdown(FROZEN + 90, FROZEN) == "in 1m30s"
    assert fmt_countdown(FROZEN - 90, FROZEN) == "1m30s ago"


def test_vendor_text_is_never_markup_and_stays_on_one_bounded_line() -> None:
    cell = Cell("[bold]risk[/] [desk]")
    assert cell.plain == "[bold]risk[/] [desk]"
    assert one_line("a\n  b\tc" + "x" * 300, 20).endswith("…")
    assert len(one_line("y" * 300, 20)) == 20


def test_sort_keys_order_numbers_text_then_missing() -> None:
    values = [None, "beta", 2.5, "Alpha", 10, ""]
    ordered = sorted(values, key=sort_key)
    assert ordered[:2] == [2.5, 10] and ordered[2:4] == ["Alpha", "beta"]


def test_arm_counts_down_and_expires_once() -> None:
    arm = ArmState(readonly=True, minutes=5)
    assert not arm.enabled(FROZEN)
    arm.arm(FROZEN)
    assert arm.enabled(FROZEN + 299) and arm.left(FROZEN + 60) == 240
    assert arm.expire(FROZEN + 300) and not arm.expire(FROZEN + 301)
    assert not arm.enabled(FROZEN + 301)
    assert ArmState(readonly=False, minutes=5).enabled(FROZEN)


def test_no_control_action_sits_on_a_ctrl_key_and_k_is_free() -> None:
    for name in ("pause", "stop", "resume", "start"):
        assert not DEFAULT_KEYS[name].startswith("ctrl+")
    assert "K" not in DEFAULT_KEYS.values()
    assert validate_keymap({"pause": "ctrl+p"})[1] == [
        "pause: control actions may not sit on a ctrl key"
    ]


def test_global_block_reads_the_latest_engine_report(
    tmp_path: Path, venues: dict[str, FakeVenue], clock: FakeClock
) -> None:
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    engines = session.store.targets("55tech")
    assert find_block(engines, FROZEN) is None


def test_advice_names_what_to_do_for_each_failure_kind(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    from console.core.model import Outcome, OutcomeKind
    from console.core.plan import ItemResult

    preload(session, venues)
    item = draft_for(session, ActionKind.STOP, "x3algo", "a1").plan.items[0]
    failed = ItemResult(item, Outcome(OutcomeKind.FAILED, "HTTP 503"))
    assert "check the venue's health" in advice(failed)
    rejected = ItemResult(item, Outcome(OutcomeKind.REJECTED, "limit"))
    assert "venue refused" in advice(rejected)
    unverified = ItemResult(item, Outcome(OutcomeKind.APPLIED, "ok"), State.RUNNING, False)
    assert "re-read shows RUNNING" in advice(unverified)
    unreadable = ItemResult(item, Outcome(OutcomeKind.APPLIED, "ok"), State.UNKNOWN, False)
    assert "no re-read could read it: check it on the venue's side" in advice(unreadable)
    assert advice(ItemResult(item, Outcome(OutcomeKind.APPLIED, "ok"), State.STOPPED, True)) == ""


def test_freshness_words_for_a_venue_that_never_answered(session: Session) -> None:
    from console.tui.format import Tones
    from console.tui.panels.freshness import ViewFacts, freshness_line

    session.store.health("pipai", FeedStatus.DOWN, "connection refused")
    facts = ViewFacts(0, 0, 0, "Name ▲", "")
    line, stale, alert = freshness_line(session.store, ["pipai"], facts, Tones.monochrome())
    assert isinstance(line, Text)
    assert "NO DATA — pipai feed down: connection refused" in line.plain
    assert stale and alert
