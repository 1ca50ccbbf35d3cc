"""``trading-console serve``: the desk console in a browser, for a wall screen or a phone.

Each browser connection gets a login screen (the operator's NATS user and password),
then the console attached to the profile's desk hub as that user, read-only until
armed with ``a``. The decisions (loopback by default, no serve without a desk) are in
docs/SERVE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from console.cli import desk_link
from console.cli.desk_link import DeskFailure
from console.config import Profile, is_loopback
from console.core.scrub import printable

EXIT_USAGE, EXIT_FAILED = 2, 4
DEFAULT_PORT = 8765


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               common: argparse.ArgumentParser) -> None:  # fmt: skip
    serve = sub.add_parser(
        "serve", parents=[common],
        help="serve the desk console to browsers (a wall screen, a phone); loopback by default",
        description="Serve the console of the profile's desk to web browsers. Each browser "
        "logs in as its operator's NATS user and gets the console attached to the desk's hub, "
        "read-only until armed (a). Needs a desk: --desk URL, desk = in the profile, or "
        "--demo on a `demo --desk`.",
    )  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1; another than loopback "
                       "needs --allow-remote)")  # fmt: skip
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port to listen on (default: {DEFAULT_PORT}; 0: a free one)")  # fmt: skip
    serve.add_argument("--desk", metavar="URL", nargs="?", const="", default=argparse.SUPPRESS,
                       help="the desk's NATS URL (default: the profile's desk; no URL: the "
                       "local desk of the profile, e.g. the running `demo --desk`)")  # fmt: skip
    serve.add_argument("--allow-remote", action="store_true",
                       help="listen on a non-loopback --host: passwords then cross the network "
                       "in clear text unless a TLS proxy is in front")  # fmt: skip
    serve.add_argument("--public-url", metavar="URL",
                       help="the URL browsers use (behind a proxy); default: http://HOST:PORT")  # fmt: skip


def run(profile: Profile, args: argparse.Namespace) -> int:
    try:  # as every desk command finds its desk (--desk [URL], the profile, --demo's desk)
        url = desk_link.desk_url(profile, args)
    except DeskFailure as exc:
        _err(str(exc))
        return exc.code
    if not url:
        _err(f"profile {profile.name!r} has no desk, and serve needs one: each browser logs in "
             "as a NATS user of the desk. Pass --desk URL, set desk = \"nats://…\" in the "
             "profile, or run `trading-console demo --desk` and serve --demo; for a console on this terminal without "
             "a desk, run trading-console without serve.")  # fmt: skip
        return EXIT_USAGE
    if "@" in url:
        _err(f"--desk {desk_link.safe_url(url)}: the URL carries a user or password; serve takes none "
             "(each browser logs in as its own NATS user). Give the URL without them.")  # fmt: skip
        return EXIT_USAGE
    if not is_loopback(args.host) and not args.allow_remote:
        _err(f"--host {args.host} is not loopback: browsers elsewhere would send desk passwords "
             "over the network. Add --allow-remote to mean it (behind a TLS proxy: also "
             "--public-url https://…), or use an SSH tunnel to 127.0.0.1.")  # fmt: skip
        return EXIT_USAGE
    if not is_loopback(args.host):
        _err(f"WARNING: listening on {args.host}, beyond this machine. Plain HTTP: a desk "
             "password typed in a browser crosses the network readable unless a TLS proxy "
             "is in front.")  # fmt: skip
    # Imported here: the web server (textual-serve, jinja2: ~55 ms) loads for serve only.
    from console.web.server import ConsoleServer

    session = [sys.executable, "-m", "console.web.session", "--config", str(Path(profile.source)),
               "--profile", profile.name, "--desk", url]  # fmt: skip
    server = ConsoleServer(session, host=args.host, port=args.port,
                           title=f"{profile.label} · trading-console", public_url=args.public_url)  # fmt: skip

    local = desk_link.read_local(profile)
    users = (f"; the local desk's users and passwords are in {desk_link.local_desk_file(profile)}"
             if local is not None and local.get("url") == url else "")  # fmt: skip

    def ready(page: str) -> None:
        print(f"trading-console: serving on {page} (desk {desk_link.safe_url(url)}, profile "
              f"{profile.name}); each browser logs in as its NATS user, read-only until armed"
              f"{users}. Ctrl+C stops.", flush=True)  # fmt: skip

    try:
        asyncio.run(server.run(ready))
    except OSError as exc:
        _err(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}. Choose "
             "another --port (0: a free one) or stop what holds it.")  # fmt: skip
        return EXIT_FAILED
    print("trading-console: serve stopped", flush=True)
    return 0


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
