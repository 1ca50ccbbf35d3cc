"""Simulated PipAI Strategies, generation A ("signed v1"), as CONTRACTS.md section 3 reads.

An independent implementation of the contract (nothing from ``console.venues``):

* ``GET /v1/strategies`` (weight 2; ``status``, ``template_id``, ``limit`` 1–100 default
  20, opaque ``cursor`` = base64url of ``{"created_at": ...}``; newest first),
  ``GET /v1/strategies/{id}`` (1), ``POST .../pause`` (5; ``close_positions``),
  ``POST .../deploy`` (10; from draft or paused). No stop endpoint (Project decision 3).
* Every request HMAC-signed (see :mod:`console.sim.pipai.auth`); errors are
  ``{"code", "message"}``; 1,200 weight per rolling 60 s per key [INF] answered with
  ``429 RATE_LIMITED`` and ``Retry-After``.
* Pause with ``close_positions`` writes the ``position_closed`` events on the status
  WebSocket before the HTTP response goes out.
* World commands (``/_sim/admin/<command>``): ``strategies``, ``set_status``,
  ``set_positions``, ``tick``, ``add_key``, ``expire_key``, ``auth``, ``subscribers``.
* Hostile knobs ``endless_pages``, ``repeat_pages``, ``duplicate_id``, ``echo_secret``,
  ``bad_row``, ``dot_ids``,
  ``escape_names``: see :mod:`console.sim.pipai.hostile`.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from console.sim.kit.context import SimRateLimit, VendorContext
from console.sim.kit.vendor import AdminError, VendorSim
from console.sim.pipai.auth import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WS_PATH,
    ApiKey,
    AuthFailure,
    Keyring,
)
from console.sim.pipai.hostile import (
    EchoingError,
    bad_row_id,
    dot_rows,
    endless_page,
    escaped,
    list_body,
    repeated_page,
    with_twin,
)
from console.sim.pipai.stream import Hub
from console.sim.pipai.world import STATUSES, ParamError, PipAIWorld, StateError

WEIGHT_BUDGET = 1200
WEIGHT_WINDOW_S = 60.0

_CODES = {
    400: "INVALID_PARAMETER",
    401: "INVALID_SIGNATURE",
    403: "INSUFFICIENT_PERMISSION",
    404: "NOT_FOUND",
    409: "INVALID_STATE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",  # [INF] not in the documented table
}

Handler = Callable[[Request, ApiKey, bytes], Awaitable[Response]]


def retry_after_header(seconds: float) -> str:
    """Whole seconds as HTTP wants; sub-second (scaled test windows) with ms precision."""
    return str(math.ceil(seconds)) if seconds >= 1 else f"{max(seconds, 0.001):.3f}"


class PipAISim(VendorSim[PipAIWorld]):
    api = "pipai"
    world_type = PipAIWorld
    list_paths = ("/v1/strategies",)
    ws_path = WS_PATH

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.keyring = Keyring()
        self.demo_key = self.keyring.new_key(random.Random(f"{ctx.seed}:pipai:credentials"))
        self._keys_rng = random.Random(f"{ctx.seed}:pipai:extra-keys")
        self.hub = Hub(ctx, self.world, self.keyring)
        self.world.emit = self.hub.publish
        self._buckets: dict[str, SimRateLimit] = {}

    # ----- VendorSim ----------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/strategies", self._signed("list", 2, None, self._list), methods=["GET"]),
            Route("/v1/strategies/{id}", self._signed("get", 1, None, self._get), methods=["GET"]),
            Route(
                "/v1/strategies/{id}/pause",
                self._signed("pause", 5, "trade", self._pause),
                methods=["POST"],
            ),
            Route(
                "/v1/strategies/{id}/deploy",
                self._signed("deploy", 10, "trade", self._deploy),
                methods=["POST"],
            ),
            WebSocketRoute(WS_PATH, self.hub.serve),
            Route(
                "/v1/{rest:path}",
                self._no_such_endpoint,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        return self._error(status, _CODES.get(status, "INTERNAL_ERROR"), message, retry_after)

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.demo_key.key, "api_secret": self.demo_key.secret}

    def target_count(self) -> int:
        return len(self.world.strategies)

    # ----- plumbing -----------------------------------------------------------------
    def _error(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> Response:
        headers = {"Retry-After": retry_after_header(retry_after)} if retry_after else None
        if self.ctx.knobs.echo_secret:
            return EchoingError(status, code, message, headers, self.keyring)
        return JSONResponse({"code": code, "message": message}, status, headers=headers)

    def _bucket(self, key: ApiKey) -> SimRateLimit:
        bucket = self._buckets.get(key.key)
        if bucket is None:
            bucket = self._buckets[key.key] = self.ctx.rate_limit(WEIGHT_BUDGET, WEIGHT_WINDOW_S)
        return bucket

    def _signed(
        self, name: str, weight: int, permission: str | None, handler: Handler
    ) -> Callable[[Request], Awaitable[Response]]:
        """Check signature, scope and the per-key weight budget, then run ``handler``.

        ``arrived:<name>`` counts requests that reached the app (tests check that a
        timed-out call was never re-sent); ``<name>`` counts those the handler ran.
        """

        async def endpoint(request: Request) -> Response:
            self.ctx.count(f"arrived:{name}")
            try:
                body = await request.body()
            except ClientDisconnect:
                self.ctx.count("client_gone")  # nobody is left to read an answer
                return Response(status_code=499)
            raw_path = request.scope.get("raw_path") or request.url.path.encode()
            query = request.scope.get("query_string", b"")
            target = raw_path.decode("latin-1")
            if query and self.ctx.knobs.sign_query:  # the [GAP] read one way or the other
                target += "?" + query.decode("latin-1")
            headers = request.headers
            try:
                key = self.keyring.verify(
                    headers.get(KEY_HEADER),
                    headers.get(TIMESTAMP_HEADER),
                    headers.get(SIGNATURE_HEADER),
                    request.method,
                    target,
                    body,
                )
                if permission:
                    Keyring.require(key, permission)
            except AuthFailure as exc:
                self.ctx.count("auth_failed")
                return self._error(exc.status, exc.code, exc.message)
            wait = self._bucket(key).take(weight)
            if wait is not None:
                self.ctx.count("429")
                return self._error(
                    429,
                    "RATE_LIMITED",
                    f"Rate limit exceeded: {WEIGHT_BUDGET} weight per "
                    f"{WEIGHT_WINDOW_S * self.ctx.knobs.rate_scale:g} s for this API key",
                    wait,
                )
            try:
                return await handler(request, key, body)
            except ParamError as exc:
                return self._error(400, "INVALID_PARAMETER", str(exc))
            except StateError as exc:
                return self._error(409, "INVALID_STATE", str(exc))

        return endpoint

    def _json(self, data: Any) -> Response:
        return JSONResponse(data)

    def _strategy_json(self, sid: str) -> dict[str, Any]:
        item = self.world.strategies[sid].as_json(self.ctx.knobs.unknown_status_rate)
        if self.ctx.knobs.escape_names:
            item["name"] = escaped(item["name"])
        return item

    async def _no_such_endpoint(self, request: Request) -> Response:
        return self._error(
            404, "NOT_FOUND", f"No such endpoint: {request.method} {request.url.path}"
        )

    def _missing(self, sid: str) -> Response | None:
        if sid in self.world.strategies:
            return None
        return self._error(404, "NOT_FOUND", f"Strategy {sid} not found")

    # ----- endpoints ----------------------------------------------------------------
    async def _list(self, request: Request, key: ApiKey, body: bytes) -> Response:
        self.ctx.count("list")
        q = request.query_params
        limit_raw = q.get("limit", "20")
        if not limit_raw.isdigit() or not 1 <= int(limit_raw) <= 100:
            raise ParamError("limit must be an integer between 1 and 100")
        status = q.get("status")
        if status is not None and status not in STATUSES:
            raise ParamError(f"status must be one of {', '.join(STATUSES)}")
        knobs = self.ctx.knobs
        next_cursor: str | None
        if knobs.endless_pages:
            data, next_cursor = endless_page(
                self.world, int(limit_raw), q.get("cursor"), knobs.unknown_status_rate
            )
        elif knobs.repeat_pages:
            data, next_cursor = repeated_page(
                self.world, int(limit_raw), q.get("cursor"), knobs.unknown_status_rate
            )
        else:
            data, next_cursor = self.world.page(
                limit=int(limit_raw),
                cursor=q.get("cursor"),
                status=status,
                template_id=q.get("template_id"),
                unknown_status_rate=knobs.unknown_status_rate,
            )
            unfiltered = status in (None, "deployed") and q.get("template_id") is None
            if knobs.dot_ids and next_cursor is None and unfiltered:
                data.extend(dot_rows(self.world))
            if knobs.duplicate_id:
                data = with_twin(self.world, data)
        if knobs.escape_names:
            for item in data:
                item["name"] = escaped(item["name"])
        bad = bad_row_id(self.world) if knobs.bad_row else None
        return Response(list_body(data, next_cursor, bad), media_type="application/json")

    async def _get(self, request: Request, key: ApiKey, body: bytes) -> Response:
        self.ctx.count("get")
        sid = request.path_params["id"]
        return self._missing(sid) or self._json(self._strategy_json(sid))

    async def _pause(self, request: Request, key: ApiKey, body: bytes) -> Response:
        self.ctx.count("pause")
        sid = request.path_params["id"]
        if (missing := self._missing(sid)) is not None:
            return missing
        args = _body_object(body)
        close = args.get("close_positions", False)
        if not isinstance(close, bool):
            raise ParamError("close_positions must be a boolean")
        self.world.pause(sid, close)
        if close:
            # Documented: the position_closed events go out before this response.
            await self.hub.flush()
        return self._json(self._strategy_json(sid))

    async def _deploy(self, request: Request, key: ApiKey, body: bytes) -> Response:
        self.ctx.count("deploy")
        sid = request.path_params["id"]
        if (missing := self._missing(sid)) is not None:
            return missing
        args = _body_object(body)
        capital = args.get("capital")
        leverage = args.get("leverage")
        if capital is not None and not _is_decimal_string(capital):
            raise ParamError("capital must be a decimal string")
        if leverage is not None and (
            not isinstance(leverage, int) or isinstance(leverage, bool) or not 1 <= leverage <= 20
        ):
            raise ParamError("leverage must be an integer between 1 and 20")
        if not isinstance(args.get("dry_run", False), bool):
            raise ParamError("dry_run must be a boolean")
        self.world.deploy(sid, capital=capital, leverage=leverage)
        return self._json(self._strategy_json(sid))

    # ----- world commands -----------------------------------------------------------
    def admin(self, command: str, args: dict[str, Any]) -> Any:
        world = self.world
        if command == "strategies":
            wanted = args.get("status")
            return [
                {
                    "id": s.id,
                    "name": s.name,
                    "status": s.status,
                    "open_positions": len(s.positions),
                }
                for s in world.newest_first
                if wanted is None or s.status == wanted
            ]
        if command == "set_status":
            if args["status"] not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}")
            world.set_status(args["id"], args["status"], str(args.get("message", "")))
            return self._strategy_json(args["id"])
        if command == "set_positions":
            world.set_positions(args["id"], int(args["count"]))
            return self._strategy_json(args["id"])
        if command == "tick":
            before = self.ctx.counters.get("ws_events", 0)
            for _ in range(int(args.get("times", 1))):
                world.tick(self.ctx.clock.now(), float(args.get("seconds", 1.0)))
            return {"ws_events": self.ctx.counters.get("ws_events", 0) - before}
        if command == "add_key":
            key = self.keyring.new_key(self._keys_rng, str(args.get("permission", "trade")))
            return {"api_key": key.key, "api_secret": key.secret, "permission": key.permission}
        if command == "expire_key":
            self.keyring.keys[str(args.get("api_key", self.demo_key.key))].expired = True
            return {"expired": True}
        if command == "auth":
            ring = self.keyring
            ring.window_s = float(args.get("window_s", ring.window_s))
            ring.stale_code = str(args.get("stale_code", ring.stale_code))
            self.hub.auth_timeout_s = float(args.get("ws_auth_timeout_s", self.hub.auth_timeout_s))
            return {
                "window_s": ring.window_s,
                "stale_code": ring.stale_code,
                "ws_auth_timeout_s": self.hub.auth_timeout_s,
            }
        if command == "subscribers":
            return {"subscribers": len(self.hub.subscribers)}
        raise AdminError(f"pipai simulator has no admin command {command!r}")


def _body_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise ParamError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ParamError("request body must be a JSON object")
    return value


def _is_decimal_string(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False
