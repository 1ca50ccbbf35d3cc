"""Venue text on screen never carries terminal escapes or control characters.

A venue may name a target ``evil\\x1b]0;pwned\\x07\\x1b[2J`` (retitle the terminal, clear
the screen), or answer with such a message. Every place the console shows a venue's
words (panel cells, the detail pane, the outcome log, the kill plan and report, the
audit rows) shows them printable; and a name that looks like Rich markup (``[/]``) is
shown as written, never parsed (the DataTable parses ``str`` cells as markup).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.text import Text

from console.core.journal_rows import Entry
from console.core.kill import KillPlan
from console.core.model import (
    Action,
    ActionKind,
    AttrValue,
    Outcome,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.core.plan import ItemResult, Plan, PlanItem
from console.core.store import KnownState
from console.tui.app import ConsoleApp
from console.tui.format import Cell, Tones, as_number, one_line, parse_iso, printable_text
from console.tui.kill.plan_text import counts_table, leaves_text
from console.tui.kill.progress import KillProgressScreen
from console.tui.kill.report import report_rows
from console.tui.kill.run import KillRun
from console.tui.panels import PANELS
from console.tui.panels.columns import RowContext
from console.tui.screens.audit import AuditScreen
from console.tui.screens.audit_rows import entry_cells
from console.tui.widgets.outcomes import describe
from tests.tui.fakes import FROZEN, FakeClock, FakeVenue, fake_session
from tests.tui.pilot_support import cell, log_text, wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    fake_kill_session,
    fed,
    kill_done,
    killable_venues,
    make_app,
    open_kill,
)

EVIL = "evil\x1b]0;pwned\x07\x1b[2J"
MARKUP = "[/][bold]x"
"""A closing tag with nothing to close: ``Text.from_markup`` raises on it."""
CONTROLS = ("\x1b", "\x07", "\x08", "\x0d", "\x9b", "\u202e")
MESSAGE = "HTTP 409\x1b[8m hidden\x1b]52;c;cHduZWQ=\x07 \x08\x08\rrefused\u202e"
SIZE = (160, 50)


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


def poison(value: AttrValue) -> AttrValue:
    """Vendor words made hostile; numbers and times left readable."""
    if isinstance(value, tuple):
        return tuple(f"{v}{EVIL}" for v in value)
    if isinstance(value, str) and as_number(value) is None and parse_iso(value) is None:
        return f"{value}{EVIL}"
    return value


def hostile(target: Target) -> Target:
    attrs = {
        k: v if k in ("pause_source", "client") else poison(v) for k, v in target.attrs.items()
    }
    return replace(
        target,
        name=f"{EVIL}{target.name}{MARKUP}",
        raw_status=f"\x1b[5m{target.raw_status}\x07",
        attrs=attrs,
    )


def hostile_venues(venues: dict[str, FakeVenue]) -> dict[str, FakeVenue]:
    for venue in venues.values():
        venue.targets = {tid: hostile(t) for tid, t in venue.targets.items()}
    return venues


def screen_text(app: ConsoleApp) -> str:
    """Every character the current screen would put on the terminal (segments' text)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


# ----- on screen -------------------------------------------------------------------------


async def test_panels_and_detail_pane_show_hostile_names_statuses_and_words_printable(
    tmp_path: Path, clock: FakeClock
) -> None:
    venues = hostile_venues(killable_venues())
    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        for number, panel in enumerate(app.panels, 1):
            await pilot.press(str(number))
            await wait_for(pilot, lambda p=panel: app.active_panel is p and p.table.row_count > 0)
            for row in range(panel.table.row_count):
                panel.table.move_cursor(row=row, animate=False)
                await pilot.pause()
                text = screen_text(app)
                assert clean(text), f"{panel.SHORT} row {row}: {text!r}"
                assert "evil" in text
                detail = str(panel.query_one("#detail").render())
                assert clean(detail) and "evil" in detail, detail
        await pilot.press("2")
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "name").startswith("evil"))
        assert cell(app, "x3algo/a1", "name") == f"evilbtc-grid{MARKUP}"


async def test_the_outcome_log_shows_a_hostile_answer_printable(
    tmp_path: Path, clock: FakeClock
) -> None:
    venues = hostile_venues(killable_venues())
    venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.REJECTED, MESSAGE, 409, 3.0, warning=EVIL)
    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: cell(app, "x3algo/a1", "status") != "")
        app.active_panel.table.move_cursor(row=0, animate=False)
        await pilot.press("X")
        await pilot.press("y")
        await wait_for(pilot, lambda: "REJECTED" in log_text(app), "the rejection in the log")
        await wait_for(pilot, lambda: app.screen is app.main)
        log = log_text(app)
        assert clean(log), log
        assert "hidden" in log and "refused" in log and MARKUP in log
        assert clean(screen_text(app))


async def test_kill_plan_report_and_audit_screens_show_hostile_words_printable(
    tmp_path: Path, clock: FakeClock
) -> None:
    venues = hostile_venues(killable_venues())
    venues["x3algo"].fail["a1"] = Outcome(OutcomeKind.FAILED, MESSAGE, 503, 3.0)
    session = fake_kill_session(tmp_path, clock, venues)
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session))
        await open_kill(pilot, app)
        await pilot.pause()
        assert clean(screen_text(app))
        await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        assert isinstance(app.screen, KillProgressScreen)
        await pilot.pause()
        text = screen_text(app)
        assert clean(text), text
        assert "hidden" in text and "evil" in text and MARKUP in text
        await pilot.press("u")  # from the report: this kill's batch, every time
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        # The audit screen reads the journal in a worker: wait for its rows, not a pause.
        try:
            await wait_for(pilot, lambda: "evil" in screen_text(app), "the journal's rows")
        except AssertionError:
            failed = session.journal.failed
            raise AssertionError(
                f"no row (journal failed: {failed}):\n{screen_text(app)}"
            ) from None
        text = screen_text(app)
        assert clean(text), text
        assert "evil" in text and MARKUP in text


# ----- the text builders -----------------------------------------------------------------


def context(state: State = State.RUNNING) -> RowContext:
    known = KnownState(State.PAUSED, "2026-01-01T00:00:00.000Z", f"alice{EVIL}")
    return RowContext(FROZEN, state, False, Tones.monochrome(), known, FROZEN, (1.0, 2.0))


def test_every_panel_cell_and_detail_is_printable() -> None:
    venues = hostile_venues(killable_venues())
    targets = [t for v in venues.values() for t in v.targets.values()]
    for panel_class in PANELS:
        panel = panel_class.__new__(panel_class)  # the renderers need no widget
        for target in (t for t in targets if t.kind is panel_class.KIND):
            for column in panel_class.build_columns(panel):
                rendered = column.render(target, context(target.state))
                assert clean(rendered.plain), (column.key, rendered.plain)
            # what refresh_detail shows: the panel's words through printable_text
            detail = printable_text(panel_class.detail(panel, target, context(target.state)))
            assert clean(detail.plain) and "evil" in detail.plain, detail.plain


def test_cells_one_line_and_styled_texts_drop_controls_and_keep_styles() -> None:
    assert Cell(EVIL).plain == "evil"
    assert Cell(EVIL).sort_key == (1, "evil")
    assert one_line(f"a\n{EVIL}\tb") == "a evil b"
    text = Text("ok ")
    text.append(f"bad{EVIL}", "bold")
    text.append(" · line\nnext\x07 line")
    cleaned = printable_text(text)
    assert cleaned.plain == "ok badevil · line\nnext line"
    assert [(s.start, s.end, str(s.style)) for s in cleaned.spans] == [(3, 10, "bold")]
    ordinary = Text("plain name · P&L trend\n▁▂▄ ▲")
    assert printable_text(ordinary) is ordinary  # nothing to clean: the same object


def item() -> PlanItem:
    action = Action(ActionKind.STOP, reason=EVIL)
    return PlanItem("x3algo", "a1\x1b[1m", f"{EVIL}a1{MARKUP}", TargetKind.ALGORITHM, action)


def test_the_outcome_log_entry_is_printable() -> None:
    outcome = Outcome(OutcomeKind.REJECTED, MESSAGE, 409, 3.0, warning=EVIL)
    for verified in (None, True, False):
        seen = State.RUNNING if verified is not None else None
        result = ItemResult(item(), outcome, seen, verified)
        text = describe(result, FROZEN, Tones.monochrome())
        assert clean(text.plain), text.plain
        assert MARKUP in text.plain


def test_kill_report_rows_are_printable_and_never_markup() -> None:
    kill = KillPlan(Plan((item(),), "EMERGENCY STOP", "kill", (f"x3algo: stays {EVIL}",)))
    run = KillRun(kill, "DEMO", False, lambda: FROZEN)
    run.on_result(ItemResult(item(), Outcome(OutcomeKind.FAILED, MESSAGE, 503, 1.0, warning=EVIL)))
    ((_, cells),) = report_rows(run, {"x3algo": f"x3algo{EVIL}"}, Tones.monochrome())
    for value in cells:
        assert isinstance(value, Text) or "[" not in value
        assert clean(str(value)), repr(value)
    assert MARKUP in str(cells[1]) and "hidden" in str(cells[-1])


def test_audit_rows_are_printable_and_never_markup() -> None:
    entry = Entry(
        seq=1,
        ts_ms=int(FROZEN * 1000),
        op_id="op",
        batch_id="b",
        kind="outcome",
        profile="p",
        venue="x3algo",
        target_id="a1\x1b[1m",
        target_name=f"{EVIL}a1{MARKUP}",
        action="stop",
        options="{}",
        reason=EVIL,
        operator="alice",
        host="desk1",
        ssh_client=None,
        outcome="rejected",
        http_status=409,
        latency_ms=3.0,
        message=MESSAGE,
        state=None,
    )
    for kind in ("outcome", "intent"):
        cells = entry_cells(replace(entry, kind=kind), False, Tones.monochrome())
        for value in cells:
            assert isinstance(value, Text) or "[" not in value
            assert clean(str(value)), repr(value)
        assert MARKUP in str(cells[2])


def test_kill_plan_text_is_printable() -> None:
    kill = KillPlan(
        Plan((item(),), "EMERGENCY STOP", "kill", (f"x3algo: positions stay {EVIL}",)),
        unreachable={"pipai": f"HTTP 502 {EVIL}"},
    )
    table = counts_table(kill, ["x3algo", "pipai"], {}, {}, Tones.monochrome())
    console = Console(width=160, color_system=None)
    with console.capture() as capture:
        console.print(table)
        console.print(leaves_text(kill, clear=False, clearing=["PipAI"]))
    out = capture.get()
    assert clean(out), out
    assert "HTTP 502 evil" in out and "positions stay evil" in out
