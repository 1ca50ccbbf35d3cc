"""PipAI's hostile knobs: the simulator answering the way broken or careless venues do.

docs/EMERGENCY.md ("Hostile venues"); the generic list knobs (``list_429``,
``list_body``, ``huge_list_mb``, ``deep_nesting``, ``retry_after``) live in
:mod:`console.sim.kit.faults`. PipAI's own:

* ``endless_pages``: ``GET /v1/strategies`` never ends — every page is full (the
  account's strategies, then made-up paused ones whose ids no other page repeats) and
  carries a fresh ``next_cursor`` (``endless-<n>``), forever;
* ``repeat_pages``: every page is the first page again (the same strategies) under a
  fresh ``next_cursor`` (``repeat-<n>``), forever: the paging never advances;
* ``duplicate_id``: the newest strategy's row is followed by its twin — the same id,
  ``(twin)`` after the name, always ``deployed`` (a pause by id reaches the strategy the
  world knows, never the twin);
* ``echo_secret``: every error answer quotes the request's ``X-PipAI-API-Key``, its
  ``X-PipAI-Signature`` and the key's secret; the stream's auth refusal quotes the auth
  frame's key and signature, and an accepted stream gets an ``error`` frame doing so;
* ``bad_row``: in the list, the second deployed strategy (newest first) carries a
  leverage of ``1e400`` (valid JSON, a number no strategy can have); a single GET of it
  stays correct;
* ``dot_ids``: two more deployed strategies with ids ``.`` and ``..`` end the list (on
  its last page); nothing else about them exists (a GET or pause of them is a 404);
* ``escape_names``: every strategy name (list, GET, pause and deploy answers) carries
  terminal escape sequences (clear screen, a window title, colours).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from console.sim.pipai.auth import KEY_HEADER, SIGNATURE_HEADER, Keyring
from console.sim.pipai.world import PipAIWorld

ESCAPED_NAME = "\x1b[2J\x1b]0;pipai owns this terminal\x07\x1b[31m{name}\x1b[0m"
ENDLESS_PREFIX = "endless-"
REPEAT_PREFIX = "repeat-"
DOT_IDS = (".", "..")
# JSON has no infinity, but a number too large for any float is valid JSON all the same.
_BAD_MARK = "__pipai_bad_row__"
BAD_LEVERAGE = "1e400"


def escaped(name: str) -> str:
    return ESCAPED_NAME.format(name=name)


def bad_row_id(world: PipAIWorld) -> str | None:
    """The strategy whose list row carries the impossible value."""
    deployed = world.deployed_ids()
    return deployed[1] if len(deployed) > 1 else None


def _page_number(cursor: str | None, prefix: str) -> int:
    if cursor and cursor.startswith(prefix) and cursor[len(prefix) :].isdigit():
        return int(cursor[len(prefix) :])
    return 0


def endless_page(
    world: PipAIWorld, limit: int, cursor: str | None, unknown_status_rate: float
) -> tuple[list[dict[str, Any]], str]:
    """A full page and a fresh cursor, whatever was asked: the list never ends. The
    account's strategies come first; past them, made-up paused strategies (a kill has
    nothing to send them) whose ids are fresh on every page."""
    n = _page_number(cursor, ENDLESS_PREFIX)
    every = world.newest_first
    real = [s.as_json(unknown_status_rate) for s in every[n * limit : (n + 1) * limit]]
    template = every[0].as_json(0.0) if every else {}
    made_up = [
        template | {"id": f"strat_endless_{n:08d}_{i:03d}", "name": f"Endless {n}.{i}",
                    "status": "paused"}
        for i in range(len(real), limit)
    ]  # fmt: skip
    return real + made_up, f"{ENDLESS_PREFIX}{n + 1}"


def repeated_page(
    world: PipAIWorld, limit: int, cursor: str | None, unknown_status_rate: float
) -> tuple[list[dict[str, Any]], str]:
    """The first page again, whatever was asked, and a fresh cursor: never advancing."""
    n = _page_number(cursor, REPEAT_PREFIX)
    data, _ = world.page(limit=limit, cursor=None, status=None, template_id=None,
                         unknown_status_rate=unknown_status_rate)  # fmt: skip
    return data, f"{REPEAT_PREFIX}{n + 1}"


def with_twin(world: PipAIWorld, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``data`` with the newest strategy's row followed by a deployed twin (the same
    one whatever is paused: a kill's re-read still meets it)."""
    if not world.newest_first:
        return data
    twin = world.newest_first[0].id
    out: list[dict[str, Any]] = []
    for row in data:
        out.append(row)
        if row.get("id") == twin:
            out.append(row | {"name": f"{row.get('name')} (twin)", "status": "deployed"})
    return out


def dot_rows(world: PipAIWorld) -> list[dict[str, Any]]:
    """Two strategies whose ids a normalising proxy would read as path dot segments."""
    template = world.newest_first[0].as_json(0.0)
    return [
        template | {"id": sid, "name": f"Dot strategy {sid}", "status": "deployed"}
        for sid in DOT_IDS
    ]


def list_body(data: list[dict[str, Any]], next_cursor: str | None, bad_id: str | None) -> bytes:
    """The list answer; the ``bad_id`` row's leverage written as ``1e400``."""
    if bad_id is not None:
        data = [row | {"leverage": _BAD_MARK} if row.get("id") == bad_id else row for row in data]
    text = _dumps({"data": data, "next_cursor": next_cursor})
    if bad_id is not None:
        text = text.replace(f'"{_BAD_MARK}"', BAD_LEVERAGE)
    return text.encode()


def _dumps(content: Any) -> str:
    """As Starlette's JSONResponse renders (compact, UTF-8)."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def echoed(message: str, key: str, signature: str, keyring: Keyring) -> str:
    """An error message quoting what it was sent, as careless servers do."""
    known = keyring.keys.get(key)
    secret = f"; expected HMAC with secret {known.secret}" if known is not None else ""
    return (
        f"{message} (request from key {key}, X-PipAI-Signature: {signature}, "
        f'"signature": "{signature}"{secret})'
    )


class EchoingError(Response):
    """A PipAI error answer that quotes the request's key, signature and the key's
    secret: built when it is sent, from the request's own headers (the fault middleware
    builds its errors before the request reaches a route)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None,
        keyring: Keyring,
    ) -> None:
        super().__init__(b"", status, headers=headers, media_type="application/json")
        self._extra = dict(headers or {})
        self.code = code
        self.message = message
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        message = echoed(
            self.message, sent.get(KEY_HEADER, ""), sent.get(SIGNATURE_HEADER, ""), self.keyring
        )
        self.body = _dumps({"code": self.code, "message": message}).encode()
        self.init_headers(self._extra)
        await super().__call__(scope, receive, send)
