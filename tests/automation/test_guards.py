"""Guards fire once per crossing (hypothesis), and each rule reads what it says."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from console.automation.config import GuardConfig
from console.automation.guards import GuardState, Hysteresis, number
from console.core.model import State, Target, TargetKind
from console.core.ports import FeedStatus

values = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), max_size=200)


@given(values, st.floats(-1e3, 1e3), st.floats(0, 1e3), st.booleans())
def test_a_guard_never_fires_twice_for_one_crossing(
    seq: list[float], threshold: float, band: float, above: bool
) -> None:
    gate = Hysteresis(threshold, band, above)
    fired_at = [i for i, v in enumerate(seq) if gate.update(v)]
    for a, b in itertools.pairwise(fired_at):
        between = seq[a + 1 : b]
        # between two firings the value went back past the threshold by the band
        back = [v <= threshold - band if above else v >= threshold + band for v in between]
        assert any(back), (seq, threshold, band, above, fired_at)
    for i in fired_at:  # and each firing is a real crossing
        assert seq[i] > threshold if above else seq[i] < threshold


@given(values, st.floats(-1e3, 1e3), st.floats(0, 1e3))
def test_every_crossing_after_a_rearm_fires(
    seq: list[float], threshold: float, band: float
) -> None:
    gate = Hysteresis(threshold, band, above=False)
    armed = True
    for v in seq:
        expected = armed and v < threshold
        assert gate.update(v) is expected
        if expected:
            armed = False
        elif v >= threshold + band:
            armed = True


def _target(**attrs: object) -> Target:
    return Target("v", TargetKind.STRATEGY, "t1", "T1", State.RUNNING, "running", attrs)  # type: ignore[arg-type]


def test_pnl_below_carries_the_values_and_rearms_past_the_band() -> None:
    state = GuardState(GuardConfig(name="floor", rule="pnl_below", threshold=-1000, hysteresis=100))
    assert state.check_target(_target(pnl="-999")) is None
    fired = state.check_target(_target(pnl="-1,200.50 USD"))
    assert fired is not None and fired.values == {"pnl": -1200.5, "threshold": -1000.0}
    assert "guard floor (pnl_below) fired on T1 on v: pnl=-1200.5" in fired.words()
    assert state.check_target(_target(pnl=-950)) is None  # back, but not past the band
    assert state.check_target(_target(pnl=-1100)) is None
    assert state.check_target(_target(pnl=-850)) is None  # re-armed
    assert state.check_target(_target(pnl=-1001)) is not None


def test_drawdown_from_the_session_high() -> None:
    state = GuardState(GuardConfig(name="dd", rule="drawdown_over", threshold=20))
    for pnl in (100, 500, 420):
        assert state.check_target(_target(pnl=pnl)) is None
    fired = state.check_target(_target(pnl=390))
    assert fired is not None
    assert fired.values["session_high"] == 500.0 and fired.values["drawdown_pct"] == 22.0


def test_a_nan_or_infinite_value_is_no_value_and_leaves_the_high_alone() -> None:
    """A venue's ``NaN`` P&L compared below no threshold and above none: it held the
    gate shut while it lasted, and as the first value seen it made the session high NaN
    for good (max(nan, x) is nan), so the drawdown guard never fired again."""
    floor = GuardState(GuardConfig(name="floor", rule="pnl_below", threshold=-1000))
    for odd in (float("nan"), "NaN", float("-inf"), "-Infinity"):
        assert floor.check_target(_target(pnl=odd)) is None
    assert floor.check_target(_target(pnl=-1200)) is not None
    dd = GuardState(GuardConfig(name="dd", rule="drawdown_over", threshold=20))
    assert dd.check_target(_target(pnl=float("nan"))) is None
    assert dd.check_target(_target(pnl=500)) is None
    assert dd.check_target(_target(pnl=float("inf"))) is None
    fired = dd.check_target(_target(pnl=390))
    assert fired is not None and fired.values["session_high"] == 500


def test_flag_raised_and_positions_over() -> None:
    flag = GuardState(GuardConfig(name="e", rule="flag_raised"))
    assert flag.check_target(_target(emergency=False)) is None
    assert flag.check_target(_target(emergency=True)) is not None
    assert flag.check_target(_target(emergency=True)) is None
    assert flag.check_target(_target(emergency=False)) is None
    assert flag.check_target(_target(emergency=True)) is not None
    pos = GuardState(GuardConfig(name="p", rule="positions_over", threshold=3))
    assert pos.check_target(_target(open_positions=3)) is None
    assert pos.check_target(_target(open_positions=4)) is not None


def test_venue_down_for_more_than_n_seconds() -> None:
    state = GuardState(GuardConfig(name="down", rule="venue_down", threshold=30))
    assert state.check_venue("x", FeedStatus.DOWN, "refused", 100.0) is None
    assert state.check_venue("x", FeedStatus.DOWN, "refused", 130.0) is None
    fired = state.check_venue("x", FeedStatus.DOWN, "refused", 131.0)
    assert (
        fired is not None and fired.values["down_s"] == 31.0 and fired.values["feed"] == "refused"
    )
    assert state.check_venue("x", FeedStatus.DOWN, "refused", 500.0) is None
    assert state.check_venue("x", FeedStatus.LIVE, "", 501.0) is None
    assert state.check_venue("x", FeedStatus.DOWN, "", 502.0) is None
    assert state.check_venue("x", FeedStatus.DOWN, "", 533.0) is not None


def test_numbers_from_attributes() -> None:
    assert number("57.01") == 57.01 and number("63.9%") == 63.9 and number(True) == 1.0
    assert number("n/a") is None and number(None) is None and number(("a",)) is None
