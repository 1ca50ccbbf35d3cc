"""The console's screen needs a terminal; without one it says so instead of drawing.

``ssh host trading-console`` (no ``-t``), a cron job, ``trading-console < /dev/null``:
with no terminal the screen drew its escape codes into a pipe or a file for as long as
it ran, read no key, and gave no word of why — a newcomer saw garbage, a script hung.
The screen draws on stderr and reads stdin (Textual's terminal driver), so both must be
terminals; a driver of its own (``TEXTUAL_DRIVER``: the browser's, ``serve``) needs
neither. The commands need no terminal, and the words say so.
"""

from __future__ import annotations

import os
import sys


def no_terminal() -> str | None:
    """Why the screen cannot start here (None: it can)."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    missing = [name for name, stream in (("stdin", sys.__stdin__), ("stderr", sys.__stderr__))
               if stream is None or not stream.isatty()]  # fmt: skip
    if not missing:
        return None
    which = " and ".join(missing)
    return (f"the console's screen needs a terminal, and its {which} "
            f"{'is' if len(missing) == 1 else 'are'} not one — nothing was started. Over SSH "
            "give it one (`ssh -t HOST trading-console`); the commands need none "
            "(`trading-console status`, `kill`, `stop`, `audit` …: README, 'Commands')")  # fmt: skip
