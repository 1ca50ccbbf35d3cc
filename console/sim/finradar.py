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

No stream: the Socket.IO channels are out of the console's scope (Project decision 5).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.sim.context import SimRateLimit, VendorContext
from console.sim.finradar_world import (
    MAX_DURATION_MIN,
    Account,
    SniperWorld,
    WorldError,
    canonical_ticker,
)
from console.sim.vendor import AdminError, VendorSim

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


class FinRadarSim(VendorSim):
    """FinRadar's Sniper module: list, create and stop sniper targets of one API key."""

    api = "finradar"
    list_paths = ("/api/v1/sniper/targets",)

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.world = SniperWorld(ctx.rng, ctx.clock.now(), ctx.scale, ctx.clock.iso)
        self._limits: dict[str, SimRateLimit] = {}
        ctx.on_tick(self.world.tick)

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
    ) -> Response:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = _retry_after(retry_after)
        body = {"error": {"code": code, "message": message, **(extra or {})}}
        return JSONResponse(body, status_code=status, headers=headers)

    def _guard(self, request: Request) -> Account | Response:
        """The caller's account, or the 401/429 answer (limits are per API key)."""
        key = request.headers.get("x-api-key") or request.query_params.get("apiKey")
        account = self.world.accounts_by_key.get(key or "")
        if account is None:
            self.ctx.count("401")
            return self._error(401, "UNAUTHORIZED", "Missing or invalid API key")
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
        ticker = canonical_ticker(query["ticker"]) if query.get("ticker") else None
        matches = [
            s
            for s in account.newest_first()
            if (status is None or s.status == status.upper())
            and (ticker is None or s.ticker == ticker)
        ]
        rate = self.ctx.knobs.unknown_status_rate
        rows = [self.world.row(s, rate) for s in matches[offset : offset + limit]]
        meta = {
            "slots_available": account.slots_available,
            "slots_total": account.slots_total,
            "total": len(matches),
        }
        return JSONResponse({"targets": rows, "meta": meta})

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
        sniper = self.world.stop(account, target_id, self.ctx.clock.now())
        if sniper is None:
            self.ctx.count("404")
            return self._error(404, "NOT_FOUND", f"Sniper target {target_id} not found")
        return JSONResponse(self.world.stop_body(account, sniper))


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
    """Validate a create body into :meth:`SniperWorld.create` arguments (ValueError: 400)."""
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
