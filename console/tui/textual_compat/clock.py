"""The clock Textual stamps events with (``events.Event.time``).

Why private: Textual has no public name for it (``textual._time.get_time``: monotonic,
perf_counter on Windows); a dialog compares a key's ``time`` with when it was shown, so
both must come from the same clock.
Upstream: https://github.com/Textualize/textual/blob/main/src/textual/_time.py
"""

from __future__ import annotations

from textual._time import get_time


def event_time() -> float:
    """Now, on the clock of ``events.Event.time``."""
    return get_time()
