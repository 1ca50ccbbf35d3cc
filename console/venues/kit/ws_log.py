"""The logger a venue hands to the WebSocket library: no frame payload, every line scrubbed.

The ``websockets`` library logs every frame at DEBUG (``> TEXT '{"op":"auth",
"api_key":…' [93 bytes]``). A venue's subscribe or auth frame carries its credential,
and the library cuts a long payload in the middle for the log, so a secret split there
could not be recognised by any scrubber. :class:`ScrubbingLogger` therefore logs frames
by kind and size only (``> TEXT [93 bytes]``) and passes every other line through the
venue's scrubber; tracebacks are dropped (their text would pass unscrubbed).

Use: ``connect(url, logger=ScrubbingLogger(logging.getLogger(__name__ + ".websocket"),
scrubber.scrub), ...)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, MutableMapping
from typing import Any

_FRAME_LINE = re.compile(
    r"([<>] (?:TEXT|BINARY|CONT|CLOSE|PING|PONG)) .*?(\[\d+ bytes?\])?", re.DOTALL
)


class ScrubbingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger that renders each message, drops any frame payload, scrubs the rest, and
    only then logs it."""

    def __init__(self, logger: logging.Logger, scrub: Callable[[str], str]) -> None:
        super().__init__(logger, None)
        self._scrub = scrub

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):  # a broken format: keep nothing of its arguments
            text = str(msg)
        if (frame := _FRAME_LINE.fullmatch(text)) is not None:
            text = f"{frame.group(1)} {frame.group(2) or ''}".rstrip()
        kwargs.pop("exc_info", None)  # a traceback's text (or locals) could quote a frame
        kwargs.pop("stack_info", None)
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, "%s", self._scrub(text), **kwargs)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs
