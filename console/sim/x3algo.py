"""PLACEHOLDER: the x3algo simulator (replaced by its full implementation)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from console.sim.vendor import VendorSim


class X3AlgoSim(VendorSim):
    api = "x3algo"

    def routes(self) -> list[BaseRoute]:
        return []

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        return JSONResponse({"error": message}, status_code=status)

    def credentials(self) -> dict[str, str]:
        return {}
