"""A NATS server config for one profile's desk, with the three roles, for an operator to fill in.

``trading-console desk-config`` prints it (:mod:`console.cli.desk_config`). The users'
permissions are :mod:`console.desk.roles`' (the ones the tests run against a real
server); the secrets are placeholders, never generated here:

- with passwords, each user's is a NATS variable (``$DESK_<USER>_PASSWORD``), read from
  the server's environment when it starts, or replaced by a bcrypt hash
  (``nats server passwd``);
- with nkeys, each user's public key is a placeholder to replace with the one
  ``nk -gen user -pubout`` prints (the server refuses to start until it is replaced).

It listens on 127.0.0.1 with JetStream on; the comments say what to change for a
cluster or other hosts (TLS belongs there too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from console.desk.roles import HUB_USER, Role, hub_permissions, operator_permissions
from console.desk.subjects import token

_KEY = re.compile(r'^(\s*)"([A-Za-z_][A-Za-z0-9_]*)":', re.MULTILINE)


def secret_variable(user: str) -> str:
    """The NATS variable that holds ``user``'s password (``DESK_ALICE_PASSWORD``)."""
    return f"DESK_{token(user).upper().replace('-', '_')}_PASSWORD"


def nkey_placeholder(user: str) -> str:
    return f"U_REPLACE_WITH_{token(user).upper().replace('-', '_')}_PUBLIC_NKEY"


def render(profile: str, roles: Mapping[str, Role], *, nkeys: bool = False) -> str:
    """The config text for ``profile`` with ``roles`` (user → role) and the hub's user."""
    if not roles:
        raise ValueError("name at least one operator (--viewer, --trader or --admin)")
    users: list[dict[str, Any]] = [_user(HUB_USER, hub_permissions(profile), nkeys)]
    for user, role in roles.items():
        users.append(_user(user, operator_permissions(profile, user, role), nkeys))
    body = json.dumps({"users": users}, indent=2)
    body = _KEY.sub(r"\1\2:", body)  # NATS config: keys need no quotes
    body = re.sub(r'"(\$DESK_[A-Z0-9_]+_PASSWORD)"', r"\1", body)  # a variable, not a string
    listing = ", ".join(f"{u} ({Role(r).value})" for u, r in roles.items())
    return "\n".join([
        f"# NATS server config for the desk of profile {token(profile)!r}: the hub and "
        f"{listing}.",
        "# Printed by `trading-console desk-config`; roles are enforced by these permissions",
        "# (docs/DESK.md, \"Roles\"). Secrets are placeholders: "
        + ("replace each nkey with the user's public key (nk -gen user -pubout)."
           if nkeys else "set each $DESK_<USER>_PASSWORD in the server's environment,"),
        *([] if nkeys else ["# or replace it with a bcrypt hash (nats server passwd)."]),
        f"server_name: desk_{token(profile)}",
        "listen: 127.0.0.1:4222  # other hosts: 0.0.0.0:4222 with tls { cert_file, key_file }",
        "jetstream: { store_dir: \"./jetstream\" }  # a cluster: add a cluster block and replicas",
        f"authorization: {body}",
        "",
    ])  # fmt: skip


def _user(user: str, permissions: dict[str, Any], nkeys: bool) -> dict[str, Any]:
    if nkeys:
        return {"nkey": nkey_placeholder(user), "permissions": permissions}
    return {"user": token(user), "password": f"${secret_variable(user)}",
            "permissions": permissions}  # fmt: skip
