"""A headless Chromium for the serve tests, and what its page's terminal was sent.

No browser is downloaded: Playwright drives Debian's ``chromium`` (``.ci/run`` installs
it as root). The page's terminal draws on a canvas, so the tests read what the page
received instead: the websocket's frames, escapes removed (:class:`Received`), in which
each line Textual draws is contiguous text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ESCAPE = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b."
)


def playwright_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (the test extra has it)"
    if CHROMIUM is None:
        return "chromium is not installed (CI installs it as root: apt-get install chromium)"
    return None


def launch_args() -> list[str]:
    # Chromium refuses its sandbox to root (CI containers run as root).
    return ["--no-sandbox"] if os.geteuid() == 0 else []


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Received:
    """Every byte the page's websocket received, and waits on what it says."""

    def __init__(self, dump: Path) -> None:
        self.dump = dump
        """Where everything received is written when a wait fails."""
        self.data = bytearray()
        self._more = asyncio.Event()

    def frame(self, payload: str | bytes) -> None:
        self.data += payload.encode() if isinstance(payload, str) else payload
        self._more.set()

    def text(self, since: int = 0) -> str:
        return ESCAPE.sub(b"", bytes(self.data[since:])).decode("utf-8", "replace")

    async def wait_for(
        self, predicate: Callable[[str], bool], *, what: str, since: int = 0, timeout: float = 60
    ) -> str:
        """The text received since ``since`` once ``predicate`` holds (on each new frame)."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(text := self.text(since)):
                    self._more.clear()
                    await self._more.wait()
        except TimeoutError:
            self.dump.write_text(self.text())
            tail = self.text(since)[-2000:]
            raise AssertionError(f"the page never showed {what} (all it got: {self.dump}); "
                                 f"it last got:\n{tail}") from None  # fmt: skip
        return text
