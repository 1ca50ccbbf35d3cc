"""``trading-console hub``: serve one profile to a desk of consoles over NATS.

The hub is the only process of a desk that logs in to the venues (``console.desk.hub``).
It connects to a NATS server or cluster with JetStream on (``--nats URL``, or the
``TRADING_CONSOLE_DESK`` environment variable) as its own user: ``--creds FILE`` (a NATS
credentials file: JWT and nkey seed), or ``--user NAME`` with the password in the
``TRADING_CONSOLE_NATS_PASSWORD`` environment variable (never on the command line, where
``ps`` shows it). It runs until SIGTERM or SIGINT (exit 0), reconnecting to NATS for as
long as it runs and publishing the whole state again after each reconnect.

One hub serves a profile: the one holding the lease (``console.desk.lease``). Another
exits 12, or with ``--standby`` waits and takes over when the serving one stops or dies.
A hub that loses the lease stops dispatching: exit 13, or with ``--standby`` it stands by
again. Exit 4 also when its journal cannot continue the desk's journal stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

from console.automation.headless import log_to_stderr
from console.cli.desk_link import safe_url
from console.config import Profile
from console.core.hangup import detach_terminal, note_hangup
from console.core.loop_signal import LoopSignal
from console.core.scrub import Scrubber, printable
from console.core.session import Session
from console.desk import connect as desk_connect
from console.desk.roles import HUB_USER

if TYPE_CHECKING:  # NATS and the hub load when a hub runs, not with every command's parser
    from nats.aio.client import Client as NATS

    from console.automation.alerts import Alerter
    from console.automation.runner import AutomationRunner
    from console.desk.hub import Hub

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 4
EXIT_HUB_RUNNING = 12  # another hub serves this profile on this NATS; this one did not start
EXIT_LEASE_LOST = 13  # this hub served, then lost the profile's lease to another hub
URL_ENV = "TRADING_CONSOLE_DESK"
FIRST_CONNECT_S = 10.0

SessionFor = Callable[[Profile], Session]
AutomationFor: TypeAlias = (
    "Callable[[Profile, Session], tuple[AutomationRunner | None, Alerter | None, list[str]]]"
)
_log = logging.getLogger("console.desk")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    hub = sub.add_parser(
        "hub", parents=[common],
        help="serve the profile to a desk of consoles over NATS (the one venue login)",
        description="Own the profile's venue sessions (one login, one pacer, one feed per "
        "venue), run the one dispatcher and the profile's automation, and serve state, "
        "commands, results and the journal on NATS (JetStream on) until SIGTERM or SIGINT.",
    )  # fmt: skip
    hub.add_argument("--nats", metavar="URL",
                     help=f"NATS server or cluster (default: ${URL_ENV})")  # fmt: skip
    hub.add_argument("--creds", metavar="FILE", help="NATS credentials file (JWT and nkey seed)")
    hub.add_argument("--user", help=f"NATS user (its password in ${desk_connect.PASSWORD_ENV})")
    hub.add_argument("--standby", action="store_true",
                     help="while another hub serves the profile, wait and take over when its "
                     "lease expires (without --standby: exit 12)")  # fmt: skip
    hub.add_argument("--connect-timeout", type=float, default=FIRST_CONNECT_S, metavar="S",
                     help=f"give up (exit 4) when NATS cannot be reached within S seconds at "
                     f"start (default: {FIRST_CONNECT_S:g}); once connected it reconnects "
                     "for as long as it runs")  # fmt: skip
    # a local desk's hub (demo --desk) ends with its parent: at the EOF of its stdin pipe
    hub.add_argument("--exit-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)


def connect_options(args: argparse.Namespace) -> dict[str, Any]:
    """The credentials nats.connect takes, from ``--creds`` or ``--user`` (+ environment)."""
    if args.creds:
        return {"user_credentials": args.creds}
    if args.user:
        password = os.environ.get(desk_connect.PASSWORD_ENV)
        if not password:
            raise ValueError(
                f"--user {args.user} needs its password in ${desk_connect.PASSWORD_ENV}"
            )
        return {"user": args.user, "password": password}
    return {}


def run(
    profile: Profile, args: argparse.Namespace, session_for: SessionFor, automation: AutomationFor
) -> int:
    url = args.nats or os.environ.get(URL_ENV)
    if not url:
        _err(f"no NATS server: give --nats URL or set ${URL_ENV}")
        return EXIT_USAGE
    try:
        auth = connect_options(args)
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    log_to_stderr()
    return asyncio.run(serve(profile, url, auth, session_for, automation,
                             standby=bool(getattr(args, "standby", False)),
                             stdin_eof=bool(getattr(args, "exit_on_stdin_eof", False)),
                             connect_s=getattr(args, "connect_timeout", FIRST_CONNECT_S)))  # fmt: skip


async def serve(
    profile: Profile,
    url: str,
    auth: dict[str, Any],
    session_for: SessionFor,
    automation: AutomationFor,
    *,
    standby: bool = False,
    stdin_eof: bool = False,
    connect_s: float = FIRST_CONNECT_S,
) -> int:
    """Serve until SIGTERM or SIGINT (or, with ``stdin_eof``, the end of stdin: a local
    desk's hub must not outlive the demo that started it, even one killed with -9)."""
    import nats

    hubs: list[Hub] = []

    async def reconnected() -> None:
        _log.info("reconnected to NATS: publishing the whole state again")
        for hub in hubs:
            hub.resync()

    async def disconnected() -> None:
        _log.warning("NATS connection lost: reconnecting")

    errors: list[str] = []
    words = _words_of(url, auth)  # NATS's own words may quote the URL or a credential

    async def error(exc: Exception) -> None:
        errors.append(words(str(exc) or type(exc).__name__))
        _log.warning("NATS: %s", errors[-1])

    try:  # once connected it reconnects for ever; the first connection has a deadline
        async with asyncio.timeout(connect_s):
            nc: NATS = await nats.connect(
                url, name=f"trading-console hub {profile.name}", max_reconnect_attempts=-1,
                reconnected_cb=reconnected, disconnected_cb=disconnected, error_cb=error,
                **desk_connect.connect_options(HUB_USER, auth),
            )  # fmt: skip
    except TimeoutError:
        last = f" (last: {errors[-1]})" if errors else ""
        _err(f"cannot reach NATS at {safe_url(url)}: no connection within "
             f"{connect_s:g} s{last}")  # fmt: skip
        return EXIT_FAILED
    except Exception as exc:
        _err(f"cannot reach NATS at {safe_url(url)}: {words(str(exc) or type(exc).__name__)}")
        return EXIT_FAILED
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    hung_up: list[asyncio.Task[None]] = []
    sighup = LoopSignal(signal.SIGHUP, partial(_hung_up, hubs, stop, hung_up),
                        unless_ignored=True)  # fmt: skip
    sighup.take()  # (nohup: left as it is)
    if stdin_eof:
        threading.Thread(target=_stop_on_eof, args=(loop, stop), daemon=True).start()
    try:
        while True:  # a standby that lost the lease again stands by again
            code = await _serve_once(profile, url, nc, hubs, stop, session_for, automation,
                                     standby=standby)  # fmt: skip
            if code is not None:
                break
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        sighup.give_back()
        await nc.drain()
    _log.info("hub of profile %s stopped", profile.name)
    return code


def _hung_up(hubs: list[Hub], stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """SIGHUP: the hub's terminal is gone (a hub started by hand, its window closed). Not
    a request to stop now, as SIGTERM is (it cancels a plan under way): the plan sending
    runs to its end, journaled, then the hub stops as on SIGTERM (a standby takes over);
    its logs go to /dev/null meanwhile."""
    if tasks:
        return
    detach_terminal()
    tasks.append(asyncio.ensure_future(_stop_when_idle(hubs[0] if hubs else None, stop)))


async def _stop_when_idle(hub: Hub | None, stop: asyncio.Event) -> None:
    if hub is not None and hub.plan_running():
        report = hub.session.dispatcher.running
        what = f"«{report.plan.title}»" if report is not None else "a plan"
        _log.warning("the terminal hung up while %s ran: the hub stops after it", what)
        note_hangup(hub.session.journal, what, "it runs to its end (answered, verified, "
                    "journaled), then the hub stops as on SIGTERM")  # fmt: skip
        while hub.plan_running():  # noqa: ASYNC110 (the dispatcher has no "done" event)
            await asyncio.sleep(0.05)
    stop.set()


def _stop_on_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    while sys.stdin.buffer.read(1024):
        pass
    _log.warning("stdin closed (the desk's parent process ended): stopping the hub")
    loop.call_soon_threadsafe(stop.set)


async def _serve_once(
    profile: Profile,
    url: str,
    nc: NATS,
    hubs: list[Hub],
    stop: asyncio.Event,
    session_for: SessionFor,
    automation: AutomationFor,
    *,
    standby: bool,
) -> int | None:
    """One hub's life: take the lease (or wait for it), serve until a signal (exit 0) or
    until the lease is lost (None with ``standby``: stand by again; else exit 13)."""
    from console.desk.hub import Hub, HubRunning
    from console.desk.takeover import JournalDiverged
    from console.desk.verbs import checkins_for

    session = session_for(profile)
    runner, _alerter, problems = automation(profile, session)
    for problem in problems:
        _log.warning("%s", problem)
    hub = Hub(
        session,
        nc,
        runner=runner,
        checkins=checkins_for(profile.journal_path, profile.name),
        rearm_approval=profile.config.rearm_approval,
    )
    hubs[:] = [hub]
    try:
        if standby:
            _log.info("hub of profile %s: standing by; it takes over when the serving "
                      "hub's lease expires", profile.name)  # fmt: skip
        started = asyncio.ensure_future(hub.start(standby=standby))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((started, stopped), return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            with contextlib.suppress(BaseException):
                await started
            return EXIT_OK  # a signal while standing by (or taking over)
        stopped.cancel()
        try:
            started.result()
        except HubRunning as exc:
            _err(f"{exc} (start it with --standby to take over when that one stops)")
            return EXIT_HUB_RUNNING
        except JournalDiverged as exc:
            _err(str(exc))
            return EXIT_FAILED
        _log.info("hub of profile %s serving on %s (%d venue(s))", profile.name, safe_url(url),
                  len(session.venues))  # fmt: skip
        lost = asyncio.ensure_future(hub.lease.lost.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((lost, stopped), return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        stopped.cancel()
        if stop.is_set():
            return EXIT_OK
        _err(f"hub of profile {profile.name}: {hub.why_not_serving()}; "
             + ("standing by again" if standby else "it stopped"))  # fmt: skip
        return None if standby else EXIT_LEASE_LOST
    finally:
        await hub.aclose()
        await session.aclose()


def _words_of(url: str, auth: dict[str, Any]) -> Callable[[str], str]:
    """A text as the hub may print or log it: without the URL's or the options' password
    or token (a NATS error can quote either)."""
    secrets = [str(v) for k, v in auth.items() if k in ("password", "token") and v]
    _, at, _ = url.rpartition("@")
    if at:
        secrets.append(url.rpartition("@")[0].split("//", 1)[-1].partition(":")[2])
    scrubber = Scrubber(s for s in secrets if s)
    return scrubber.scrub


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
