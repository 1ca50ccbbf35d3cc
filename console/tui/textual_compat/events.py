"""Handing a key event on to another widget, as Textual's own forwarding does.

Why private: ``Widget._forward_event`` marks the event as forwarded (so the receiving
widget does not bubble it back up as a new one) before posting it; there is no public
equivalent. Upstream: https://github.com/Textualize/textual/blob/main/src/textual/widget.py
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


def forward_event(to: Widget, event: events.Event) -> None:
    """Post ``event`` to ``to`` as a forwarded event."""
    to._forward_event(event)
