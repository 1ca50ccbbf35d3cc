"""``trading-console desk-config``: print a NATS server config with the desk's three roles.

``trading-console desk-config --profile P --viewer carol --trader bob --admin alice``
writes to stdout the config of a NATS server for profile ``P``'s desk: the hub's user
and each operator with the permissions of their role (``console.desk.roles``), the
secrets as placeholders (``--nkeys`` for nkey users instead of passwords). Nothing is
read from or written to the profile's files; the profile name may be given without a
config file. A name given twice, or the hub's own user name, is refused (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.config import ConfigError, load_profile
from console.desk.roles import HUB_USER, Role
from console.desk.server_config import render
from console.desk.subjects import ProtocolError, token

EXIT_OK, EXIT_USAGE = 0, 2
COMMAND = "desk-config"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``desk-config`` on the CLI's subcommands (``sub``: argparse's subparsers)."""
    parser = sub.add_parser(
        COMMAND, parents=[common],
        help="print a NATS server config for the profile's desk, with viewer/trader/admin users",
        description="Print a NATS server config for the desk of the profile: the hub's "
        "user and each operator with their role's permissions (viewer: reads only; trader: "
        "control and the kill; admin: also re-arm and automation). Passwords (or, with "
        "--nkeys, public nkeys) are placeholders to fill in.",
    )  # fmt: skip
    for role in Role:
        parser.add_argument(f"--{role.value}", action="append", default=[], metavar="USER",
                            help=f"a {role.value} (repeatable)")  # fmt: skip
    parser.add_argument("--nkeys", action="store_true",
                        help="nkey users (public-key placeholders) instead of passwords")  # fmt: skip


def roles_of(args: argparse.Namespace) -> dict[str, Role]:
    """user → role from ``--viewer/--trader/--admin``; ValueError in words when wrong."""
    roles: dict[str, Role] = {}
    for role in Role:
        for user in getattr(args, role.value, []):
            try:
                token(user)
            except ProtocolError as exc:
                raise ValueError(str(exc)) from None
            if user == HUB_USER:
                raise ValueError(f"{HUB_USER!r} is the hub's own user; name operators otherwise")
            if user in roles:
                raise ValueError(f"{user} is given two roles ({roles[user].value} and "
                                 f"{role.value}); give each operator one")  # fmt: skip
            roles[user] = role
    if not roles:
        raise ValueError("name at least one operator: --viewer, --trader or --admin USER")
    return roles


def run(args: argparse.Namespace) -> int:
    try:
        roles = roles_of(args)
        profile = getattr(args, "profile", None) or _default_profile(args)
        text = render(profile, roles, nkeys=args.nkeys)
    except (ValueError, ConfigError) as exc:
        print(f"trading-console: {COMMAND}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_OK


def _default_profile(args: argparse.Namespace) -> str:
    """The config's default profile, when ``--profile`` is not given."""
    config: Path | None = getattr(args, "config", None)
    return load_profile(config, None).name
