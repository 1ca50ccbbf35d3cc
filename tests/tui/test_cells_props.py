"""Property: whatever a venue's attributes hold, every panel's cells, its detail line and
the overview's figures and a target's screen come out as text — never an exception that would take the
console down at its first paint.

The venue modules type what they map (``AttrValue``), but not what is in it: a hostile
venue's numbers can be 400 digits, NaN, negative zero, its strings terminal escapes or
credentials, its dates any text. Each panel is asked for its columns as the console
builds them, and each renderer, sort key, measure and detail runs on such a target.
"""

from __future__ import annotations

import io
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from console.core.model import State, Target
from console.core.store import Store
from console.tui.format import Tones
from console.tui.panels import PANELS
from console.tui.panels.columns import RowContext
from console.tui.panels.tally import _values
from console.tui.screens.target import attributes_table

NAMES = [
    "algorithm",
    "api_keys",
    "assets",
    "by_asset",
    "calls",
    "capital",
    "client",
    "created_at",
    "deployed_at",
    "drift",
    "emergency",
    "engine_missing",
    "engine",
    "expiration",
    "filing_uuid",
    "form_types",
    "instruments",
    "key_no",
    "last_execution",
    "leaves",
    "leverage",
    "live",
    "manual_paused",
    "manual_stopped",
    "odds_format",
    "open_positions",
    "orders_seen",
    "pause_reason",
    "pause_source",
    "paused_at",
    "paused",
    "pnl",
    "profit_factor",
    "profit",
    "puts",
    "resolution",
    "set_at",
    "set_by",
    "slots_available",
    "slots_total",
    "sniper",
    "soft_paused",
    "status_words",
    "stop_reason",
    "stopped_at",
    "strategy_type",
    "strategy",
    "symbols",
    "system_blocked",
    "system_duration_s",
    "system_reason",
    "system_stopped",
    "template",
    "ticker",
    "timeframe",
    "trades",
    "trading_active",
    "updated_at",
    "warning",
    "win_rate",
    "window_end",
    "window_start",
    "total_pnl",
    "win_rate",
    "total_trades",
    "unrealized_pnl",
]
TEXT = st.text(alphabet="aZ09.-:+TZ /\x1b[]\u202e\xe9e", max_size=12) | st.sampled_from(
    ["", "NaN", "inf", "-1e309", "2026-13-45T99:99:99Z", "1" * 400, "\x1b]0;pwned\x07"]
)
VALUE = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.sampled_from([10**400, -(10**400), 2**63, 253_402_300_800])
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
    | st.lists(TEXT, max_size=3).map(tuple)
)
ATTRS = st.dictionaries(st.sampled_from(NAMES), VALUE, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    panel=st.sampled_from(PANELS),
    attrs=ATTRS,
    name=TEXT,
    state=st.sampled_from(list(State)),
    stale=st.booleans(),
)
def test_any_attributes_render_in_every_column(
    panel: Any, attrs: dict[str, Any], name: str, state: State, stale: bool
) -> None:
    target = Target("v", panel.KIND, "id-1", name, state, "raw", attrs=attrs, confirmed_at=1.0)
    ctx = RowContext(now=1_765_000_000.0, state=state, stale=stale, tones=Tones.monochrome())
    for column in panel.build_columns(cast(Any, None)):
        column.render(target, ctx)
        if column.text_of is not None:
            column.text_of(target)
        if column.measure is not None:
            column.measure(target)
        if column.parse is not None:
            value = column.parse(attrs.get(column.attr))
            if column.fmt is not None:
                column.fmt(attrs.get(column.attr))
            assert value is None or isinstance(value, float)
    panel.detail(cast(Any, None), target, ctx)
    _values(target)
    store = Store()
    store.snapshot("v", [target])
    console = Console(width=100, file=io.StringIO())
    console.print(attributes_table(target, store, ctx.now, ctx.tones))  # a target's screen


def test_a_time_no_platform_can_hold_is_said_not_raised() -> None:
    """Found by the property above: a Joyride expiration past what gmtime takes raised
    in the row's repaint (OverflowError / OSError 75)."""
    from console.tui.format import fmt_clock, fmt_datetime

    for ts in (1e300, -1e300, 2.0**63, float("nan")):
        assert fmt_datetime(ts) == "no such time"
        assert fmt_clock(ts) == "no such time"
    assert fmt_datetime(0.0) == "01-01 00:00Z"
