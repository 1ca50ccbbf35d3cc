"""``trading-console --desk URL``: open the console on a desk's hub instead of the venues.

The console attaches to the hub serving the profile (``trading-console hub``) through
NATS (``--desk URL``, ``desk = "nats://…"`` in the profile, or the local desk of a
running ``demo --desk``: ``console.cli.desk_link``) as the operator's own NATS user:
``--desk-user NAME`` (default: the OS user) with the password in
``TRADING_CONSOLE_NATS_PASSWORD`` (or the local desk's ``desk.json``), or ``--desk-creds
FILE``. No venue is logged in to from here: the state and every action are the hub's.
A server that is not there, or that refuses the user, is said at once (exit 4); a hub
that is not running shows as DESK DOWN, and the console comes up when it does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from console.cli import desk_link
from console.cli.desk_link import DeskAddress, DeskFailure
from console.cli.terminal import no_terminal
from console.config import Profile
from console.core.scrub import printable
from console.core.session import SessionOptions

if TYPE_CHECKING:
    from console.desk.desk_console import DeskConsoleApp

EXIT_USAGE, EXIT_FAILED = desk_link.EXIT_USAGE, desk_link.EXIT_FAILED
add_arguments = desk_link.add_arguments
desk_url = desk_link.desk_url


def run(profile: Profile, args: argparse.Namespace, options: SessionOptions, url: str) -> int:
    try:
        desk = desk_link.address(profile, args, url)
    except DeskFailure as exc:
        _err(str(exc))
        return exc.code
    readonly = True if args.readonly else None
    theme = args.theme or profile.app.theme
    return asyncio.run(console(desk, options, profile, readonly=readonly, theme=theme))


async def console(
    desk: DeskAddress,
    options: SessionOptions,
    profile: Profile,
    *,
    readonly: bool | None,
    theme: str | None,
    app_class: type[DeskConsoleApp] | None = None,
) -> int:
    """The desk console until it is closed (its exit code)."""
    from console.cli.desk_commands import settings_for
    from console.desk.desk_console import DeskConsoleApp, open_desk

    try:  # the server and the credentials first: a refusal is said at once
        await (await desk_link.connect(desk)).close()
    except DeskFailure as exc:
        _err(f"cannot attach to the desk: {exc}")
        return exc.code
    if app_class is None and (why := no_terminal()):  # after the desk's own words
        _err(why)
        return EXIT_USAGE
    try:
        state, control = await open_desk(desk.url, options, user=desk.user, auth=desk.auth,
                                         venue_settings=settings_for(profile))  # fmt: skip
    except TimeoutError:
        _err(f"cannot attach to the desk at {desk.safe_url}: NATS did not answer in time")
        return EXIT_FAILED
    except Exception as exc:
        _err(desk.safe(f"cannot attach to the desk at {desk.safe_url}: "
                       f"{exc or type(exc).__name__}"))  # fmt: skip
        return EXIT_FAILED
    if not state.venues:  # attached before any hub: the panels are built from its venues
        _err(f"DESK DOWN: {state.down or 'no hub serves the profile yet'}; the console opens "
             f"when a hub serves profile {desk.profile!r} on {desk.safe_url} (Ctrl-C to stop)")  # fmt: skip
        try:
            await state.until_served()
        except BaseException:
            await state.aclose()
            raise
    app = (app_class or DeskConsoleApp)(state, control, readonly=readonly, theme=theme,
                         keymap=profile.app.keys)  # fmt: skip
    await app.run_async()
    return app.return_code or 0


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
