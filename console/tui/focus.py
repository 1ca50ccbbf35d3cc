"""Keys typed faster than the screen follows go where the operator sees them go.

Textual hands each key to the widget focused *when the key is read*, into that widget's
queue; a key no widget handles bubbles back up to the app, which checks the bindings of
whatever has focus *then*. A burst (a fast typist, a paste, keys over a slow SSH link) is
read whole before its first key is handled, so keys typed after ``/`` reached the app's
bindings instead of the filter box (``a`` arms the console, ``1`` switches panel), keys
typed after Enter in the filter box went into the box, and a key typed after ``X`` was
checked against the bindings of a confirmation nobody had seen yet. Three rules:

* :class:`KeyRoutes` (the app): a key that comes back up unhandled after focus moved
  since it was read is not checked against the new bindings: it is handed to the widget
  focused now, as if read now, in order. ``/``, Enter and Esc move focus at once.
* :func:`hand_on` (the filter box): a key it receives after focus left goes on to the
  widget focused now, instead of being typed into the box.
* :class:`TypeAhead` (a dialog): a key read before the dialog was shown is dropped by
  it. Keys typed after ``X`` were meant for the screen underneath: none of them may
  confirm a plan nobody has seen.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from textual import events
from textual.app import App
from textual.widget import Widget

from console.tui.textual_compat.events import forward_event


def _reroute(app: App[Any], event: events.Key, to: Widget) -> None:
    """Stop ``event`` here and give the same key, read at the same time, to ``to``."""
    event.prevent_default()
    event.stop()
    again = events.Key(event.key, event.character)
    again.time = event.time  # a dialog's TypeAhead looks at when it was read
    again.set_sender(app)
    forward_event(to, again)


def hand_on(widget: Widget, event: events.Key) -> bool:
    """Give ``event`` to the focused widget if that is no longer ``widget``; True if so."""
    focused = widget.app.focused
    if focused is None or focused is widget:
        return False
    _reroute(widget.app, event, focused)
    return True


class KeyRoutes:
    """Which widget had focus when each key was read."""

    def __init__(self) -> None:
        self._read_with: WeakKeyDictionary[events.Key, Widget | None] = WeakKeyDictionary()

    def read(self, event: events.Key, focused: Widget | None) -> None:
        """A key from the terminal, about to be forwarded to ``focused``."""
        if not event.is_forwarded:
            self._read_with[event] = focused

    def misrouted(self, app: App[Any], event: events.Key) -> bool:
        """For a key back at the app unhandled: True (and the key handed on) when focus
        moved since it was read; False to check the bindings as usual."""
        if event not in self._read_with:
            return False
        read_with = self._read_with.pop(event)
        focused = app.focused
        if read_with is focused:
            return False
        _reroute(app, event, focused if focused is not None else app.screen)
        return True


class TypeAhead:
    """The moment a dialog was shown, and whether a key was read before it."""

    def __init__(self) -> None:
        self.shown_at = float("inf")

    def hidden(self) -> None:
        self.shown_at = float("inf")

    def shown(self, now: float) -> None:
        self.shown_at = now

    def early(self, event: events.Key) -> bool:
        """True (and the key stopped) when it was read before the dialog was shown."""
        if event.time >= self.shown_at:
            return False
        event.prevent_default()
        event.stop()
        return True
