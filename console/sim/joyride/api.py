"""Simulated Joyride exchange: market data and the admin kill switch, under ``/api/v1``.

Paths (CONTRACTS.md section 4): ``GET /v1/market/instruments`` (documented shape, no
``paused`` field), ``GET /v1/market/ticker/{id}``, ``GET /v1/market/config``,
``GET /v1/oracle/settlement``, and the admin routes ``POST
/v1/admin/instruments/pause-by-expiration``, ``/v1/admin/create-instruments`` and
``/v1/admin/settle`` behind ``Authorization: Bearer <ADMIN_TOKEN>``.

Choices where the docs are silent ([GAP], see docs/venues/joyride.md): REST errors use
``{"error": <code>, "message": <text>}``; a missing or wrong token is ``401
unauthorized``; a malformed body is ``422 validation_error`` with ``details``; no REST
rate limit is enforced unless a test switches one on with the ``rate_limit`` admin
command (then ``429 rate_limited`` with ``Retry-After``). There is no WebSocket here: the
documented JSON-RPC stream carries no pause state, which is all the console watches.

Hostile knobs of this vendor (the generic ones live in ``faults.py``): ``bad_row`` (one
instrument expiring at 10^12), ``dot_ids`` (instruments ``.`` and ``..``),
``escape_names`` (terminal escapes in every asset symbol) change the list's body;
``echo_secret`` makes every error answer quote the admin token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.sim.joyride.world import ASSETS, ROUND_EPOCH_MS, JoyrideWorld, settlement_clock
from console.sim.kit.context import SimRateLimit, VendorContext
from console.sim.kit.vendor import AdminError, VendorSim

Endpoint = Callable[[Request], Awaitable[Response]]

_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class _Invalid(Exception):
    """A request body that fails validation: becomes a 422 with ``details``."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{d['field']}: {d['problem']}" for d in details))
        self.details = details


class JoyrideSim(VendorSim[JoyrideWorld]):
    api = "joyride"
    world_type = JoyrideWorld
    list_paths = ("/api/v1/market/instruments",)
    base_path = "/api"

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        digest = hashlib.sha256(f"{ctx.seed}:joyride:admin-token".encode()).hexdigest()
        self.admin_token = f"jr_admin_{digest[:40]}"
        self.admin_open = False  # ADMIN_TOKEN unset: development mode, routes open
        self.noop_pauses = False  # hostile (admin noop_pauses): answers counts, pauses nothing
        self.limit: SimRateLimit | None = None  # [GAP] no documented limit: off by default

    # ----- VendorSim -------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        v1 = f"{self.base_path}/v1"
        return [
            Route(f"{v1}/market/instruments", self._guard(self._instruments), methods=["GET"]),
            Route(f"{v1}/market/ticker/{{instrument_id}}", self._guard(self._ticker)),
            Route(f"{v1}/market/config", self._guard(self._config), methods=["GET"]),
            Route(f"{v1}/oracle/settlement", self._guard(self._settlement), methods=["GET"]),
            Route(
                f"{v1}/admin/instruments/pause-by-expiration",
                self._guard(self._pause, admin=True),
                methods=["POST"],
            ),
            Route(
                f"{v1}/admin/create-instruments",
                self._guard(self._create, admin=True),
                methods=["POST"],
            ),
            Route(f"{v1}/admin/settle", self._guard(self._settle, admin=True), methods=["POST"]),
        ]

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = _seconds(retry_after)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="joyride-admin"'
        code = _ERROR_CODES.get(status, "error")
        return JSONResponse(
            {"error": code, "message": self._echo(message)}, status, headers=headers
        )

    def _echo(self, message: str) -> str:
        """Under the ``echo_secret`` knob, an error message quotes the admin token, as a
        careless server logging its request back to the caller does."""
        if not self.ctx.knobs.echo_secret:
            return message
        return f"{message} (request authorised by {self.admin_token})"

    def credentials(self) -> dict[str, str]:
        return {"admin_token": self.admin_token}

    def target_count(self) -> int:
        return len(self.world.by_expiration)

    def admin(self, command: str, args: dict[str, Any]) -> Any:
        world = self.world
        if command == "open_admin":
            self.admin_open = bool(args.get("open", True))
            return {"open": self.admin_open}
        if command == "drift":
            return world.drift(
                int(args["expiration"]),
                int(args.get("missing", 0)),
                int(args.get("engine_already", 0)),
            )
        if command == "peek":
            return world.peek(int(args["expiration"]))
        if command == "expirations":
            return {"expirations": world.expirations()}
        if command == "rate_limit":
            if args.get("off"):
                self.limit = None
                return {"limit": None}
            self.limit = self.ctx.rate_limit(int(args["limit"]), float(args["window_s"]))
            return {"limit": self.limit.limit, "window_s": self.limit.window_s}
        if command == "settle_due":
            return {"settled": world.settle_due(self.ctx.clock.now())}
        if command == "noop_pauses":
            self.noop_pauses = bool(args.get("on", True))
            return {"noop_pauses": self.noop_pauses}
        raise AdminError(
            f"joyride simulator has no admin command {command!r}; known: open_admin, drift, "
            "peek, expirations, rate_limit, settle_due, noop_pauses"
        )

    # ----- plumbing ----------------------------------------------------------------
    def _guard(self, endpoint: Endpoint, *, admin: bool = False) -> Endpoint:
        """Rate bucket (when switched on), then the admin token check, then the handler."""

        async def guarded(request: Request) -> Response:
            if self.limit is not None:
                wait = self.limit.take()
                if wait is not None:
                    self.ctx.count("429")
                    return self.error_response(
                        429, "Too many requests; retry later", retry_after=wait
                    )
            if admin and not self._authorised(request):
                self.ctx.count("401")
                return self.error_response(401, "Missing or invalid admin token")
            try:
                return await endpoint(request)
            except ClientDisconnect:
                # The caller gave up (e.g. under the latency knob) before its body was read.
                self.ctx.count("client_gone")
                return Response(status_code=499)
            except _Invalid as exc:
                return JSONResponse(
                    {
                        "error": "validation_error",
                        "message": self._echo(str(exc)),
                        "details": exc.details,
                    },
                    422,
                )

        return guarded

    def _authorised(self, request: Request) -> bool:
        if self.admin_open:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.admin_token.encode()
        )

    # ----- market data -------------------------------------------------------------
    async def _instruments(self, request: Request) -> Response:
        knobs = self.ctx.knobs
        body = self.world.listing(
            knobs.unknown_status_rate,
            bad_row=knobs.bad_row,
            dot_ids=knobs.dot_ids,
            escape_names=knobs.escape_names,
        )
        return Response(body, media_type="application/json")

    async def _ticker(self, request: Request) -> Response:
        inst = self.world.find(request.path_params["instrument_id"])
        if inst is None:
            return self.error_response(404, "Instrument not found")
        return JSONResponse(self.world.ticker(inst, self.ctx.clock.now()))

    async def _config(self, request: Request) -> Response:
        return JSONResponse(
            {
                "round_duration_hours": 24,
                "round_epoch": ROUND_EPOCH_MS,
                "units": {"price_decimals": 6, "size_decimals": 3, "quote_asset": "USDC"},
            }
        )

    async def _settlement(self, request: Request) -> Response:
        return JSONResponse(settlement_clock(self.ctx.clock.now()))

    # ----- admin ---------------------------------------------------------------------
    async def _pause(self, request: Request) -> Response:
        body = await _Body.read(request)
        expiration = body.integer("expiration")
        paused = body.boolean("paused")
        body.done()
        self.ctx.count("pause_by_expiration")
        if self.noop_pauses:  # hostile: the answer of a change, and no change at all
            rows = len(self.world.by_expiration.get(expiration, ()))
            return JSONResponse({"expiration": expiration, "paused": paused, "db_updated": rows,
                                 "engine_updated": rows, "engine_missing": []})  # fmt: skip
        return JSONResponse(self.world.pause_by_expiration(expiration, paused))

    async def _create(self, request: Request) -> Response:
        body = await _Body.read(request)
        asset = body.word("asset")
        expiration = body.integer("expiration")
        spot = body.positive("spot_price")
        body.done()
        created = self.world.create_instruments(asset, expiration, spot)
        return JSONResponse({"asset": asset, "expiration": expiration, "created": created})

    async def _settle(self, request: Request) -> Response:
        body = await _Body.read(request)
        expiration = body.integer("expiration")
        twap = body.prices("twap_prices")
        following = body.integer("next_expiration") if "next_expiration" in body.data else None
        body.done()
        for asset in ASSETS:
            twap.setdefault(asset, self.world.spots[asset])
        return JSONResponse(self.world.settle(expiration, twap, following))


# ----- request validation ([GAP]: our choice of 422 + details) ---------------------------
class _Body:
    """A JSON object body, read field by field; every problem is collected for one 422."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[dict[str, str]] = []

    @classmethod
    async def read(cls, request: Request) -> _Body:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Invalid([{"field": "body", "problem": "not valid JSON"}]) from None
        if not isinstance(data, dict):
            raise _Invalid([{"field": "body", "problem": "expected a JSON object"}])
        return cls(data)

    def _bad(self, name: str, wanted: str) -> None:
        value = self.data.get(name)
        got = "missing" if value is None else f"got {type(value).__name__}"
        self.problems.append({"field": name, "problem": f"required {wanted} ({got})"})

    def integer(self, name: str) -> int:
        value = self.data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self._bad(name, "integer")
        return 0

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        self._bad(name, "boolean")
        return False

    def word(self, name: str) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and value.isalpha():
            return value.upper()
        self._bad(name, "asset symbol such as SOL")
        return ""

    def positive(self, name: str) -> float:
        value = self.data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        self._bad(name, "positive number")
        return 0.0

    def prices(self, name: str) -> dict[str, float]:
        value = self.data.get(name)
        if isinstance(value, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        ):
            return {str(k).upper(): float(v) for k, v in value.items()}
        self._bad(name, "object of asset: dollars")
        return {}

    def done(self) -> None:
        if self.problems:
            raise _Invalid(self.problems)


def _seconds(value: float) -> str:
    """``Retry-After`` in seconds; fractional only when scaled-down tests need it."""
    if value >= 10:
        return str(int(value + 0.999))
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
