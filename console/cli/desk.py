"""``trading-console --desk URL``: open the console on a desk's hub instead of the venues.

The console attaches to the hub serving the profile (``trading-console hub``) through
NATS (``--desk URL``, or ``desk = "nats://…"`` in the profile) as the operator's own
NATS user: ``--desk-user NAME`` (default: the OS user) with the password in
``TRADING_CONSOLE_NATS_PASSWORD``, or ``--desk-creds FILE`` (a NATS credentials file;
``--desk-user`` then names the user the file is for, whose command subject it may use).
No venue is logged in to from here: the state and every action are the hub's.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from console.config import Profile
from console.core.scrub import printable
from console.core.session import SessionOptions

EXIT_USAGE, EXIT_FAILED = 2, 4
PASSWORD_ENV = "TRADING_CONSOLE_NATS_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--desk", metavar="URL", help="attach the console to the profile's desk hub on this NATS"
    )
    parser.add_argument("--desk-user", metavar="NAME",
                        help=f"your NATS user on the desk (default: the OS user; password in "
                        f"${PASSWORD_ENV})")  # fmt: skip
    parser.add_argument("--desk-creds", metavar="FILE", help="your NATS credentials file")


def desk_url(profile: Profile, args: argparse.Namespace) -> str | None:
    """The desk to attach to: ``--desk``, else the profile's ``desk``, else None (local)."""
    return getattr(args, "desk", None) or profile.config.desk


def run(profile: Profile, args: argparse.Namespace, options: SessionOptions, url: str) -> int:
    user = args.desk_user or getpass.getuser()
    auth: dict[str, Any]
    if args.desk_creds:
        auth = {"user_credentials": args.desk_creds}
    else:
        password = os.environ.get(PASSWORD_ENV)
        if not password:
            _err(f"--desk needs your NATS password in ${PASSWORD_ENV} (or --desk-creds FILE)")
            return EXIT_USAGE
        auth = {"user": user, "password": password}
    readonly = True if args.readonly else None
    theme = args.theme or profile.app.theme
    return asyncio.run(_console(url, options, user, auth, readonly, theme, profile))


async def _console(
    url: str,
    options: SessionOptions,
    user: str,
    auth: dict[str, Any],
    readonly: bool | None,
    theme: str | None,
    profile: Profile,
) -> int:
    from console.desk.desk_console import DeskConsoleApp, open_desk

    try:
        state, control = await open_desk(url, options, user=user, auth=auth)
    except TimeoutError:
        _err(f"cannot attach to the desk at {_safe(url)}: NATS did not answer in time")
        return EXIT_FAILED
    except Exception as exc:
        _err(f"cannot attach to the desk at {_safe(url)}: {exc or type(exc).__name__}")
        return EXIT_FAILED
    app = DeskConsoleApp(state, control, readonly=readonly, theme=theme,
                         keymap=profile.app.keys)  # fmt: skip
    await app.run_async()
    return app.return_code or 0


def _safe(url: str) -> str:
    head, at, tail = url.rpartition("@")
    return f"{head.split('//', 1)[0]}//***@{tail}" if at else url


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
