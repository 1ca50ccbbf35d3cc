"""``trading-console``: the console, the demo, the simulator, and commands for scripts.

Exit codes (documented in the README):
  0  every action applied or already in place (and verified where it could be)
  1  unexpected internal error
  2  usage or configuration error
  3  the venue rejected an action
  4  an action failed (transport or server error)
  5  an outcome is uncertain, or a re-read did not confirm it
  6  not confirmed by the operator
  7  unknown venue or target
  8  audit --verify: the journal's hash chain is broken, or the journal cannot be read
  9  kill: another kill of this profile is running (it holds the lock); nothing was sent
 10  kill: every target verified halted, but the journal failed (the record is elsewhere)
 11  automate: another runner acts for this profile (it holds the runner lock); not started
 12  hub: another hub serves this profile on this NATS; not started
 13  hub: this hub lost the profile's lease to another hub (it stopped dispatching)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from console.automation.alerts import Alerter
from console.automation.runner import AutomationRunner
from console.cli import (
    audit,
    automate,
    control,
    desk,
    desk_config,
    desk_link,
    hub,
    kill,
    sim,
)
from console.cli import serve as serve_cli
from console.cli.pipes import pipe_safe_stdio, silence
from console.cli.terminal import no_terminal
from console.config import ConfigError, Profile, load_profile
from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.venues.kit.base import VenueConfigError
from console.venues.registry import session_for

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell says it
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_FAILED = 4
EXIT_UNCERTAIN = 5
EXIT_NOT_CONFIRMED = 6
EXIT_UNKNOWN = 7


DESK_COMMANDS = (None, "status", "stop", "pause", "resume", "start", "kill", "audit")
"""What works through a desk's hub (every other command is local, or the hub itself)."""

CONTROL_VERBS = {
    "stop": "stop one target",
    "pause": "pause one target",
    "resume": "resume one paused target",
    "start": "start one stopped target",
}


def demo_config_path() -> Path:
    """The profile of the latest ``trading-console demo`` run, for ``--demo`` on other
    commands (each run has a folder of its own: docs/CONSOLE.md, "Demo state")."""
    return sim.current_demo_config()


def _common(suppress: bool) -> argparse.ArgumentParser:
    """Options valid before or after the command (after it, they must not reset the former)."""
    default: dict[str, object] = {"default": argparse.SUPPRESS} if suppress else {}
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="config file (default: the platform config dir)",
                        **default)  # type: ignore[arg-type]  # fmt: skip
    common.add_argument("--profile", help="profile name (default: the config's default_profile)",
                        **default)  # type: ignore[arg-type]  # fmt: skip
    common.add_argument("--demo", action="store_true", **default,  # type: ignore[arg-type]
                        help="use the profile of the running `trading-console demo`")  # fmt: skip
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common(suppress=True)
    parser = argparse.ArgumentParser(
        prog="trading-console",
        description="Watch and stop live trading systems through their vendors' APIs.",
        parents=[_common(suppress=False)],
    )
    parser.add_argument(
        "--readonly", action="store_true", help="start the console with destructive keys unbound"
    )
    parser.add_argument("--theme", help="theme name")
    desk.add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                help="what to do; without one, the console opens")  # fmt: skip

    demo = sub.add_parser(
        "demo",
        help="run the console against the embedded simulator (a fresh world each run)",
        description="Start the simulator of all five vendors on loopback and open the "
        "console on it. Each run starts a fresh world with its own journal.",
    )
    demo.add_argument("--seed", type=int, default=1,
                      help="world seed: the same seed gives the same world (default: 1)")  # fmt: skip
    demo.add_argument("--scale", type=int, default=1,
                      help="multiply the world (100: 10,000+ targets; default: 1)")  # fmt: skip
    demo.add_argument("--readonly", action="store_true", default=argparse.SUPPRESS,
                      help="start with destructive keys unbound")  # fmt: skip
    demo.add_argument("--theme", default=argparse.SUPPRESS, help="theme name")
    demo.add_argument("--desk", action="store_true", dest="local_desk",
                      help="run it as a desk: a local nats-server and a hub process; a "
                      "second terminal attaches with `trading-console --demo --desk`")  # fmt: skip
    demo.add_argument("--operator", action="append", default=[], metavar="NAME",
                      help="with --desk: another NATS user of the desk (repeatable)")  # fmt: skip

    sim.add_parser(sub)

    # The commands that work through a desk's hub too (docs/DESK.md, "The CLI on a desk").
    common_desk = argparse.ArgumentParser(add_help=False, parents=[common, desk_link.desk_parent()])
    status = sub.add_parser("status", parents=[common_desk], help="list every target of every venue",
                            description="Read every venue of the profile once and list its "
                            "targets. Exit 4 when a venue could not be read in full.")  # fmt: skip
    status.add_argument("--json", action="store_true", help="JSON lines, one target per line")

    for verb, what in CONTROL_VERBS.items():
        p = sub.add_parser(verb, parents=[common_desk], help=what,
                           description=f"{what.capitalize()}, journaled and "
                           "verified by a re-read, as the console does.")  # fmt: skip
        p.add_argument("venue", help="venue name as in the profile (e.g. x3algo)")
        p.add_argument("target", help="target id (as `status` lists it)")
        p.add_argument(
            "--reason", help="recorded in the journal (and sent where the venue takes one)"
        )
        if verb == "pause":  # a pause may close positions where the venue's can (capability)
            p.add_argument("--close-positions", action="store_true", dest="clear_leaves_behind",
                           help="also close the target's open positions at market, where "
                           "its venue's pause can (PipAI)")  # fmt: skip
        p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    kill.add_parsers(sub, common_desk)
    audit.add_parser(sub, common_desk)
    automate.add_parsers(sub, common)
    hub.add_parser(sub, common)
    desk_config.add_parser(sub, common)
    serve_cli.add_parser(sub, common)

    shots = sub.add_parser(
        "screenshots",
        help="draw screenshots/ (SVG, dark and light themes) from the demo world, byte-stable",
    )
    shots.add_argument("--out", type=Path, default=Path("screenshots"),
                       help="folder to write into (default: ./screenshots)")  # fmt: skip
    shots.add_argument("--only", action="append", default=[], metavar="NAME",
                       help="draw only this picture, e.g. main (repeatable)")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(desk_link.bare_desk(sys.argv[1:] if argv is None else argv, parser))
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.command in (None, "demo"):  # the screen owns the terminal
        return _run(parser, args)
    try:
        with pipe_safe_stdio():  # `status --json | head`: a reader that leaves is no error
            return _run(parser, args)
    except BrokenPipeError:  # a write that bypassed the wrappers: still quiet
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                silence(stream)
        return EXIT_OK


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        if args.command == "sim":
            return sim.run_sim(args)
        if args.command == "demo":
            if _said_no_terminal():  # before a simulator is started for it
                return EXIT_USAGE
            return sim.run_demo(args, sim.demo_root())
        if args.command == "screenshots":
            from console.cli.screenshots import main as draw_screenshots

            return draw_screenshots(args.out, args.only)
        if args.command == desk_config.COMMAND:  # prints a server config; reads no profile
            return desk_config.run(args)
        profile = _profile(args)
        if args.command != "audit":  # audit reads the journal only; nothing goes out
            for warning in profile.warnings():
                print(f"trading-console: warning: {warning}", file=sys.stderr)
        url = desk.desk_url(profile, args) if args.command in DESK_COMMANDS else None
        if args.command is None and url:
            return desk.run(profile, args, session_options(profile), url)
        if url:
            from console.cli import desk_commands  # NATS and the desk's client: for a desk only

            return desk_commands.run(profile, args, session_options(profile), url,
                                     lambda: _kill_alerter(profile))  # fmt: skip
        if args.command is None:
            if _said_no_terminal():  # after the profile's own words
                return EXIT_USAGE
            return _run_console(profile, args)
        if args.command == "status":
            return asyncio.run(control.status(_session(profile), as_json=args.json))
        if args.command in ("stop", "pause", "resume", "start"):
            return asyncio.run(control.control(_session(profile), args))
        if args.command == "kill":
            return asyncio.run(kill.kill(_session(profile), args, _kill_alerter(profile)))
        if args.command == "audit":
            needs_venues = args.interrupted and getattr(args, "verify", False)
            session = _session(profile) if needs_venues else _audit_session(profile)
            return audit.audit(session, args)
        if args.command in automate.COMMANDS:
            return automate.run(args.command, profile, args, _session)
        if args.command == "hub":
            return hub.run(profile, args, _session, console_automation)
        if args.command == "serve":
            return serve_cli.run(profile, args)
        parser.error(f"unknown command {args.command!r}")
    except desk_link.DeskFailure as exc:
        print(f"trading-console: {exc}", file=sys.stderr)
        return exc.code
    except (ConfigError, VenueConfigError) as exc:
        for line in str(exc).splitlines():
            # Continuation lines of a message (indented) read as part of the one above.
            print(line if line[:1].isspace() else f"trading-console: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        said = "trading-console: interrupted by Ctrl-C"
        if getattr(args, "command", None) in ("stop", "pause", "resume", "start", "kill"):
            settle = control.settle_command(args)
            said += f"; a call already sent is in the journal as an interrupted call: `{settle}` re-reads it"
        print(said, file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _said_no_terminal() -> bool:
    """The screen cannot start here: say why (``cli/terminal.py``)."""
    why = no_terminal()
    if why is not None:
        print(f"trading-console: {why}", file=sys.stderr)
    return why is not None


def _profile(args: argparse.Namespace) -> Profile:
    path = args.config
    if getattr(args, "demo", False):
        path = demo_config_path()
        if not (path.parent / "ready").exists():
            raise ConfigError("no demo is running (start one with: trading-console demo)")
    return load_profile(path, args.profile)


def session_options(profile: Profile) -> SessionOptions:
    c = profile.config
    return SessionOptions(
        profile=profile.name,
        label=c.label,
        color=c.color,
        readonly=c.readonly,
        arm_minutes=c.arm_minutes,
        kill_clear_leaves_behind=c.kill_close_positions,
        stale_after_s=c.stale_after,
        watch_minutes=c.watch_minutes,
        auto_restop=c.auto_restop,
        planning_deadline_s=c.kill_planning_deadline,
        read_retry_s=c.kill_read_retry,
        dispatch_deadline_s=c.kill_dispatch_deadline,
        verify_deadline_s=c.kill_verify_deadline,
        overview_from=c.overview_from,
    )


def _session(profile: Profile) -> Session:
    # Journal.open never raises for a file problem: a kill goes on with a fallback record.
    journal = Journal.open(profile.journal_path, profile=profile.name)
    return session_for(session_options(profile), profile.venue_settings(), journal)


def _audit_session(profile: Profile) -> Session:
    """The journal alone: reading the audit trail needs no venue credentials."""
    journal = Journal.open(profile.journal_path, profile=profile.name)
    return Session(session_options(profile), [], journal)


def _kill_alerter(profile: Profile) -> Alerter | None:
    """The profile's alerter for a kill's alerts; a broken alert URL never stops a kill."""
    if not profile.config.alerts.urls:
        return None
    try:
        return profile.alerter(time.time)
    except ConfigError as exc:
        print(f"trading-console: warning: no alerts for this kill: {exc}", file=sys.stderr)
        return None


def console_automation(
    profile: Profile, session: Session
) -> tuple[AutomationRunner | None, Alerter | None, list[str]]:
    """The runner the console ticks while open (as ``automate`` builds it; none when the
    profile has no schedules, guards, dead-man timer or alert URLs) and the alerter of the
    kill's alerts. A broken alert reference never stops the console: it runs without
    alerts and says so at start."""
    cfg = profile.automation()
    alerter: Alerter | None = None
    problems: list[str] = []
    if cfg.alerts.urls:
        try:
            alerter = profile.alerter(time.time)
        except ConfigError as exc:
            problems.append(f"no alerts will be sent: {exc}")
    if not (cfg.schedules or cfg.guards or cfg.deadman.enabled or cfg.alerts.urls):
        return None, alerter, problems
    runner = AutomationRunner(session, cfg, clock=time.time, alerter=alerter)
    return runner, alerter, problems


def _run_console(profile: Profile, args: argparse.Namespace) -> int:
    from console.tui.app import ConsoleApp

    session = _session(profile)
    readonly = True if args.readonly else None
    runner, alerter, problems = console_automation(profile, session)
    app = ConsoleApp(session, session.control, readonly=readonly, theme=args.theme or profile.app.theme,
                     keymap=profile.app.keys, startup_warnings=profile.warnings(),
                     automation=runner, alerter=alerter, automation_problems=problems)  # fmt: skip
    app.run()
    return app.return_code or 0


def print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True, default=str) + "\n")
