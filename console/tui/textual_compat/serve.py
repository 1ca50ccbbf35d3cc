"""textual-serve's server internals the served console builds on (console/web/server.py).

Why private: textual-serve's ``Server`` makes its aiohttp application and relays a
browser's websocket to the app's process in two private methods, and offers no public
hook to start each session with a process of our own (the login, then the console) or
to add middleware (the same-origin and loopback-Host checks). Upstream:
https://github.com/Textualize/textual-serve/blob/main/src/textual_serve/server.py
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server


async def make_app(server: Server) -> web.Application:
    """The server's aiohttp application (routes, templates, static files)."""
    app: web.Application = await server._make_app()
    return app


async def relay(server: Server, websocket: web.WebSocketResponse, service: AppService) -> Any:
    """Relay ``websocket``'s messages to ``service`` (the session's process) until it ends."""
    return await server._process_messages(websocket, service)
