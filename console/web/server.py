"""The web server of ``trading-console serve``: textual-serve's, with a desk's care.

textual-serve serves a page (xterm.js) and, per websocket, runs a command line in a
process of its own whose stdin and stdout carry the terminal. :class:`ConsoleServer`
keeps that and adds:

- the session's command line carries no secret (the profile file, its name, the desk
  URL without credentials, the browser's address) and starts with ``exec``, so the
  process textual-serve waits on is the session itself;
- the session's environment is an allow-list of the server's (:data:`KEPT_ENV`): no
  venue credential read by ``env:NAME`` and no NATS password reaches a browser session;
- a websocket from a page of another origin is refused (any web page could otherwise
  open one to a loopback port), and, bound to loopback, a request whose Host is not a
  loopback name (DNS rebinding);
- the page loads nothing from another host (textual-serve's asks Google for its font),
  and its URLs are the ones the browser used (``--public-url`` behind a proxy);
- ``--port 0`` binds a free port; the address is printed once it is bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import signal
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from console.config import is_loopback
from console.tui.textual_compat.serve import make_app, relay

log = logging.getLogger(__name__)

KEPT_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "PYTHONPATH",
            "VIRTUAL_ENV", "TRADING_CONSOLE_CONFIG")  # fmt: skip
"""What a session keeps of the server's environment (plus ``LC_*`` and ``XDG_*``)."""
SERVED_ENV = ("TERM_PROGRAM", "TERM_PROGRAM_VERSION", "COLUMNS", "ROWS")
"""What textual-serve sets for a session (with ``TEXTUAL*``): the terminal it gets."""

TEMPLATES = Path(__file__).with_name("templates")
"""textual-serve's page, with its font served from here instead of Google's."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def session_env(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items()
            if k in KEPT_ENV or k.startswith(("LC_", "XDG_"))}  # fmt: skip


class SessionService(AppService):
    """One browser connection's process, with the allow-listed environment."""

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        full = super()._build_environment(width, height)
        served = {k: v for k, v in full.items() if k.startswith("TEXTUAL") or k in SERVED_ENV}
        return {**session_env(dict(os.environ)), **served}


class ConsoleServer(Server):
    """Serves ``session`` (an argv) to browsers; ``--peer ADDR`` is added per connection."""

    def __init__(self, session: Sequence[str], *, host: str, port: int, title: str,
                 public_url: str | None = None) -> None:  # fmt: skip
        super().__init__(shlex.join(session), host=host, port=port, title=title,
                         public_url=public_url, templates_path=TEMPLATES)  # fmt: skip
        self.session = list(session)
        self.fixed_url = public_url is not None
        self.bound: tuple[str, int] | None = None

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner here; serve prints its own line once bound)"""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._same_origin)
        return app

    @web.middleware
    async def _same_origin(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        name = urlsplit(f"//{request.host}").hostname or ""
        if is_loopback(self.host) and not self.fixed_url and not is_loopback(name):
            raise web.HTTPForbidden(text=f"serve answers loopback names only, not {name!r}\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin and urlsplit(origin).netloc != request.host:
            log.warning("refused a websocket from %s (page of another origin)", origin)
            raise web.HTTPForbidden(text="a console session opens from its own page only\n")
        return await handler(request)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """textual-serve's page, its URLs from the address the browser used (unless
        ``--public-url``): a wall screen on the LAN reaches serve by the LAN's name."""
        base = self.public_url if self.fixed_url else f"{request.scheme}://{request.host}"
        scheme, rest = base.split(":", 1)
        static = request.app.router["static"].url_for(filename="/")
        return {
            "font_size": _int(request.query.get("fontsize"), 16),
            "app_websocket_url": f"{'wss' if scheme == 'https' else 'ws'}:{rest}/ws",
            "config": {"static": {"url": f"{base}{static}".rstrip("/") + "/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with :class:`SessionService` and the peer's address."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        command = "exec " + shlex.join([*self.session, "--peer", request.remote or "unknown"])
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            service = SessionService(
                command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=partial(_close, websocket),
                download_manager=self.download_manager,
            )
            await service.start(width, height)
            await relay(self, websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as exc:
            log.warning("a browser session failed: %s", exc)
        finally:
            if service is not None:
                await service.stop()
        return websocket

    async def run(self, ready: Callable[[str], None]) -> None:
        """Serve until SIGTERM or SIGINT; ``ready`` gets the page's URL once bound."""
        runner = web.AppRunner(await make_app(self), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.bound = (host, port)
            if not self.fixed_url:
                shown = f"[{host}]" if ":" in host else host
                self.public_url = f"http://{shown}:{port}"
            ready(self.public_url)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()


async def _close(websocket: web.WebSocketResponse) -> None:
    await websocket.close()


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
