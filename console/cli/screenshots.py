"""``trading-console screenshots``: draw the pictures in ``screenshots/``, the same bytes every run.

Every screen the operator meets — the main screen (at 120×32 and 200×60), the three
shapes of the confirmation, the quit question, the emergency stop (its modal, its
progress, its report) and the audit and help screens — in the dark and the light theme,
as SVG (Textual's ``export_screenshot``).

The world is the one ``trading-console demo`` shows: the simulator's seed-1 world, its
five vendors built in this process (:mod:`console.cli.screenshot_world`) and served to
the real venue clients on loopback below their one send path, their clock frozen at
2026-01-01T00:00:00Z and the world still. A picture must come out the same byte for
byte, so no base URL names a port, and the command pins what would otherwise vary: journal
stamps (``now_ms``) count from the frozen clock, ``time.time`` reads the frozen instant
and request latencies read 0 ms, notifications are off, ``NO_COLOR`` and the like are
set aside while it draws, and the SVG title is fixed. The files in ``screenshots/`` are
committed; ``tests/test_screenshots.py`` regenerates them into a temporary folder and
compares byte for byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import tempfile
import time
import types
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from console.cli.screenshot_world import SimTransport, SimWorld, load, sim_session, sim_world
from console.core.model import State, TargetKind
from console.core.session import Session
from console.demo.world import EVENT_HISTORY, FROZEN, STREAMING_APIS, FrozenClock, record_events

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from console.tui.app import ConsoleApp

THEMES: Final = ("trading-dark", "trading-light")
"""The themes drawn; each gets a folder named without the ``trading-`` prefix."""

TITLE: Final = "trading-console"

UNSET_WHILE_DRAWING: Final = ("NO_COLOR", "FORCE_COLOR", "TEXTUAL_THEME", "TEXTUAL_ANIMATIONS")
"""Environment variables that would change the pictures; removed while drawing."""

Setup = Callable[[Session, SimWorld], None]
Steps = Callable[["Pilot[None]", "ConsoleApp", SimWorld], Awaitable[None]]


def _as_is(session: Session, world: SimWorld) -> None:
    """The world as the demo starts it."""


@dataclass(frozen=True)
class Shot:
    """One picture: a name (the file's), what it shows, the terminal size, how to get there."""

    name: str
    shows: str
    size: tuple[int, int]
    steps: Steps
    setup: Setup = field(default=_as_is)
    options: dict[str, object] = field(default_factory=dict)


# ----- getting there ------------------------------------------------------------------
async def settle(pilot: Pilot[None], app: ConsoleApp) -> None:
    """Let the app draw what it has: one redraw tick between two idle waits."""
    await pilot.pause()
    app.tick()
    await pilot.pause()


async def wait_until(pilot: Pilot[None], ready: Callable[[], bool], what: str) -> None:
    """Run the app until ``ready()`` (a condition, never a duration); fail after 400 rounds."""
    for _ in range(400):
        if ready():
            return
        await pilot.pause()
    raise RuntimeError(f"screenshots: timed out waiting for {what}")


def _keys(*keys: str, screen: str = "") -> Steps:
    """Press ``keys`` on the settled main screen; then wait for ``screen`` (a class name)."""

    async def steps(pilot: Pilot[None], app: ConsoleApp, world: SimWorld) -> None:
        await settle(pilot, app)
        await pilot.press(*keys)
        if screen:
            await wait_until(pilot, lambda: type(app.screen).__name__ == screen, screen)
        await settle(pilot, app)

    return steps


def _held(world: SimWorld, venue: str) -> SimTransport:
    """``venue``'s control calls wait from now on until the picture is taken."""
    transport = world.transports[venue]
    transport.hold = asyncio.Event()
    return transport


async def _quit_while_running(pilot: Pilot[None], app: ConsoleApp, world: SimWorld) -> None:
    """Stop an algorithm whose venue does not answer yet, then press q."""
    _held(world, "x3algo")
    await settle(pilot, app)
    await pilot.press("2", "X", "y")
    await wait_until(pilot, lambda: app.control_port.running is not None, "the stop")
    await pilot.press("q")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "QuitScreen", "QuitScreen")
    await settle(pilot, app)


async def _kill(pilot: Pilot[None], app: ConsoleApp, label: str) -> None:
    await settle(pilot, app)
    await pilot.press("K")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "KillScreen", "KillScreen")
    await pilot.press(*label, "enter")
    await wait_until(
        pilot, lambda: type(app.screen).__name__ == "KillProgressScreen", "KillProgressScreen"
    )


async def _refresh_progress(pilot: Pilot[None], app: ConsoleApp) -> None:
    """Draw the progress screen now rather than on its own timer."""
    refresh = getattr(app.screen, "refresh_view", None)
    if refresh is not None:
        refresh()
    await pilot.pause()


async def _kill_in_progress(pilot: Pilot[None], app: ConsoleApp, world: SimWorld) -> None:
    """The emergency stop while PipAI has not answered yet (every other venue has)."""
    held = _held(world, "pipai")
    await _kill(pilot, app, app.state.options.label)

    def others_answered() -> bool:
        run = app.kill.run
        if run is None or run.current is None:
            return False
        others = {(i.venue, i.target_id) for i in run.current.items if i.venue != "pipai"}
        return others <= run.results.keys() and held.held > 0

    await wait_until(pilot, others_answered, "every venue but pipai to answer")
    await _refresh_progress(pilot, app)


async def _kill_report(pilot: Pilot[None], app: ConsoleApp, world: SimWorld) -> None:
    """The emergency stop's verified report, one target failed (retry offered)."""
    await _kill(pilot, app, app.state.options.label)
    await app.workers.wait_for_complete()
    await wait_until(pilot, lambda: not app.kill.active, "the kill to finish")
    await settle(pilot, app)
    await _refresh_progress(pilot, app)


async def _audit(pilot: Pilot[None], app: ConsoleApp, world: SimWorld) -> None:
    """After the kill: the whole journal from the panels (u)."""
    await _kill_report(pilot, app, world)
    await pilot.press("escape", "u")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "AuditScreen", "AuditScreen")
    await settle(pilot, app)


def _one_algorithm_fails(session: Session, world: SimWorld) -> None:
    """x3algo answers 503 to every control call on its first running algorithm (by name).

    The kill then runs one call at a time in plan order (``Dispatcher.serial``): real
    sockets answer in the order the machine's scheduler gives, and these pictures show
    the journal (the audit's rows, the report's chain head), which must come out the
    same on every run.
    """
    session.dispatcher.serial = True
    running = sorted(
        (t for t in session.store.targets("x3algo") if t.state is State.RUNNING),
        key=lambda t: (t.name, t.id),
    )
    assert running and running[0].kind is TargetKind.ALGORITHM
    world.transports["x3algo"].fail = f"/{running[0].id}/"


# ----- the pictures -------------------------------------------------------------------
NORMAL = (120, 32)
WIDE = (200, 60)
DIALOG = (100, 32)
KILL = (120, 36)

SHOTS: Final = (
    Shot("main", "the main screen: clients panel, header, outcome log", NORMAL, _keys()),
    Shot("main-wide", "200×60: every column, the detail pane, event rates", WIDE, _keys("2")),
    Shot(
        "confirm-one",
        "confirming one target: y",
        DIALOG,
        _keys("down", "down", "P", screen="ConfirmScreen"),
        options={"label": "PROD", "color": "error"},
    ),
    Shot(
        "confirm-selection",
        "confirming a selection: type the count",
        DIALOG,
        _keys("2", "v", "X", screen="ConfirmScreen"),
    ),
    Shot(
        "confirm-close-positions",
        "pausing a strategy, with the close-positions switch",
        DIALOG,
        _keys("3", "down", "down", "P", screen="ConfirmScreen"),
    ),
    Shot("quit", "quitting while a plan still runs", DIALOG, _quit_while_running),
    Shot(
        "kill",
        "the emergency stop: the frozen plan, type the label",
        KILL,
        _keys("K", screen="KillScreen"),
    ),
    Shot("kill-progress", "the emergency stop under way", KILL, _kill_in_progress),
    Shot(
        "kill-report",
        "the emergency stop's verified report, one failure",
        KILL,
        _kill_report,
        setup=_one_algorithm_fails,
    ),
    Shot(
        "audit",
        "the audit trail after the emergency stop",
        KILL,
        _audit,
        setup=_one_algorithm_fails,
    ),
    Shot("help", "every key, as remapped", (100, 44), _keys("question_mark", screen="HelpScreen")),
)


# ----- drawing ------------------------------------------------------------------------
@contextlib.contextmanager
def pinned() -> Iterator[None]:
    """Journal stamps from the frozen clock, 1 ms apart, and op and batch ids counted,
    afresh for each picture (so a picture does not depend on which were drawn before it,
    and the journal's chain head shown in a kill report is the same every time); no
    colour-changing env."""
    import console.core.dispatcher as dispatcher
    import console.core.journal as journal
    import console.venues.kit.http as http

    ticks = itertools.count(int(FROZEN * 1000))
    ids = itertools.count(1)

    def now_ms() -> int:
        return next(ticks)

    def new_op_id() -> str:
        return f"{next(ids):032x}"

    counted_uuid = types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(ids) << 64))
    # Venue clients stamp what they read with time.time() and time their requests.
    no_latency = types.SimpleNamespace(perf_counter=lambda: 0.0)
    wall_clock = time.time
    time.time = lambda: FROZEN
    saved_env = {k: os.environ.pop(k) for k in UNSET_WHILE_DRAWING if k in os.environ}
    # The dispatcher imported the names: patch both modules.
    patches: dict[types.ModuleType, dict[str, object]] = {
        journal: {"now_ms": now_ms, "new_op_id": new_op_id},
        dispatcher: {"now_ms": now_ms, "new_op_id": new_op_id, "uuid": counted_uuid},
        http: {"time": no_latency},
    }
    saved = {m: {n: m.__dict__[n] for n in names} for m, names in patches.items()}
    for module, names in patches.items():
        module.__dict__.update(names)
    try:
        yield
    finally:
        time.time = wall_clock
        for module, originals in saved.items():
            module.__dict__.update(originals)
        os.environ.update(saved_env)


async def draw(shot: Shot, theme: str, workdir: Path, *, switch_to: str | None = None) -> str:
    """One picture as SVG text; with ``switch_to``, taken after switching the running
    console to that theme (a test: it must draw what a start in that theme draws)."""
    from console.tui.app import ConsoleApp

    clock = FrozenClock()
    world = sim_world()
    session = sim_session(workdir / "journal.sqlite3", clock, world, **shot.options)
    try:
        await load(session)
        for name, client in session.clients.items():
            if client.settings.api in STREAMING_APIS:
                record_events(session, name, EVENT_HISTORY)
        shot.setup(session, world)
        app = ConsoleApp(session, session.control, clock=clock, start_feeds=False, theme=theme)
        async with app.run_test(size=shot.size) as pilot:
            await shot.steps(pilot, app, world)
            if switch_to is not None:
                app.theme = switch_to
                await settle(pilot, app)
            await _overview_now(pilot, app)
            svg = app.export_screenshot(title=TITLE)
            for transport in world.transports.values():
                if transport.hold is not None:
                    transport.hold.set()
    finally:
        for client in session.clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        for transport in world.transports.values():
            await transport.aclose()
    return svg


async def _overview_now(pilot: Any, app: Any) -> None:
    """The overview's cards as they are now, not as of their last 0.5 s refresh: a
    picture taken sooner after the first paint would otherwise show empty cards, and
    whether it does would depend on how warm the process is."""
    from console.tui.widgets.overview import Overview

    for overview in app.screen.query(Overview):
        if overview.shown():
            overview.refresh_cards(force=True)
    await pilot.pause()


def folder_of(theme: str) -> str:
    return theme.removeprefix("trading-")


def write_screenshots(
    out: Path, *, only: Sequence[str] = (), themes: Sequence[str] = THEMES
) -> list[Path]:
    """Draw every shot (or those named in ``only``) in every theme into ``out/<theme>/``.

    SVGs in those folders that no shot draws any more are removed (only when drawing
    them all), so the folder is exactly what the code draws.
    """
    unknown = set(only) - {s.name for s in SHOTS}
    if unknown:
        raise ValueError(f"unknown screenshot {', '.join(sorted(unknown))}")
    shots = [s for s in SHOTS if not only or s.name in only]
    written: list[Path] = []

    async def run() -> None:
        for theme in themes:
            folder = out / folder_of(theme)
            folder.mkdir(parents=True, exist_ok=True)
            for shot in shots:
                with tempfile.TemporaryDirectory(prefix="tc-shot-") as work, pinned():
                    svg = await draw(shot, theme, Path(work))
                path = folder / f"{shot.name}.svg"
                path.write_bytes(svg.encode("utf-8"))
                written.append(path)
            if not only:
                for stale in set(folder.glob("*.svg")) - set(written):
                    stale.unlink()

    asyncio.run(run())
    return written


def main(out: Path, only: Sequence[str] = ()) -> int:
    """The command: draw, then say what was written (exit 2 for an unknown name)."""
    try:
        written = write_screenshots(out, only=only)
    except ValueError as error:
        names = ", ".join(s.name for s in SHOTS)
        print(f"trading-console screenshots: {error} (known: {names})")
        return 2
    for path in written:
        print(path)
    print(f"{len(written)} screenshots in {out}")
    return 0


__all__ = ["SHOTS", "THEMES", "Shot", "draw", "main", "write_screenshots"]
