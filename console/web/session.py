"""One browser connection's process: ``python -m console.web.session`` (started by serve).

textual-serve runs this once per connection, speaking Textual's web protocol on stdin
and stdout. It shows the login (:class:`~console.web.login.LoginApp`), then the desk
console as the user who logged in, **read-only until armed** (``a``, for the profile's
``arm_minutes``), whatever the profile says: a browser is a second screen, and the key
that acts must be pressed on purpose. Its arguments are the profile file, the profile's
name, the desk's URL (never with credentials in it) and the browser's address, which the
journal's ``host`` column carries (``myhost (web 127.0.0.1)``).

Nothing may be printed to stdout here: it is the protocol's stream.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

from console.config import Profile, load_profile
from console.core.session import SessionOptions
from console.tui.textual_compat.web_drivers import ConsoleDriver, LoginDriver
from console.web.login import LoginApp


def web_host(peer: str) -> str:
    """The ``host`` a browser operator's actions are journaled with."""
    return f"{socket.gethostname()} (web {peer})"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m console.web.session")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--desk", required=True, metavar="URL")
    parser.add_argument("--peer", default="unknown", help="the browser's address")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.CRITICAL)  # stderr reaches serve's output: say nothing
    from console.cli.main import session_options

    profile = load_profile(args.config, args.profile)
    options = session_options(profile)
    return asyncio.run(session(profile, options, args.desk, web_host(args.peer)))


async def session(profile: Profile, options: SessionOptions, url: str, host: str) -> int:
    from console.desk.desk_console import DeskConsoleApp

    login = LoginApp(url, options, host=host, driver_class=LoginDriver)
    attached = await login.run_async()
    if attached is None:
        return 0
    state, control = attached
    app = DeskConsoleApp(state, control, readonly=True, theme=profile.app.theme,
                         keymap=profile.app.keys)  # fmt: skip
    app.driver_class = ConsoleDriver
    await app.run_async()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
