"""How every desk process connects to NATS: one place for the options each one needs.

Each NATS user gets an inbox prefix of its own (``_INBOX.<user>``): the replies to its
requests and the deliveries of its JetStream consumers arrive under it, and the server
lets the user subscribe to that prefix only (:mod:`console.desk.roles`), so no operator
reads another's replies. nats-py builds every reply subject from ``inbox_prefix`` (its
``request`` subscribes ``<prefix>.<nuid>.*``, ``new_inbox`` gives ``<prefix>.<nuid>``),
so a connection opened with a different prefix is refused by the server at its first
request. The hub (:meth:`console.desk.hub.Hub`) binds each command to its sender the
same way: a command whose reply subject is not under its user's inbox is refused.

The hub, the desk console, the desk CLI and the tests call :func:`connect_options`;
nothing opens a desk connection without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.desk.subjects import token

INBOX_ROOT = "_INBOX"
PASSWORD_ENV = "TRADING_CONSOLE_NATS_PASSWORD"
"""Where an operator's (or the hub's) NATS password is given: never a command line."""


def inbox_prefix(user: str) -> str:
    """The inbox prefix of NATS user ``user``: ``_INBOX.<user>``."""
    return f"{INBOX_ROOT}.{token(user)}"


def inbox_of(user: str) -> str:
    """The subjects ``user``'s replies arrive on (a NATS subject pattern)."""
    return f"{inbox_prefix(user)}.>"


def connect_options(user: str, auth: Mapping[str, Any]) -> dict[str, Any]:
    """``nats.connect``'s keyword arguments for ``user`` with its credentials ``auth``
    (``{"user", "password"}``, ``{"user_credentials"}`` …): those plus its inbox prefix."""
    return {**auth, "inbox_prefix": inbox_prefix(user)}


def replies_to(user: str, reply: str) -> bool:
    """Does the reply subject ``reply`` belong to ``user``'s inbox?"""
    return reply.startswith(f"{inbox_prefix(user)}.")
