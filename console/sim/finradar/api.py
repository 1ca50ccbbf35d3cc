"""The simulated FinRadar Sniper API (``/api/v1/sniper/...``), written from the contract.

An independent implementation of CONTRACTS.md section 5 (nothing from ``console.venues``
is imported). Where the docs are silent this simulator decides, and
docs/venues/finradar.md records each decision:

* Auth: ``X-API-Key`` header or ``?apiKey=``; missing or wrong -> ``401``.
* One error envelope everywhere: ``{"error": {"code": ..., "message": ...}}`` (a ``402``
  adds ``plan``, ``slots_total``, ``slots_available``, ``upgrade_url`` inside it).
* 120 requests per minute per API key; ``429`` with ``Retry-After`` (seconds, fractional
  when the knobs scale the window below one second).
* List ``meta`` carries ``slots_available`` plus our ``slots_total`` and ``total``; list
  rows carry our ``stopped_at`` after the documented fields.
* Stop of a STOPPED target: ``200`` with the body of its original stop (reason and
  ``stopped_at`` kept), ``slots_available`` as of now.
* Create answers ``201``; no free slot for an immediate start -> ``402``.

Hostile knobs of this vendor (docs/venues/finradar.md; the generic ones — ``retry_after``,
``list_429``, ``list_body``, ``huge_list_mb``, ``deep_nesting`` — are the fault
middleware's):

* ``endless_pages``: the list never ends. Past the real targets every page is full of
  fresh STOPPED rows and ``meta.total`` is always two pages ahead.
* ``echo_secret``: every error answer quotes the API key the request carried, in its
  message and in a ``request`` object of the envelope.
* ``bad_row``: the newest ACTIVE target's row carries an impossible ``status`` (10^12).
* ``dot_ids``: two more ACTIVE targets, ids ``.`` and ``..`` (listed, and stoppable by a
  client that sends them percent-encoded, while the knob is on).
* ``escape_names``: every listed ticker carries terminal escape sequences (a ``ticker``
  filter still finds it by the plain ticker).
* ``empty_total``, ``duplicate_id``, ``page_cap``, ``vanish_mid_read``: a list that
  contradicts itself or moves while it is read (:mod:`console.sim.finradar.hostile`).
* ``plan_slots``: > 0, the answers count the plan as that many slots, and its free
  slots as that less the ACTIVE targets, below zero when more run (a plan cut under its
  running targets: ``slots_available: -2``). The world itself still allows 5.
* ``failing_pages_from``: > 0, every list page at that offset or later answers ``500``
  (the first page still answers: a list read in part).

No stream: the Socket.IO channels are out of the console's scope (Project decision 5).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.sim.finradar.hostile import ListQuirks, page_of
from console.sim.finradar.world import (
    ACTIVE,
    MAX_DURATION_MIN,
    STOPPED,
    WINDOW_EXPIRED,
    Account,
    FinRadarWorld,
    Sniper,
    WorldError,
    canonical_ticker,
)
from console.sim.kit.context import SimRateLimit, VendorContext
from console.sim.kit.vendor import AdminError, VendorSim

RATE_LIMIT = 120  # requests per key
RATE_WINDOW_S = 60.0
STATUSES = ("CREATED", "ACTIVE", "STOPPED")
TARGETS = "/api/v1/sniper/targets"

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "PAYMENT_REQUIRED",
    404: "NOT_FOUND",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
# What the bad_row knob writes into one row's status: no FinRadar status is a number.
IMPOSSIBLE_STATUS = 10**12
DOT_IDS = (".", "..")
# Written around every ticker under escape_names: retitles a terminal, clears its
# screen, turns the text red.
ESCAPE_PREFIX = "\x1b]0;pwned\x07\x1b[2J"
ESCAPE_SUFFIX = "\x1b[31m"
_ESCAPES = re.compile(r"\x1b\][^\x07]*\x07|\x1b\[[0-9;?]*[A-Za-z]")


class FinRadarSim(VendorSim[FinRadarWorld]):
    """FinRadar's Sniper module: list, create and stop sniper targets of one API key."""

    api = "finradar"
    world_type = FinRadarWorld
    list_paths = ("/api/v1/sniper/targets",)

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self._limits: dict[str, SimRateLimit] = {}
        self._dots: dict[str, Sniper] = {}
        self._quirks = ListQuirks(self.world)

    # ----- VendorSim -----------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route(TARGETS, self._list, methods=["GET"]),
            Route(TARGETS, self._create, methods=["POST"]),
            Route(TARGETS + "/{target_id}/stop", self._stop, methods=["POST"]),
        ]

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        return self._error(status, _CODES.get(status, "ERROR"), message, retry_after=retry_after)

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.world.primary.api_key}

    def dot_targets(self) -> list[Sniper]:
        """The two targets the ``dot_ids`` knob adds (made once, from no random draw, so
        the seeded world stays the same)."""
        if not self._dots:
            now = float(int(self.ctx.clock.now()))
            for i, target_id in enumerate(DOT_IDS):
                self._dots[target_id] = self.world.detached(target_id, "AAPL", now, seq=-1 - i)
        return list(self._dots.values())

    def target_count(self) -> int:
        return len(self.world.primary.by_id)

    def admin(self, command: str, args: dict[str, Any]) -> Any:
        """``fire`` / ``expire`` {target_id}; ``create`` {ticker, duration_minutes,
        start_in_s?}; ``target`` {target_id} (any owner); ``foreign_target`` (an id owned
        by another user, for the 404 case)."""
        world, now = self.world, self.ctx.clock.now()
        if command == "foreign_target":
            return {"target_id": self.world.other.newest_first()[0].target_id}
        if command == "create":
            start_in = float(args.get("start_in_s", 0) or 0)
            try:
                sniper = world.create(
                    world.primary,
                    now,
                    ticker=str(args["ticker"]),
                    start=now + start_in if start_in > 0 else None,
                    end=None,
                    duration_min=int(args.get("duration_minutes", 60)),
                    form_types=args.get("form_types"),
                    webhook_url=args.get("webhook_url"),
                )
            except WorldError as exc:
                raise ValueError(f"{exc.status} {exc.code}: {exc.message}") from None
            return world.row(sniper)
        if command in ("fire", "expire", "target"):
            target_id = str(args["target_id"])
            try:
                _, sniper = world.find(target_id)
                if command == "fire":
                    world.fire(target_id, now)
                elif command == "expire":
                    world.expire(target_id, now)
            except KeyError:
                raise AdminError(f"no sniper target {target_id!r}") from None
            return world.row(sniper)
        return super().admin(command, args)

    # ----- HTTP ----------------------------------------------------------------------
    def _error(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        extra: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Response:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = _retry_after(retry_after)
        body: dict[str, Any] = {"error": {"code": code, "message": message, **(extra or {})}}
        if self.ctx.knobs.echo_secret:
            # A careless vendor quoting what it was sent: the key in its words, and the
            # request's headers beside the error.
            echoed = self.world.primary.api_key if key is None else key
            body["error"]["message"] = f"{message} (API key {echoed})"
            body["request"] = {"headers": {"X-API-Key": echoed}, "query": f"apiKey={echoed}"}
        return JSONResponse(body, status_code=status, headers=headers)

    def _guard(self, request: Request) -> Account | Response:
        """The caller's account, or the 401/429 answer (limits are per API key)."""
        key = request.headers.get("x-api-key") or request.query_params.get("apiKey")
        account = self.world.accounts_by_key.get(key or "")
        if account is None:
            self.ctx.count("401")
            return self._error(401, "UNAUTHORIZED", "Missing or invalid API key", key=key or "")
        bucket = self._limits.get(account.api_key)
        if bucket is None:
            bucket = self._limits[account.api_key] = self.ctx.rate_limit(RATE_LIMIT, RATE_WINDOW_S)
        wait = bucket.take()
        if wait is not None:
            self.ctx.count("429")
            return self._error(
                429,
                "RATE_LIMITED",
                f"Rate limit exceeded: {RATE_LIMIT} requests per minute per API key",
                retry_after=wait,
            )
        return account

    async def _list(self, request: Request) -> Response:
        account = self._guard(request)
        if isinstance(account, Response):
            return account
        self.ctx.count("list")
        query = request.query_params
        try:
            limit = _int_param(query.get("limit"), "limit", 50, 1, 200)
            offset = _int_param(query.get("offset"), "offset", 0, 0, None)
        except ValueError as exc:
            return self._error(400, "VALIDATION_ERROR", str(exc))
        status = query.get("status")
        if status is not None and status.upper() not in STATUSES:
            return self._error(
                400, "VALIDATION_ERROR", f"status must be one of {', '.join(STATUSES)}"
            )
        knobs = self.ctx.knobs
        if 0 < knobs.failing_pages_from <= offset:  # a page past the first failing
            return self._error(500, "INTERNAL_ERROR", "internal error")
        raw_ticker = query.get("ticker") or ""
        ticker = canonical_ticker(_ESCAPES.sub("", raw_ticker)) if raw_ticker else None
        listed = account.newest_first()
        if knobs.dot_ids and account is self.world.primary:
            listed = self.dot_targets() + listed
        if account is self.world.primary:
            listed = self._quirks.listed(knobs, listed, account, self.ctx.clock.now())
        matches = (
            listed
            if status is None and ticker is None
            else [
                s
                for s in listed
                if (status is None or s.status == status.upper())
                and (ticker is None or s.ticker == ticker)
            ]
        )
        bad = self._bad_row_target(account) if knobs.bad_row else None
        page, total = page_of(knobs, matches, offset, limit)
        rows = [self._row(s, bad) for s in page]
        if knobs.endless_pages:
            # Past the real targets, fresh rows forever: every page full, always more.
            start = max(offset, total)
            rows += [self._phantom(i) for i in range(start, start + limit - len(rows))]
            total = offset + 2 * limit
        available, slots_total = self._slots(account)
        meta: dict[str, Any] = {"slots_available": available}
        if not knobs.documented_meta:  # ours, where the docs are silent ([GAP])
            meta |= {"slots_total": slots_total, "total": total}
        return JSONResponse({"targets": rows, "meta": meta})

    def _slots(self, account: Account) -> tuple[int, int]:
        """Free slots and the plan's, as answers tell them (the ``plan_slots`` knob: a plan
        smaller than its ACTIVE targets, its free slots negative)."""
        plan = self.ctx.knobs.plan_slots
        if plan > 0:
            return plan - account.active, plan
        return account.slots_available, account.slots_total

    def _row(self, sniper: Sniper, bad: Sniper | None) -> dict[str, Any]:
        """One list row, as the knobs make it (``bad``: the row the bad_row knob breaks)."""
        knobs = self.ctx.knobs
        row = self.world.row(sniper, knobs.unknown_status_rate)
        if sniper is bad:
            row["status"] = IMPOSSIBLE_STATUS
        if knobs.escape_names:
            row["ticker"] = f"{ESCAPE_PREFIX}{row['ticker']}{ESCAPE_SUFFIX}"
        return row

    def _bad_row_target(self, account: Account) -> Sniper | None:
        """The newest ACTIVE target: the one whose row the ``bad_row`` knob breaks."""
        return next((s for s in account.newest_first() if s.status == ACTIVE), None)

    def _phantom(self, index: int) -> dict[str, Any]:
        """Row ``index`` of the endless list: a STOPPED target no world holds."""
        at = float(int(self.ctx.clock.now())) - 86400 - index
        return {
            "target_id": f"tgt_endless{index:09d}",
            "ticker": "AAPL",
            "status": STOPPED,
            "start_time": self.ctx.clock.iso(at - 3600),
            "end_time": self.ctx.clock.iso(at),
            "form_types": None,
            "webhook_url": None,
            "created_at": self.ctx.clock.iso(at - 3600),
            "filing_uuid": None,
            "resolution_reason": WINDOW_EXPIRED,
            "last_event": None,
            "stopped_at": self.ctx.clock.iso(at),
        }

    async def _create(self, request: Request) -> Response:
        account = self._guard(request)
        if isinstance(account, Response):
            return account
        self.ctx.count("create")
        try:
            body = await request.json()
        except ValueError:
            return self._error(400, "BAD_REQUEST", "Request body must be JSON")
        try:
            fields = _create_fields(body)
            sniper = self.world.create(account, self.ctx.clock.now(), **fields)
        except ValueError as exc:
            return self._error(400, "VALIDATION_ERROR", str(exc))
        except WorldError as exc:
            return self._error(exc.status, exc.code, exc.message, extra=exc.extra)
        row = self.world.row(sniper)
        return JSONResponse({**row, "slots_available": account.slots_available}, 201)

    async def _stop(self, request: Request) -> Response:
        account = self._guard(request)
        if isinstance(account, Response):
            return account
        self.ctx.count("stop")
        target_id = request.path_params["target_id"]
        now = self.ctx.clock.now()
        if self.ctx.knobs.dot_ids and target_id in self._dots and account is self.world.primary:
            dot = self._dots[target_id]
            self.world.stop_detached(dot, now)
            sniper = dot
        else:
            found = self.world.stop(account, target_id, now)
            if found is None:
                self.ctx.count("404")
                return self._error(404, "NOT_FOUND", f"Sniper target {target_id} not found")
            sniper = found
        body = self.world.stop_body(account, sniper)
        return JSONResponse({**body, "slots_available": self._slots(account)[0]})


def _retry_after(seconds: float) -> str:
    """Whole seconds as HTTP writes them; fractional only for windows scaled below 1 s."""
    return str(math.ceil(seconds)) if seconds >= 1 else f"{seconds:.3f}"


def _int_param(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bound}")
    return value


def _create_fields(body: Any) -> dict[str, Any]:
    """Validate a create body into :meth:`FinRadarWorld.create` arguments (ValueError: 400)."""
    if not isinstance(body, dict):
        raise ValueError("Request body must be a JSON object")
    ticker = body.get("ticker")
    if not isinstance(ticker, str) or not ticker.strip():
        raise ValueError("ticker is required")
    duration = body.get("duration_minutes")
    if duration is not None and body.get("end_time") is not None:
        raise ValueError("duration_minutes and end_time are mutually exclusive")
    if duration is not None and (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 1 <= duration <= MAX_DURATION_MIN
    ):
        raise ValueError(f"duration_minutes must be an integer between 1 and {MAX_DURATION_MIN}")
    forms = body.get("form_types")
    if forms is not None and (
        not isinstance(forms, list) or not all(isinstance(f, str) and f for f in forms)
    ):
        raise ValueError("form_types must be a list of form type strings or null")
    webhook = body.get("webhook_url")
    if webhook is not None and (
        not isinstance(webhook, str) or not webhook.startswith(("https://", "http://"))
    ):
        raise ValueError("webhook_url must be an http(s) URL or null")
    return {
        "ticker": ticker,
        "start": _time_field(body, "start_time"),
        "end": _time_field(body, "end_time"),
        "duration_min": duration,
        "form_types": forms,
        "webhook_url": webhook,
    }


def _time_field(body: dict[str, Any], name: str) -> float | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError(f"{name} must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be an ISO-8601 string") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
