"""Read-only and arming, the keymap, help, palette, filter, sort and selection."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from console.core.plan import Plan, Report
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.keymap import help_rows, validate_keymap
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.help import HelpScreen
from tests.tui.fakes import FakeClock, FakeVenue, fake_session
from tests.tui.pilot_support import burst, cell, row_keys, wait_for

SIZE = (120, 40)


def footer_keys(app: ConsoleApp) -> set[str]:
    return {b.binding.id or "" for b in app.screen.active_bindings.values() if b.enabled}


async def test_readonly_leaves_control_keys_unbound_until_armed_then_expires(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    session = fake_session(tmp_path, clock, venues, readonly=True)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await pilot.press("P", "X")
        assert not isinstance(app.screen, ConfirmScreen)
        assert {"pause", "stop"}.isdisjoint(footer_keys(app))
        assert not any("Pause" in c.title for c in app.palette_commands())
        await pilot.press("a")
        assert "ARMED 5:00" in str(app.header.query_one("#mode").render())
        assert {"pause", "stop"} <= footer_keys(app)
        clock.now += 61
        await wait_for(pilot, lambda: "ARMED 3:59" in str(app.header.query_one("#mode").render()))
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        clock.now += 240  # the arm runs out while the modal is open
        await pilot.press("y")
        await pilot.pause()
        assert venues["55tech"].executed == []
        await wait_for(pilot, lambda: "READ-ONLY" in str(app.header.query_one("#mode").render()))
        await pilot.press("P")
        assert not isinstance(app.screen, ConfirmScreen)


async def test_a_profile_keymap_remaps_by_binding_id_and_refuses_ctrl_for_control(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(
        session,
        session.control,
        clock=session.clock,
        keymap={"pause": "W", "stop": "ctrl+x", "nope": "z"},
    )
    assert app.keys == {"pause": "W"}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await pilot.press("P")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("W")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape", "X")  # stop kept its default key
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.draft.kind.value == "stop"


def test_keymap_validation_keeps_kill_key_reserved() -> None:
    valid, problems = validate_keymap({"help": "K", "filter": "f"})
    assert valid == {"filter": "f"}
    assert problems == ["help: K is reserved for the kill-all"]


async def test_help_lists_every_key_as_remapped(session: Session) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock, keymap={"pause": "W"})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {(r.id, r.key) for r in help_rows(app.keys)}
        assert ("pause", "W") in rows and ("stop", "X") in rows
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_switches_panels_by_name(session: Session) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await pilot.press("ctrl+p", *"Show panel 4", "enter")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "expiration", "panel 4")


async def test_filter_sort_and_selection(session: Session) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        assert row_keys(app) == ["x3algo/a1", "x3algo/a2", "x3algo/a3"]
        await pilot.press("slash", *"eth", "enter")
        assert row_keys(app) == ["x3algo/a2"]
        assert not app.active_panel.query_one("#filter", Input).has_focus
        await pilot.press("escape")  # no selection: esc drops the filter
        assert len(row_keys(app)) == 3
        await pilot.press("s", "s")  # Status, then Profit
        assert app.active_panel.sort_column == "profit"
        assert row_keys(app) == ["x3algo/a2", "x3algo/a3", "x3algo/a1"]
        await pilot.press("o")  # the cursor stays on its row (a2) wherever it moves
        assert row_keys(app) == ["x3algo/a1", "x3algo/a3", "x3algo/a2"]
        assert app.active_panel.table.cursor_key == "x3algo/a2"
        await pilot.press("k", "space")  # selects a3, moves down
        assert app.active_panel.selected == {"x3algo/a3"}
        assert cell(app, "x3algo/a3", "sel") == "●"
        await pilot.press("escape")
        assert app.active_panel.selected == set()


async def test_footer_rebuilt_only_when_its_keys_change(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    from textual.widgets._footer import FooterKey

    def shown() -> list[FooterKey]:
        return list(app.main.query(FooterKey))

    session = fake_session(tmp_path, clock, venues, readonly=True)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await wait_for(pilot, lambda: bool(shown()), "the footer's keys")
        before = shown()
        assert "Pause" not in {k.description for k in before}
        await pilot.press("a")  # armed: the control keys come into the footer
        await wait_for(pilot, lambda: "Pause" in {k.description for k in shown()}, "armed keys")
        armed = shown()
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the modal shut")
        await pilot.pause()
        assert shown() == armed  # the very same widgets: nothing was rebuilt


async def test_a_burst_types_into_the_filter_and_the_key_after_enter_acts_on_the_table(
    session: Session,
) -> None:
    """``/a1`` Enter space in one burst: ``a`` and ``1`` are filter text (not arm and
    panel 1), the space after Enter selects the row (it is not typed into the box)."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        panel = app.active_panel
        burst(app, ("slash", "/"), ("a", "a"), ("1", "1"), ("enter", "\r"), ("space", " "))
        await wait_for(pilot, lambda: panel.rows.selected == {"x3algo/a1"}, "space selected")
        box = panel.query_one("#filter", Input)
        assert (panel.filter_text, box.value) == ("a1", "a1")
        assert not box.has_focus
        assert app.active_panel is panel


async def test_keys_typed_before_the_confirmation_was_shown_never_confirm(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        burst(app, ("P", "P"), ("y", "y"))  # y typed before the plan could be read
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the modal")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, ConfirmScreen)
        assert venues["55tech"].executed == []
        await pilot.press("y")  # once it is on screen, y confirms
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: len(venues["55tech"].executed) == 1, "the pause")


async def test_a_key_holds_the_feeds_only_until_its_answer_is_painted(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    """Input first (console.core.input_first): each key holds the feeds; once its answer
    is on the screen nothing is left held, whatever the key did."""
    from console.core.input_first import AT_MOST_S, INPUT_FIRST

    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    held: list[bool] = []
    hold = INPUT_FIRST.hold

    def spy() -> int:
        generation = hold()
        held.append(INPUT_FIRST.holding)
        return generation

    INPUT_FIRST.hold = spy  # type: ignore[method-assign]
    INPUT_FIRST.at_most_s = 30.0  # (a loaded machine must not run a hold out)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
            await pilot.press("j", "question_mark", "escape", "X")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await wait_for(pilot, lambda: not INPUT_FIRST.holding)
            assert len(held) >= 4 and all(held)  # each key held (a bubbled key twice)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not INPUT_FIRST.holding)
    finally:
        del INPUT_FIRST.hold  # type: ignore[method-assign]
        INPUT_FIRST.at_most_s = AT_MOST_S
    assert not INPUT_FIRST.holding


async def test_a_key_holds_the_feeds_as_it_is_posted_before_the_app_handles_it(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    """Feed work queued between the key's arrival and its handling waits too (a poll's
    list stored in that gap cost a press 10-25 ms at 10,000 events/s); while a plan runs
    no key holds anything (its calls and re-reads never wait for the screen)."""
    from console.core.input_first import INPUT_FIRST

    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        await wait_for(pilot, lambda: not INPUT_FIRST.holding)
        app.post_message(events.Key("j", "j"))
        assert INPUT_FIRST.held  # at once: the app has not handled it yet
        await wait_for(pilot, lambda: not INPUT_FIRST.holding)  # its answer painted
        running = session.dispatcher._running
        session.dispatcher._running = Report(Plan((), "a plan"), "b", 0)
        try:
            app.post_message(events.Key("j", "j"))
            assert not INPUT_FIRST.held
        finally:
            session.dispatcher._running = running
        await pilot.pause()
    assert not INPUT_FIRST.holding


async def test_a_key_on_its_way_back_up_to_the_app_stays_held_until_its_modal_is_painted(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    """X goes to the focused table first and comes back up to the app, whose binding
    opens the modal: the feeds stay held all the way (released on the app's first
    refresh, they ran while the key was on its way: 23 ms measured at 10,000 events/s)."""
    from console.core.input_first import AT_MOST_S, INPUT_FIRST

    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    ended_on: list[str] = []  # the screen on top when a release ended the hold
    release = INPUT_FIRST.release

    def spy(generation: int | None = None) -> None:
        was = INPUT_FIRST.holding
        release(generation)
        if was and not INPUT_FIRST.holding:
            ended_on.append(type(app.screen).__name__)

    INPUT_FIRST.release = spy  # type: ignore[method-assign]
    INPUT_FIRST.at_most_s = 30.0  # (a loaded machine must not run a hold out)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
            await wait_for(pilot, lambda: not INPUT_FIRST.holding)
            ended_on.clear()
            app.post_message(events.Key("X", "X"))
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await wait_for(pilot, lambda: not INPUT_FIRST.holding)
            assert ended_on == ["ConfirmScreen"]  # one hold, ended once the modal was up
            await pilot.press("escape")
    finally:
        del INPUT_FIRST.release  # type: ignore[method-assign]
        INPUT_FIRST.at_most_s = AT_MOST_S


async def test_a_redraw_gives_way_to_a_key_being_answered_but_never_twice_in_a_row(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    from console.core.input_first import INPUT_FIRST

    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3)
        drawn: list[int] = []
        draw = app.redraw._tick
        app.redraw._tick = lambda: drawn.append(1) or draw()  # type: ignore[method-assign,func-returns-value]
        INPUT_FIRST.hold()
        try:
            app.redraw.tick()
            assert drawn == []  # the key first
            app.redraw.tick()
            assert drawn == [1]  # never two ticks in a row
            app.redraw.tick()
            assert drawn == [1]
        finally:
            INPUT_FIRST.release()
        app.redraw.tick()
        app.redraw.tick()
        assert drawn == [1, 1, 1]
