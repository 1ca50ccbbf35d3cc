"""The desk's three roles, as NATS permissions: what each may publish is what it may do.

The role of an operator is not something the console or the hub believes the operator
about: it is the set of command subjects the NATS server lets the operator's user
publish (``desk.P.cmd.<user>.<verb>``, :func:`console.desk.subjects.command_subject`).
A request the role does not allow is refused by the server (a permissions violation:
it never reaches the hub).

- **viewer**: no command at all (not even ``reverify`` or ``checkin``: a re-read spends
  the account's rate budget, a check-in holds off the dead-man timer, and a wall screen
  must do neither); it reads the state, results, activity and journal, and may ask
  ``desk.P.hub.who``.
- **trader**: single-target control and plans (``dispatch``), the kill, ``reverify``,
  ``verify-interrupted``, ``checkin``, and ``approve`` (a second operator's yes or no to
  a re-arm, :mod:`console.desk.rearm`).
- **admin**: all of the trader's, plus ``rearm`` (resume or start what a kill halted)
  and ``skip`` (change the automation: skip a schedule's next run).

Every user's replies arrive under its own inbox prefix (:mod:`console.desk.connect`),
the only inbox it may subscribe to. The console learns its own role from the server
(:func:`learn_role`: ``$SYS.REQ.USER.INFO`` answers a user with its own permissions)
and shows a viewer no destructive key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from console.desk.connect import inbox_of
from console.desk.subjects import Verb, bucket, command_subject, root, token, who_subject

if TYPE_CHECKING:  # (the NATS client loads with the desk's connections, not its roles)
    from nats.aio.client import Client as NATS

HUB_USER = "hub"
USER_INFO = "$SYS.REQ.USER.INFO"
"""Answered by the server with the asking user's own permissions (nats-server ≥ 2.10)."""


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"


ROLE_WORDS: Mapping[Role, str] = MappingProxyType({
    Role.VIEWER: "a viewer on this desk: watches only, the server refuses every command",
    Role.TRADER: "a trader on this desk: may stop, pause, resume, start, kill and approve "
                 "a re-arm; re-arming what a kill halted needs an admin",
    Role.ADMIN: "an admin on this desk: may do all a trader may, re-arm what a kill "
                "halted (with a second operator's approval) and skip a scheduled run",
})  # fmt: skip
"""What each role may do, in the words the console's log greets its operator with."""

_TRADER = frozenset({Verb.DISPATCH, Verb.KILL, Verb.REVERIFY, Verb.VERIFY_INTERRUPTED,
                     Verb.CHECKIN, Verb.APPROVE})  # fmt: skip
VERBS: Mapping[Role, frozenset[Verb]] = MappingProxyType({
    Role.VIEWER: frozenset(),
    Role.TRADER: _TRADER,
    Role.ADMIN: _TRADER | {Verb.REARM, Verb.SKIP},
})  # fmt: skip
"""The command verbs each role may publish."""

JS_READS = (
    "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
    "$JS.API.CONSUMER.CREATE.>", "$JS.API.CONSUMER.INFO.>", "$JS.API.CONSUMER.DELETE.>",
    "$JS.API.CONSUMER.MSG.NEXT.>", "$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>",
    "$JS.ACK.>", "$JS.FC.>",
)  # fmt: skip
"""JetStream's read API: consumers, direct gets (never a write, a purge or a delete)."""


def operator_permissions(profile: str, user: str, role: Role) -> dict[str, Any]:
    """The NATS permissions of operator ``user`` with ``role`` on ``profile``'s desk."""
    if token(user) == HUB_USER:
        raise ValueError(f"{HUB_USER!r} is the hub's user, not an operator's")
    desk = root(profile)
    verbs = sorted(VERBS[Role(role)])
    commands = [command_subject(profile, user, v) for v in verbs]
    return {
        "publish": {"allow": [*commands, who_subject(profile), *JS_READS, USER_INFO]},
        "subscribe": {"allow": [f"{desk}.>", inbox_of(user)], "deny": [f"{desk}.cmd.>"]},
    }


def hub_permissions(profile: str) -> dict[str, Any]:
    """The hub's: the desk's subjects (never a command), the bucket, JetStream, replies."""
    desk, kv = root(profile), bucket(profile)
    return {
        "publish": {
            "allow": [f"{desk}.>", "$JS.API.>", f"$KV.{kv}.>", "$JS.ACK.>", "_INBOX.>"],
            "deny": [f"{desk}.cmd.>"],
        },
        "subscribe": {"allow": [f"{desk}.>", inbox_of(HUB_USER)]},
    }


def permissions(profile: str, user: str, role: Role = Role.ADMIN) -> dict[str, Any]:
    """The permissions of ``user`` (the hub's for :data:`HUB_USER`)."""
    if user == HUB_USER:
        return hub_permissions(profile)
    return operator_permissions(profile, user, role)


# ----- what a set of permissions allows -------------------------------------------------------
def subject_matches(pattern: str, subject: str) -> bool:
    """Does NATS subject pattern ``pattern`` (``*`` one token, ``>`` the rest) cover
    ``subject``?"""
    want, have = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">":
            return len(have) > i
        if i >= len(have) or (part != "*" and part != have[i]):
            return False
    return len(want) == len(have)


def may_publish(perms: Mapping[str, Any], subject: str) -> bool:
    """Would NATS let a user with ``perms`` publish ``subject``?"""
    publish = perms.get("publish") or {}
    allow: Iterable[str] = publish.get("allow") or [">"]
    deny: Iterable[str] = publish.get("deny") or []
    return any(subject_matches(a, subject) for a in allow) and not any(
        subject_matches(d, subject) for d in deny
    )


def role_from(perms: Mapping[str, Any], profile: str, user: str) -> Role:
    """The role ``perms`` amount to: admin if ``rearm`` is allowed, trader if ``kill``
    is, else viewer."""
    if may_publish(perms, command_subject(profile, user, Verb.REARM)):
        return Role.ADMIN
    if may_publish(perms, command_subject(profile, user, Verb.KILL)):
        return Role.TRADER
    return Role.VIEWER


async def learn_role(nc: NATS, profile: str, user: str, timeout_s: float = 5.0) -> Role | None:
    """This connection's role, from the permissions the server says it enforces; None
    when the server will not say (no ``$SYS.REQ.USER.INFO`` for this user)."""
    try:
        msg = await nc.request(USER_INFO, b"", timeout=timeout_s)
        data = json.loads(msg.data)["data"]
    except Exception:
        return None
    perms = data.get("permissions") or {}  # none at all: the user may do everything
    return role_from(perms, profile, user)


def authorization(
    profile: str, roles: Mapping[str, Role], passwords: Mapping[str, str]
) -> dict[str, Any]:
    """A NATS server's ``authorization`` block: the hub's user and each operator in
    ``roles``, with the password ``passwords`` gives each user (the hub's included)."""
    users = [{"user": HUB_USER, "password": passwords[HUB_USER],
              "permissions": hub_permissions(profile)}]  # fmt: skip
    for user, role in roles.items():
        users.append({"user": token(user), "password": passwords[user],
                      "permissions": operator_permissions(profile, user, role)})  # fmt: skip
    return {"users": users}
