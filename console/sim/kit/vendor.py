"""The shape of one simulated vendor API: its routes over its :class:`World`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

from starlette.responses import Response
from starlette.routing import BaseRoute

from console.sim.kit.context import VendorContext
from console.sim.kit.world import World

W = TypeVar("W", bound=World, covariant=True)


class AdminError(Exception):
    """A ``/_sim/admin/...`` command the vendor does not know or cannot do."""


class VendorSim(ABC, Generic[W]):
    """One vendor API served by the simulator: routes, errors, world, credentials.

    ``api`` is the vendor's kind as profiles name it (``55tech``, ``x3algo``, ``pipai``,
    ``joyride``, ``finradar``). ``world_type`` is the vendor's :class:`World`; the base
    builds it from the context before anything else draws from the context's RNG.
    """

    world_type: type[W]

    api: ClassVar[str]
    ws_path: ClassVar[str | None] = None
    # Part of the vendor's base URL after the host (Joyride's REST base is ``.../api``).
    base_path: ClassVar[str] = ""
    # GET paths that list targets: where the generic hostile knobs (list_429, list_body,
    # huge_list_mb, deep_nesting) answer instead of the vendor.
    list_paths: ClassVar[tuple[str, ...]] = ()
    # Paths that log in (never answered by the control_429 knob).
    auth_paths: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.world: W = self.world_type.from_context(ctx)

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The vendor's documented paths."""

    @abstractmethod
    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        """An error in the vendor's own envelope (used by the fault knobs too)."""

    @abstractmethod
    def credentials(self) -> dict[str, str]:
        """The demo credentials this simulated vendor accepts, by profile credential name."""

    def admin(self, command: str, args: dict[str, Any]) -> Any:
        """World commands for tests and demos (raise a global emergency, fire a sniper ...)."""
        raise AdminError(f"{self.api} simulator has no admin command {command!r}")

    def target_count(self) -> int:
        """How many targets the world holds (for the startup banner)."""
        return 0
