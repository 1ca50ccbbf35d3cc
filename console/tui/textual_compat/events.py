"""A key event on its way: handed on to another widget as Textual's own forwarding
does, and whether a handler stopped it.

Why private: ``Widget._forward_event`` marks the event as forwarded (so the receiving
widget does not bubble it back up as a new one) before posting it; there is no public
equivalent. Upstream: https://github.com/Textualize/textual/blob/main/src/textual/widget.py
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widget import Widget


def forward_event(to: Widget, event: events.Event) -> None:
    """Post ``event`` to ``to`` as a forwarded event."""
    to._forward_event(event)


def propagation_stopped(message: Message) -> bool:
    """Did a handler stop ``message`` on its way up (``Message.stop()``)? Textual reads
    ``_stop_propagation`` itself when it bubbles; there is no public getter. Upstream:
    https://github.com/Textualize/textual/blob/main/src/textual/message.py"""
    return bool(message._stop_propagation)
