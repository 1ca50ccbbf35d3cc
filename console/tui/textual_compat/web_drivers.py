"""Two Textual apps on one browser connection (``serve``): the login, then the console.

textual-serve gives each browser connection one process and one byte stream (the
process's stdin and stdout, in Textual's web protocol). The console cannot be built
before the desk is attached (its panels come from the hub's picture), so the session
process runs a login app first and the console after it, on the same stream:

- :class:`LoginDriver` ends without the protocol's *exit* packet when the login hands
  off (textual-serve would close the connection), and waits for its input thread to
  stop reading, so every byte after it is the console's.
- :class:`ConsoleDriver` starts without the protocol's prelude (textual-serve reads it
  once, from the first app).

Both end their app when stdin ends (the server went away), so no session is left
attached to the desk with nobody watching.
Why private: Textual's ``WebDriver`` has no public way to end an app without the web
protocol's *exit* packet, to wait for its input thread, to learn the browser's last
size, or to start an app without the prelude. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/drivers/web_driver.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from textual import messages
from textual.app import App
from textual.drivers.web_driver import WebDriver

PRELUDE = b"__GANGLION__\n"


class _EndsWithStdin(WebDriver):
    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # stdin ended, not the app: the server is gone
            self._app.post_message(messages.ExitApp())


class LoginDriver(_EndsWithStdin):
    """The first app's driver: hands the stream on when its app sets ``handing_off``."""

    def stop_application_mode(self) -> None:
        if not getattr(self._app, "handing_off", False):
            super().stop_application_mode()
            return
        self.exit_event.set()
        self._input_reader.close()
        if self._key_thread.is_alive():
            self._key_thread.join()  # it polls every 0.1 s: then the stream is the console's
        if self._size is not None:  # the next driver starts at the browser's last size
            os.environ["COLUMNS"], os.environ["ROWS"] = (str(n) for n in self._size)


def _without_prelude(write: Callable[[bytes], int], data: bytes) -> int:
    return len(data) if data == PRELUDE else write(data)


class ConsoleDriver(_EndsWithStdin):
    """The second app's driver: the stream is already open, so no prelude."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self._write = partial(_without_prelude, self._write)
