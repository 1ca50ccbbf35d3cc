"""Simulated 55-tech MM API: one trading engine per client API key.

An independent reading of CONTRACTS.md section 1 and Project decision 1 (nothing here
imports ``console.venues``):

* ``GET /api/v1/trading/status`` and ``POST /api/v1/trading/{pause,resume,stop,start}``
  behind ``X-API-Key`` (a UUID); a missing, malformed, unknown or revoked key, or the
  wrong header, is ``401 {"detail": "Invalid or missing API key"}``.
* Control answers are the status fields plus ``result`` (``pause_applied``,
  ``already_paused``, ``stop_applied``, ``already_stopped``, ``start_applied``,
  ``resume_applied``, ``start_required``, ``already_live``). With the
  ``conflict_mode`` knob a repeat is ``409 {"detail": ...}`` instead.
* An optional JSON body ``{"reason": "..."}`` is recorded; other bodies are FastAPI
  style ``422`` validation errors.
* 2,000 requests per minute per key, else ``429 {"detail": ...}`` (no headers: the
  vendor documents none).
* ``/ws/subscribe``: ``426`` over plain HTTP, the subscription protocol over WebSocket
  (see :mod:`console.sim.fiftyfive.ws`).

Hostile knobs (docs/EMERGENCY.md, "Hostile venues"; the generic list ones live in
:mod:`console.sim.kit.faults`):

* ``duplicate_slug``: every key's answers carry the first engine's ``client`` slug (each
  key still controls its own engine);
* ``revoked_keys`` = N: the first N keys (in credentials order) are refused ``401``, on
  REST and on the stream;
* ``failing_status_keys`` = N: the first N keys' status reads answer ``500`` (their
  control calls are carried out and answered as usual: a status endpoint broken for
  some clients);
* ``echo_secret``: error answers quote the ``X-API-Key`` they were sent (and the stream's
  error frames the key of the subscribe frame);
* ``bad_row``: the last key's status (and control) answers carry an impossible
  ``manualStopped`` (``"perhaps"``);
* ``escape_names``: every ``clientName`` carries terminal escape sequences (clear
  screen, a window title, colours);
* ``echo_other``: a control answer names another client (``-other`` appended; the call
  is carried out);
* ``refuse_bodies``: a control call carrying any body is refused ``422`` (the reference
  shows none);
* ``ignore_controls``: a control call is answered as carried out (its ``result`` and
  the flags it would set), then the engine's manual flags are put back: under a global
  block, whose status word already reads stopped or paused, only the flags tell.

Admin commands: ``emergency``, ``system_stop``, ``soft_pause`` (``{"active", "reason"}``),
``revoke_key`` / ``restore_key`` (``{"client"}``), ``place_orders``
(``{"client", "count"}``), ``fill_orders`` (``{"client"}``), ``tick`` (``{"dt"}``),
``engines`` and ``subscriptions``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from console.sim.fiftyfive.world import RATE_LIMIT, Engine, FiftyFiveWorld
from console.sim.fiftyfive.ws import Hub
from console.sim.kit.context import VendorContext
from console.sim.kit.vendor import AdminError, VendorSim

AUTH_DETAIL = "Invalid or missing API key"
VERBS = ("pause", "resume", "stop", "start")
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_CONFLICT_DETAIL = {
    "already_paused": "Trading is already paused for this client",
    "already_stopped": "Trading is already stopped for this client",
    "already_live": "Trading is already live for this client",
}
# What `escape_names` wraps every client name in: clear screen, retitle the terminal,
# red text, then reset.
ESCAPED_NAME = "\x1b[2J\x1b]0;pwned\x07\x1b[31m{name}\x1b[0m"
# The impossible value `bad_row` puts in one key's answers.
BAD_ROW_FIELD = ("manualStopped", "perhaps")
_FLAG_COMMANDS = {
    "emergency": "emergency",
    "system_stop": "system_stop",
    "soft_pause": "soft_pause",
}


class FiftyFiveSim(VendorSim[FiftyFiveWorld]):
    api = "55tech"
    world_type = FiftyFiveWorld
    list_paths = ("/api/v1/trading/status",)
    ws_path = "/ws/subscribe"

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.hub = Hub(ctx, self.world)
        self.world.emit = self.hub.broadcast_orders

    # ----- VendorSim ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        return [
            Route("/api/v1/trading/status", self._status, methods=_ALL_METHODS),
            Route("/api/v1/trading/{verb}", self._control, methods=_ALL_METHODS),
            Route("/ws/subscribe", self._upgrade_required, methods=_ALL_METHODS),
            WebSocketRoute("/ws/subscribe", self.hub.serve),
            Route("/{path:path}", self._not_found, methods=_ALL_METHODS),
        ]

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        # FastAPI's envelope. 55-tech documents no Retry-After or X-RateLimit headers.
        return JSONResponse({"detail": message}, status_code=status)

    def credentials(self) -> dict[str, str]:
        return {"api_keys": ",".join(e.key for e in self.world.engines)}

    def target_count(self) -> int:
        return len(self.world.engines)

    def admin(self, command: str, args: dict[str, Any]) -> Any:
        if command in _FLAG_COMMANDS:
            old = self.world.set_flag(command, bool(args.get("active", True)), args.get("reason"))
            if old:
                self.hub.broadcast_emergency(old)
            return self.world.flags.fields(self.ctx.clock.now())
        if command in ("revoke_key", "restore_key"):
            engine = self._engine_arg(args)
            engine.revoked = command == "revoke_key"
            return {"client": engine.client, "revoked": engine.revoked}
        if command == "place_orders":
            engine = self._engine_arg(args)
            ids = []
            for _ in range(int(args.get("count", 1))):
                order = self.world.place_order(engine)
                self.hub.broadcast_orders(engine, "INSERT", order.payload(), {})
                ids.append(order.order_id)
            return {"client": engine.client, "orders": ids}
        if command == "fill_orders":
            engine = self._engine_arg(args)
            filled = []
            for order in list(engine.orders.values()):
                if order.status == "PLACED":
                    old = self.world.fill_order(order)
                    self.hub.broadcast_orders(engine, "UPDATE", order.payload(), old)
                    filled.append(order.order_id)
            return {"client": engine.client, "filled": filled}
        if command == "tick":
            self.world.tick(self.ctx.clock.now(), float(args.get("dt", 1.0)))
            return {"ok": True}
        if command == "engines":
            rate = self.ctx.knobs.unknown_status_rate
            return [
                {"client": e.client, "clientName": e.name, "status": self.world.status_of(e, rate)}
                for e in self.world.engines
            ]
        if command == "subscriptions":
            return {c: len(subs) for c, subs in self.hub.by_client.items() if subs}
        raise AdminError(f"55tech simulator has no admin command {command!r}")

    def _engine_arg(self, args: dict[str, Any]) -> Engine:
        client = args["client"]
        engine = self.world.by_client.get(client)
        if engine is None:
            raise KeyError(f"no client {client!r}")
        return engine

    # ----- HTTP handlers ---------------------------------------------------------------
    def _authenticate(self, request: Request) -> Engine | Response:
        """The caller's engine, or the vendor's 401 / 429 answer."""
        raw = request.headers.get("x-api-key")
        try:
            engine = self.world.by_key.get(str(uuid.UUID(raw or "")))
        except ValueError:
            engine = None
        if engine is None or engine.revoked or engine.index < self.ctx.knobs.revoked_keys:
            self.ctx.count("401")
            return self._refuse(request, 401, AUTH_DETAIL)
        if engine.bucket.take() is not None:
            self.ctx.count("429")
            return self._refuse(
                request, 429, f"Rate limit exceeded: {RATE_LIMIT} requests per minute per API key"
            )
        return engine

    def _refuse(self, request: Request, status: int, message: str) -> Response:
        """An error answer; under ``echo_secret`` it quotes the key it was sent, as the
        careless servers seen in the wild do."""
        if self.ctx.knobs.echo_secret:
            raw = request.headers.get("x-api-key") or ""
            message = f"{message}: key {raw} (X-API-Key={raw})" if raw else message
        return self.error_response(status, message)

    def _status_body(self, engine: Engine) -> dict[str, Any]:
        """The engine's status answer, bent by the hostile knobs."""
        knobs = self.ctx.knobs
        body = self.world.status_body(engine, knobs.unknown_status_rate)
        if knobs.duplicate_slug:
            body["client"] = self.world.engines[0].client
        if knobs.escape_names:
            body["clientName"] = ESCAPED_NAME.format(name=body["clientName"])
        if knobs.bad_row and engine is self.world.engines[-1]:
            field, value = BAD_ROW_FIELD
            body[field] = value
        return body

    async def _status(self, request: Request) -> Response:
        if request.method != "GET":
            return self._refuse(request, 405, "Method Not Allowed")
        engine = self._authenticate(request)
        if isinstance(engine, Response):
            return engine
        if engine.index < self.ctx.knobs.failing_status_keys:
            self.ctx.count("500")
            return self.error_response(500, "Internal Server Error")
        self.ctx.count("status")
        return JSONResponse(self._status_body(engine))

    async def _control(self, request: Request) -> Response:
        verb = request.path_params["verb"]
        if verb not in VERBS:
            return self._refuse(request, 404, "Not Found")
        if request.method != "POST":
            return self._refuse(request, 405, "Method Not Allowed")
        engine = self._authenticate(request)
        if isinstance(engine, Response):
            return engine
        try:
            raw = await request.body()
        except ClientDisconnect:
            # The caller gave up waiting (a timeout on its side), but the request did
            # reach the venue: act on it anyway, as a real server would.
            self.ctx.count("control_after_disconnect")
            raw = b""
        if raw.strip() and self.ctx.knobs.refuse_bodies:
            return _invalid(["body"], "No body expected", "extra_forbidden")
        reason = _reason(
            raw, request.headers.get("x-api-key") if self.ctx.knobs.echo_secret else None
        )
        if isinstance(reason, Response):
            return reason
        self.ctx.count(f"control_{verb}")
        kept = _manual_flags(engine) if self.ctx.knobs.ignore_controls else None
        result = self.world.control(engine, verb, reason)
        if self.ctx.knobs.conflict_mode and result in _CONFLICT_DETAIL:
            return self._refuse(request, 409, _CONFLICT_DETAIL[result])
        body = {**self._status_body(engine), "result": result}
        if self.ctx.knobs.echo_other:  # an answer naming another client (the call is done)
            body["client"] = f"{body['client']}-other"
        if kept is not None:
            _put_back(engine, kept)
        return JSONResponse(body)

    async def _upgrade_required(self, request: Request) -> Response:
        return self._refuse(request, 426, "Upgrade Required: use a WebSocket client")

    async def _not_found(self, request: Request) -> Response:
        return self._refuse(request, 404, "Not Found")


_MANUAL = ("manual_paused", "paused_at", "pause_reason", "manual_stopped", "stopped_at",
           "stop_reason")  # fmt: skip


def _manual_flags(engine: Engine) -> dict[str, Any]:
    return {name: getattr(engine, name) for name in _MANUAL}


def _put_back(engine: Engine, kept: dict[str, Any]) -> None:
    for name, value in kept.items():
        setattr(engine, name, value)


def _reason(body: bytes, echo: str | None = None) -> str | Response | None:
    """The optional ``{"reason": "..."}`` body, or FastAPI's 422 validation answer (which
    quotes ``echo``, the caller's key, under ``echo_secret``)."""
    if not body.strip():
        return None
    try:
        data = json.loads(body)
    except ValueError as exc:
        return _invalid(["body", 0], f"JSON decode error: {exc}", "json_invalid", echo)
    if not isinstance(data, dict):
        return _invalid(["body"], "Input should be a valid dictionary", "dict_type", echo)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        return _invalid(["body", "reason"], "Input should be a valid string", "string_type", echo)
    return reason or None


def _invalid(loc: list[str | int], msg: str, kind: str, echo: str | None = None) -> Response:
    error: dict[str, Any] = {"loc": loc, "msg": msg, "type": kind}
    if echo:
        error["msg"] = f"{msg} (request from key {echo})"
        error["input"] = {"headers": {"x-api-key": echo}}
    return JSONResponse({"detail": [error]}, status_code=422)
