"""The simulated x3algo algorithms API (``/api/auth/*``, ``/api/trading/algorithms*``).

An independent implementation of the x3algo section of CONTRACTS.md and of project
decision 2; it imports nothing from ``console.venues``. What it does, and the choices it
makes where the docs are silent (see docs/venues/x3algo.md):

* Auth: ``POST /api/auth/login`` answers ``accessToken`` + ``expiresIn: 900`` and sets
  the documented ``refreshToken`` cookie verbatim (``HttpOnly; Secure; SameSite=Strict;
  Max-Age=604800``; ``Secure`` is kept even on loopback http, so the client handles the
  cookie itself). ``POST /api/auth/refresh-token`` reads the cookie and issues a new
  access token (the refresh token is not rotated).
* 401s: ``UNAUTHORIZED`` (no bearer / bad login), ``INVALID_TOKEN`` (forged or garbled),
  ``TOKEN_EXPIRED`` (past 900 s of simulator clock, or ended by admin ``expire_tokens``).
* Rate buckets (all limited per process, windows scaled by the ``rate_scale`` knob):
  authentication 5 / 15 min (login and refresh), trading operations 100 / min (start
  and stop), general 1000 / 15 min (every GET). Every answer carries
  ``X-RateLimit-Limit/Remaining/Reset`` (Unix seconds) for the bucket it used; a 429 is
  ``TOO_MANY_REQUESTS`` "Rate limit exceeded" plus ``Retry-After`` (our addition).
* State machine: stop from active|paused → stopped, otherwise 422 "Algorithm not
  active"; start from stopped|error → active, active → 422 "Algorithm already active",
  paused → 422 (no resume endpoint is documented), draft → 400 ``VALIDATION_ERROR`` with
  ``details.missingFields``, daily loss limit reached → 403 ``FORBIDDEN`` with
  ``details.dailyLoss``/``details.limit``. GET of another user's algorithm → 403; a
  control call on it → 404 (the control pages document no 403 for ownership).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.sim.kit.context import SimRateLimit, VendorContext
from console.sim.kit.vendor import AdminError, VendorSim
from console.sim.x3algo.hostile import (
    ENDLESS_PAGES,
    bad_row,
    dot_algos,
    echo_secret,
    endless_page,
    escaped,
    with_twin,
)
from console.sim.x3algo.tokens import ACCESS_TTL_S, REFRESH_TTL_S, Claims, TokenIssuer
from console.sim.x3algo.world import Algo, X3AlgoWorld, response_json

Handler = Callable[[Request], Awaitable[Response]]
AuthedHandler = Callable[[Request, Claims], Awaitable[Response]]

_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
_STATUSES = ("draft", "active", "stopped", "paused", "error")
_SORTS = ("name", "createdAt", "updatedAt")
UNKNOWN_STATUS = "hibernating"


class X3AlgoSim(VendorSim[X3AlgoWorld]):
    """x3algo: one demo user, their algorithms, JWT auth with a refresh cookie."""

    api: ClassVar[str] = "x3algo"
    world_type = X3AlgoWorld
    list_paths = ("/api/trading/algorithms",)
    auth_paths = ("/api/auth/login", "/api/auth/refresh-token")

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.tokens = TokenIssuer(ctx.seed, ctx.clock)
        digest = hashlib.sha256(f"{ctx.seed}:x3algo:demo-user".encode()).hexdigest()
        self.email = f"trader.{digest[:6]}@demo.x3algo.test"
        self.password = f"x3-{digest[6:22]}"
        self.auth_bucket = ctx.rate_limit(5, 15 * 60)
        self.trading_bucket = ctx.rate_limit(100, 60)
        self.general_bucket = ctx.rate_limit(1000, 15 * 60)
        self._request_serial = 0
        self._dots = dot_algos(self.world.by_created)
        # id -> (what the row was built from, its JSON): see _encoded_page
        self._encoded: dict[str, tuple[tuple[object, ...], bytes]] = {}
        # id -> (time.monotonic() of its stop, the status before): stale_reads_ms
        self._stopped_at: dict[str, tuple[float, str]] = {}
        # The algorithm whose list row the ``bad_row`` knob spoils: the second created.
        self.bad_row_id = self.world.by_created[min(1, len(self.world.by_created) - 1)].id

    # ----- VendorSim ----------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        algos = "/api/trading/algorithms"
        return [
            Route(
                "/api/auth/login", self._limited(self.auth_bucket, self._login), methods=["POST"]
            ),
            Route(
                "/api/auth/refresh-token",
                self._limited(self.auth_bucket, self._refresh),
                methods=["POST"],
            ),
            Route(algos, self._authed(self.general_bucket, self._list), methods=["GET"]),
            Route(f"{algos}/{{id}}", self._authed(self.general_bucket, self._get), methods=["GET"]),
            Route(
                f"{algos}/{{id}}/stop",
                self._authed(self.trading_bucket, self._stop),
                methods=["POST"],
            ),
            Route(
                f"{algos}/{{id}}/start",
                self._authed(self.trading_bucket, self._start),
                methods=["POST"],
            ),
            Route(
                "/{path:path}",
                self._limited(self.general_bucket, self._no_route),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        response = self._error(status, message)
        if retry_after is not None:
            response.headers["Retry-After"] = _retry_after_text(retry_after)
            response.headers["X-RateLimit-Limit"] = str(self.general_bucket.limit)
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Reset"] = str(math.ceil(time.time() + retry_after))
        else:
            _rate_headers(response, self.general_bucket)
        return response

    def credentials(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}

    def target_count(self) -> int:
        return len(self.world.algos)

    def admin(self, command: str, args: dict[str, Any]) -> Any:
        """World commands: expire_tokens, revoke_refresh_tokens, special, ids,
        set_status, daily_loss, tick."""
        if command == "expire_tokens":
            return {"expired": self.tokens.expire_access_tokens()}
        if command == "revoke_refresh_tokens":
            return {"revoked": self.tokens.revoke_refresh_tokens()}
        if command == "special":
            return {**self.world.special, "bad_row": self.bad_row_id}
        if command == "ids":
            wanted = args.get("status")
            return [a.id for a in self.world.by_created if wanted in (None, a.status)]
        if command == "set_status":
            algo = self._find(str(args["id"]))
            status = str(args["status"])
            if status not in _STATUSES:
                raise ValueError(f"status must be one of {', '.join(_STATUSES)}")
            algo.status = status
            algo.updated_at = self.ctx.clock.now()
            return {"id": algo.id, "status": algo.status}
        if command == "daily_loss":
            algo = self._find(str(args["id"]))
            algo.daily_loss = float(args["amount"])
            return {"id": algo.id, "dailyLoss": algo.daily_loss, "limit": algo.daily_limit}
        if command == "tick":
            before = self.world.trades
            self.world.tick(self.ctx.clock.now(), float(args.get("seconds", 1.0)))
            return {"trades": self.world.trades - before}
        raise AdminError(f"x3algo simulator has no admin command {command!r}")

    # ----- plumbing -----------------------------------------------------------------
    def _find(self, algo_id: str) -> Algo:
        algo = self.world.algos.get(algo_id)
        if algo is None:
            raise KeyError(f"no algorithm {algo_id!r}")
        return algo

    def _reported(self, algo: Algo, *, read: bool = True) -> str:
        """The status as reported: the ``unknown_status_rate`` share gets an unknown word;
        with ``stale_reads_ms``, a read (not a stop's answer) shows the status before a
        stop until that long after it."""
        knobs = self.ctx.knobs
        if algo.unknown_draw < knobs.unknown_status_rate:
            return UNKNOWN_STATUS
        stopped = self._stopped_at.get(algo.id) if read and knobs.stale_reads_ms > 0 else None
        if stopped is not None and time.monotonic() - stopped[0] < knobs.stale_reads_ms / 1000:
            return stopped[1]
        return algo.status

    def _error(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        code: str | None = None,
    ) -> Response:
        """The documented envelope; ``requestId`` comes from a counter (repeatable)."""
        self._request_serial += 1
        body = {
            "error": {
                "message": message,
                "code": code or _CODES.get(status, "ERROR"),
                "status": status,
                "details": details or {},
                "requestId": f"x3-{self.ctx.seed:x}-{self._request_serial:06d}",
            }
        }
        return JSONResponse(body, status_code=status)

    def _limited(self, bucket: SimRateLimit, handler: Handler) -> Handler:
        """Charge ``bucket`` first (429 when spent), then answer with its headers."""

        async def endpoint(request: Request) -> Response:
            wait = bucket.take()
            if wait is not None:
                self.ctx.count("429")
                response = self._error(429, "Rate limit exceeded")
                response.headers["Retry-After"] = _retry_after_text(wait)
            else:
                response = await handler(request)
            if self.ctx.knobs.echo_secret and response.status_code >= 400:
                password = None
                if request.url.path == "/api/auth/login":
                    given = (await _json_body(request)) or {}
                    password = str(given.get("password") or "") or None
                response = echo_secret(request, response, password)
            _rate_headers(response, bucket)
            return response

        return endpoint

    def _authed(self, bucket: SimRateLimit, handler: AuthedHandler) -> Handler:
        async def checked(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return self._error(401, "Authentication required")
            claims = self.tokens.check(token.strip(), "access")
            if not isinstance(claims, Claims):
                self.ctx.count(f"401_{claims.value.lower()}")
                message = "Token expired" if claims.value == "TOKEN_EXPIRED" else "Invalid token"
                return self._error(401, message, code=claims.value)
            if claims.sub != self.world.user_id:
                return self._error(401, "Invalid token", code="INVALID_TOKEN")
            return await handler(request, claims)

        return self._limited(bucket, checked)

    # ----- auth ---------------------------------------------------------------------
    async def _login(self, request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return self._error(400, "Request body must be JSON")
        missing = [k for k in ("email", "password") if not isinstance(body.get(k), str)]
        if missing:
            return self._error(400, "Validation failed", {"missingFields": missing})
        if body["email"].strip().lower() != self.email or body["password"] != self.password:
            self.ctx.count("login_refused")
            return self._error(401, "Invalid credentials")
        self.ctx.count("logins")
        user = self.world.user_id
        access = self.tokens.access(user, self.email)
        refresh = self.tokens.refresh(user, self.email)
        response = JSONResponse(
            {
                "accessToken": access,
                "expiresIn": self._expires_in(),
                "tokenType": "Bearer",
                "user": {"id": user, "email": self.email, "name": "Demo Trader"},
            }
        )
        response.headers["Set-Cookie"] = (
            f"refreshToken={refresh}; HttpOnly; Secure; SameSite=Strict; Max-Age={REFRESH_TTL_S}"
        )
        return response

    async def _refresh(self, request: Request) -> Response:
        token = request.cookies.get("refreshToken")
        if not token:
            return self._error(401, "Refresh token required")
        claims = self.tokens.check(token, "refresh")
        if not isinstance(claims, Claims):
            self.ctx.count("refresh_refused")
            message = (
                "Refresh token expired" if claims.value == "TOKEN_EXPIRED" else "Invalid token"
            )
            return self._error(401, message, code=claims.value)
        self.ctx.count("refreshes")
        return JSONResponse(
            {
                "accessToken": self.tokens.access(claims.sub, claims.email),
                "expiresIn": self._expires_in(),
            }
        )

    def _expires_in(self) -> Any:
        """What a login or refresh says of the access token's life: the real one, or
        the ``expires_in`` knob's JSON value (the token still lives ``ACCESS_TTL_S``)."""
        said = self.ctx.knobs.expires_in
        return json.loads(said) if said else ACCESS_TTL_S

    async def _no_route(self, request: Request) -> Response:
        return self._error(404, f"Route {request.method} {request.url.path} not found")

    # ----- algorithms ---------------------------------------------------------------
    async def _list(self, request: Request, claims: Claims) -> Response:
        q = request.query_params
        try:
            page = int(q.get("page", "1"))
            limit = int(q.get("limit", "20"))
        except ValueError:
            return self._error(400, "page and limit must be integers")
        status, strategy = q.get("status"), q.get("strategyType")
        sort, order = q.get("sort", "createdAt"), q.get("order", "desc")
        problems = {}
        if page < 1:
            problems["page"] = "must be at least 1"
        if not 1 <= limit <= 100:
            problems["limit"] = "must be between 1 and 100"
        if status is not None and status not in _STATUSES:
            problems["status"] = f"must be one of {', '.join(_STATUSES)}"
        if sort not in _SORTS:
            problems["sort"] = f"must be one of {', '.join(_SORTS)}"
        if order not in ("asc", "desc"):
            problems["order"] = "must be asc or desc"
        if problems:
            return self._error(400, "Validation failed", {"fields": problems})
        knobs = self.ctx.knobs
        rows = self._sorted(sort, order == "desc")
        if knobs.dot_ids:
            rows = [*rows, *self._dots]
        if status is not None or strategy is not None:
            rows = [
                a
                for a in rows
                if (status is None or self._reported(a) == status)
                and (strategy is None or a.strategy_type == strategy)
            ]
        start = (page - 1) * limit
        total, pages = len(rows), math.ceil(len(rows) / limit)
        if not (
            knobs.escape_names or knobs.bad_row or knobs.still_active or knobs.shout_status
        ) and not (knobs.endless_pages or knobs.pages_lie or knobs.duplicate_id):
            pagination = {"page": page, "limit": limit, "total": total, "totalPages": pages}
            return self._encoded_page(rows[start : start + limit], pagination)
        data = [self._summary(a) for a in rows[start : start + limit]]
        if knobs.endless_pages:
            data, pages = endless_page(data, page, limit), ENDLESS_PAGES
            total = pages * limit
        if knobs.pages_lie:  # one page, it says, whatever its total says
            pages = 1
        if knobs.duplicate_id and self.world.by_created:
            data = with_twin(data, self.world.by_created[-1].id)
        pagination = {"page": page, "limit": limit, "total": total, "totalPages": pages}
        return JSONResponse({"data": data, "pagination": pagination})

    def _encoded_page(self, algos: list[Algo], pagination: dict[str, int]) -> Response:
        """A list page as :class:`JSONResponse` writes it, byte for byte, from each row's
        encoding kept since it last changed: a ~25,000-algorithm list is 252 pages read
        at every poll, and building and encoding every row again was most of the
        simulator's CPU while a console painted (a real venue serves from its own store;
        this one shares the console's two cores)."""
        cache = self._encoded
        parts = []
        for algo in algos:
            status = self._reported(algo)
            mark = (
                status, algo.status, algo.winning, algo.losing, algo.gross_win,
                algo.gross_loss, algo.updated_at, algo.name,
            )  # fmt: skip
            kept = cache.get(algo.id)
            if kept is None or kept[0] != mark:
                kept = cache[algo.id] = (mark, algo.summary_json(status, self.ctx.clock))
            parts.append(kept[1])
        body = (
            b'{"data":[' + b",".join(parts) + b'],"pagination":' + response_json(pagination) + b"}"
        )
        return Response(body, media_type="application/json")

    def _summary(self, algo: Algo) -> dict[str, Any]:
        """The list row of ``algo``, as the hostile knobs have it."""
        row = algo.summary(self._reported(algo), self.ctx.clock)
        if self.ctx.knobs.escape_names:
            row["name"] = escaped(row["name"])
        if self.ctx.knobs.bad_row and algo.id == self.bad_row_id:
            row = bad_row(row)
        if self.ctx.knobs.still_active and row.get("status") == "stopped":
            row["active"] = True
        if self.ctx.knobs.shout_status:
            row["status"] = str(row.get("status", "")).upper()
        return row

    def _sorted(self, sort: str, descending: bool) -> list[Algo]:
        if sort == "createdAt":
            rows = self.world.by_created
            return rows[::-1] if descending else rows
        if sort == "name":
            return sorted(self.world.by_created, key=lambda a: (a.name, a.id), reverse=descending)
        return sorted(self.world.by_created, key=lambda a: (a.updated_at, a.id), reverse=descending)

    def _owned(self, algo_id: str) -> Algo | Response | None:
        """The caller's algorithm, None when it does not exist, 403 when it is someone else's."""
        if algo_id == self.world.foreign.id:
            return self._error(403, "You do not have access to this algorithm")
        return self.world.algos.get(algo_id)

    async def _get(self, request: Request, claims: Claims) -> Response:
        found = self._owned(request.path_params["id"])
        if isinstance(found, Response):
            return found
        if found is None:
            return self._error(404, "Algorithm not found")
        full = found.full(self._reported(found), self.ctx.clock)
        if self.ctx.knobs.escape_names:
            full["name"] = escaped(full["name"])
        if self.ctx.knobs.still_active and full.get("status") == "stopped":
            full["active"] = True
        if self.ctx.knobs.shout_status:
            full["status"] = str(full.get("status", "")).upper()
        return JSONResponse(full)

    def _control_target(self, request: Request) -> Algo | Response:
        """Control calls document no 403: another user's algorithm is "not found"."""
        found = self.world.algos.get(request.path_params["id"])
        return found if found is not None else self._error(404, "Algorithm not found")

    def _control_reply(self, algo: Algo, message: str) -> Response:
        return JSONResponse(
            {
                "id": algo.id,
                "name": escaped(algo.name) if self.ctx.knobs.escape_names else algo.name,
                "status": self._reported(algo, read=False).upper()
                if self.ctx.knobs.shout_status
                else self._reported(algo, read=False),
                "active": algo.status == "active" or self.ctx.knobs.still_active,
                "message": message,
            }
        )

    async def _stop(self, request: Request, claims: Claims) -> Response:
        algo = self._control_target(request)
        if isinstance(algo, Response):
            return algo
        if algo.status not in ("active", "paused"):
            return self._error(422, "Algorithm not active")
        self._stopped_at[algo.id] = (time.monotonic(), algo.status)
        algo.status = "stopped"
        algo.updated_at = self.ctx.clock.now()
        self.ctx.count("stopped")
        return self._control_reply(algo, "Algorithm stopped successfully")

    async def _start(self, request: Request, claims: Claims) -> Response:
        algo = self._control_target(request)
        if isinstance(algo, Response):
            return algo
        if algo.status == "active":
            return self._error(422, "Algorithm already active")
        if algo.status == "paused":
            return self._error(422, "Algorithm is paused; stop it before starting it")
        if algo.status == "draft" or algo.missing_fields:
            return self._error(
                400,
                "Algorithm configuration is incomplete",
                {"missingFields": list(algo.missing_fields)},
            )
        limit = algo.daily_limit
        if limit is not None and algo.daily_loss >= limit:
            return self._error(
                403,
                "Daily loss limit reached. Cannot start algorithm.",
                {"dailyLoss": _number(algo.daily_loss), "limit": _number(limit)},
            )
        algo.status = "active"
        algo.updated_at = self.ctx.clock.now()
        self.ctx.count("started")
        return self._control_reply(algo, "Algorithm started successfully")


def _rate_headers(response: Response, bucket: SimRateLimit) -> None:
    response.headers["X-RateLimit-Limit"] = str(bucket.limit)
    response.headers["X-RateLimit-Remaining"] = str(bucket.remaining())
    response.headers["X-RateLimit-Reset"] = str(math.ceil(bucket.reset_at()))


def _retry_after_text(seconds: float) -> str:
    """Whole seconds as HTTP wants them; scaled test windows need fractions below 1 s."""
    if seconds >= 1:
        return str(math.ceil(seconds))
    return f"{max(seconds, 0.001):.3f}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
