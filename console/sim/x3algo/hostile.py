"""The x3algo simulator's hostile knobs: answers real venues were seen to give, which the
documented contract never describes (docs/EMERGENCY.md, "Hostile venues").

* ``endless_pages`` — the list never ends: ``totalPages`` is a billion and every page is
  full, past the real algorithms with made-up ones whose ids are fresh on every page.
  The made-up ones are ``stopped``: a kill has nothing to send them (4,000 of them
  active would be 40 minutes of stops at x3algo's 100 a minute, which is not what this
  knob is about), while a reader that follows the paging never ends.
* ``bad_row`` — one algorithm's list row says it closed half a trade
  (``performance.totalTrades: 2.5``), a value no reading can accept.
* ``dot_ids`` — two more algorithms, with ids ``.`` and ``..``, at the end of the list.
* ``escape_names`` — every algorithm's name carries terminal escape sequences (a window
  title, a screen clear, a colour).
* ``echo_secret`` — every error answer of the vendor's own routes quotes what the caller
  sent: the bearer token, the refresh cookie, or the login's password.

* ``duplicate_id`` — the newest algorithm's row is followed, on its page, by an active
  twin with the same id.
* ``still_active`` — a stopped algorithm's list row and single GET, and every stop's
  answer, say
  ``"active": true`` beside ``"status": "stopped"``: two words that disagree.
* ``stale_reads_ms`` — reads show a stop that many ms after its answer (a cached list).
* ``shout_status`` — every status word (list rows, single GETs, stop answers) in
  capitals: the same words, spelled as another implementation of the API might.
* ``pages_lie`` — ``totalPages`` is 1 whatever ``total`` says (150 algorithms, 100 a
  page: the second page exists but the first says there is none).

The generic knobs (``list_429``, ``list_body``, ``huge_list_mb``, ``deep_nesting``,
``list_bomb_mb``/``control_bomb_mb``, ``duplicate_keys``, ``control_400``) live in the
fault middleware.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from console.sim.x3algo.world import Algo

ENDLESS_PAGES = 1_000_000_000
DOT_IDS = (".", "..")
ESCAPES = ("\x1b]0;x3algo owns this terminal\x07", "\x1b[2J\x1b[31m", "\x1b[0m")
HALF_A_TRADE = 2.5


def escaped(name: str) -> str:
    """``name`` wrapped in a window-title change, a screen clear and colours."""
    title, clear, reset = ESCAPES
    return f"{title}{clear}{name}{reset}"


def dot_algos(by_created: list[Algo]) -> list[Algo]:
    """Two extra algorithms, ids ``.`` and ``..``, copies of the first ones otherwise
    (no draw from the world's RNG: the rest of the world stays as the seed made it)."""
    if not by_created:
        return []
    return [
        replace(
            by_created[i % len(by_created)], id=dot, name=f"Dot segment {dot!r}", status="active"
        )
        for i, dot in enumerate(DOT_IDS)
    ]


def endless_page(rows: list[dict[str, Any]], page: int, limit: int) -> list[dict[str, Any]]:
    """``rows`` (the real ones on this page, maybe none) filled up to ``limit`` with
    made-up stopped algorithms whose ids no other page repeats."""
    template: dict[str, Any] = rows[0] if rows else {}
    filled = list(rows)
    for i in range(len(rows), limit):
        made_up = {"id": f"e{page:011x}{i:012x}", "name": f"Endless {page}.{i}"}
        filled.append({**template, **made_up, "status": "stopped", "active": False})
    return filled


def with_twin(data: list[dict[str, Any]], twin: str) -> list[dict[str, Any]]:
    """``data`` with ``twin``'s row followed by an active twin (same id, on the same page;
    a stop by id reaches the algorithm the world knows, never the twin)."""
    out: list[dict[str, Any]] = []
    for row in data:
        out.append(row)
        if row.get("id") == twin:
            out.append({**row, "name": f"{row.get('name')} (twin)", "status": "active",
                        "active": True})  # fmt: skip
    return out


def bad_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with an impossible value: half a trade."""
    performance = dict(row.get("performance") or {})
    performance["totalTrades"] = HALF_A_TRADE
    return {**row, "performance": performance}


def echo_secret(request: Request, response: Response, password: str | None) -> Response:
    """An error answer whose message quotes the credential the request carried."""
    if response.status_code < 400 or not isinstance(response, JSONResponse):
        return response
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        return response
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return response
    echoed = []
    if authorization := request.headers.get("authorization"):
        echoed.append(f"Authorization: {authorization}")
    if cookie := request.headers.get("cookie"):
        echoed.append(f"Cookie: {cookie}")
    if password:
        echoed.append(f"password {password} was given")
    if not echoed:
        return response
    error["message"] = f"{error.get('message', '')} (request had {'; '.join(echoed)})"
    echoing = JSONResponse(body, status_code=response.status_code)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "content-type"):
            echoing.headers[name] = value
    return echoing
