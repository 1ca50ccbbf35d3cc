"""Where a command's desk is, as whom it connects, and the connection's failures in words.

A command runs against a desk (docs/DESK.md, "The CLI on a desk") when ``--desk URL`` is
given, or the profile says ``desk = "nats://…"``, or ``--desk`` is given without a URL,
or ``--demo`` names a demo that runs a desk: then the local desk beside the profile
(``desk.json``, written by :class:`~console.desk.local_desk.LocalDesk`) says the URL.
The operator is ``--desk-user`` (default: the OS user as a NATS name) with the password
in ``TRADING_CONSOLE_NATS_PASSWORD``, else the local desk's ``desk.json`` for that user
(same URL only), or ``--desk-creds FILE``.

:func:`connect` fails fast and in words: a server that is not there, or that refuses
the user (NATS's own words, without the password), is :class:`DeskFailure` (exit 4)
after one quick retry, never after a long timeout. :func:`hub_beat` asks the hub of the
profile who it is: NATS answers "no responders" at once when no hub runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.config import Profile
from console.core.scrub import Scrubber, printable
from console.desk import subjects
from console.desk.connect import PASSWORD_ENV, connect_options
from console.desk.local_desk import DESK_FILE, os_operator

if TYPE_CHECKING:  # the NATS client and the wire messages load when a desk is used
    from nats.aio.client import Client as NATS

    from console.desk import messages

EXIT_USAGE, EXIT_FAILED = 2, 4
CONNECT_S = 3.0
"""One attempt to reach the server (a second follows at once, then the command ends)."""
WHO_S = 5.0
"""How long the hub may take to say who it is (no hub: NATS says so at once)."""


class DeskFailure(Exception):
    """The desk cannot be used; ``code`` is the exit code (2 usage, 4 unreachable)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DeskAddress:
    """A desk and the operator's credentials for it (never printed: see :meth:`safe`)."""

    url: str
    profile: str
    user: str
    auth: dict[str, Any] = field(repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    def safe(self, text: str) -> str:
        """``text`` as it may be shown: without the password, printable."""
        return printable(Scrubber(self.secrets).scrub(text) if self.secrets else text)


def add_arguments(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--desk [URL]``, ``--desk-user``, ``--desk-creds`` (after a command too)."""
    default: dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    parser.add_argument("--desk", metavar="URL", nargs="?", const="", **default,
                        help="work through the profile's desk hub on this NATS (no URL: "
                        "the local desk of this profile, e.g. the running `demo --desk`)")  # fmt: skip
    parser.add_argument("--desk-user", metavar="NAME", **default,
                        help=f"your NATS user on the desk (default: the OS user; password in "
                        f"${PASSWORD_ENV})")  # fmt: skip
    parser.add_argument("--desk-creds", metavar="FILE", **default,
                        help="your NATS credentials file")  # fmt: skip


def bare_desk(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """``argv`` with a ``--desk`` followed by a command name written ``--desk=`` (the
    local desk), so ``--desk status`` is not read as the URL "status"."""
    commands: set[str] = set()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        commands.update(getattr(action, "choices", None) or ())
    out = list(argv)
    for i, word in enumerate(out[:-1]):
        if word == "--desk" and out[i + 1] in commands:
            out[i] = "--desk="
    return out


def desk_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    add_arguments(parent, suppress=True)
    return parent


def local_desk_file(profile: Profile) -> Path:
    """Where a local desk serving ``profile`` keeps its ``desk.json`` (beside the config)."""
    return profile.source.parent / DESK_FILE


def read_local(profile: Profile) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(local_desk_file(profile).read_text())
    except (OSError, ValueError):
        return None
    return data


def desk_url(profile: Profile, args: argparse.Namespace) -> str | None:
    """The desk the command works through, or None (it works locally)."""
    given = getattr(args, "desk", None)
    if given:
        return str(given)
    local = read_local(profile)
    if given == "" or (getattr(args, "demo", False) and local is not None):
        if local is None:
            raise DeskFailure(
                f"--desk without a URL: no local desk serves profile {profile.name!r} (no "
                f"{local_desk_file(profile)}); start one with `trading-console demo --desk`, "
                "or give --desk nats://HOST:PORT"
            )
        return str(local["url"])
    return profile.config.desk


def address(profile: Profile, args: argparse.Namespace, url: str) -> DeskAddress:
    """The operator's credentials for ``url`` (DeskFailure, exit 2, when there are none)."""
    user = getattr(args, "desk_user", None) or os_operator()
    creds = getattr(args, "desk_creds", None)
    if creds:
        return DeskAddress(url, profile.name, user, {"user_credentials": creds})
    password = os.environ.get(PASSWORD_ENV)
    local = read_local(profile)
    if local is not None and local.get("url") == url:  # the local desk's own, random ones
        password = local.get("users", {}).get(user) or password  # (before one exported
        if not password:  # for another desk)
            known = ", ".join(sorted(local.get("users", {}))) or "none"
            raise DeskFailure(f"the local desk has no user {user!r} (its users: {known}); "
                              "give --desk-user NAME", EXIT_USAGE)  # fmt: skip
    if not password:
        raise DeskFailure(
            f"the desk needs your NATS password in ${PASSWORD_ENV} (or --desk-creds FILE)",
            EXIT_USAGE,
        )
    return DeskAddress(url, profile.name, user, {"user": user, "password": password},
                       (password,))  # fmt: skip


async def connect(desk: DeskAddress, **options: Any) -> NATS:
    """Connected as the operator, or DeskFailure with NATS's words (no password in them)."""
    import nats  # (~30 ms: loaded by the commands that go to a desk, not by every command)

    errors: list[str] = []

    async def error(exc: Exception) -> None:
        errors.append(str(exc) or type(exc).__name__)

    try:
        async with asyncio.timeout(2 * CONNECT_S + 1):
            nc: NATS = await nats.connect(
                desk.url, name=f"trading-console cli {desk.profile} {desk.user}",
                connect_timeout=CONNECT_S, max_reconnect_attempts=1, reconnect_time_wait=0.2,
                error_cb=error, **{**options, **connect_options(desk.user, desk.auth)},
            )  # fmt: skip
    except Exception as exc:
        words = errors[-1] if errors else (str(exc) or type(exc).__name__)
        refused = [e for e in errors if "authorization" in e.lower()]
        if refused:  # the retry's words may be a reset connection: the refusal is the news
            words = refused[0]
            raise DeskFailure(desk.safe(
                f"NATS at {desk.safe_url} refused user {desk.user!r}: {words}; check your "
                f"NATS user and password (${PASSWORD_ENV}) or credentials file"
            )) from None  # fmt: skip
        raise DeskFailure(desk.safe(
            f"cannot reach NATS at {desk.safe_url}: {words}; is the server running, and "
            "is the URL right?"
        )) from None  # fmt: skip
    return nc


def no_hub(desk: DeskAddress) -> str:
    return (f"no hub serves profile {desk.profile!r} on {desk.safe_url}: start "
            f"`trading-console --profile {desk.profile} hub --nats {desk.safe_url}` "
            "(or `trading-console demo --desk`)")  # fmt: skip


async def hub_beat(nc: NATS, desk: DeskAddress) -> messages.HubBeat:
    """The running hub's beat; DeskFailure (exit 4) at once when none serves the profile."""
    from nats.errors import NoRespondersError

    from console.desk import messages

    try:
        msg = await nc.request(subjects.who_subject(desk.profile), b"", timeout=WHO_S)
    except NoRespondersError:
        raise DeskFailure(no_hub(desk)) from None
    except TimeoutError:
        raise DeskFailure(f"{no_hub(desk)} (nobody answered within {WHO_S:g} s)") from None
    beat: messages.HubBeat = messages.HubBeat.decode(msg.data)
    return beat


def safe_url(url: str) -> str:
    """``url`` without a password in it."""
    head, at, tail = url.rpartition("@")
    return f"{head.split('//', 1)[0]}//***@{tail}" if at else url
