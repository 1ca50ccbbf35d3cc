"""P&L trails: the last few distinct P&L values of each target, for the trend sparklines.

The Running algorithms and Deployed strategies panels draw each row's P&L as a
sparkline, so the trail is data the store keeps beside the target, like the venues'
event rates (``Store.rate_history``). It lives in core, not in the TUI, because only the
store sees every write: a panel only redraws what is on screen, and a hidden panel would
otherwise miss the changes.

Bounded by design, so 10,000 targets at 10,000 events/s neither grow memory nor load
the CPU:

* **At most one sample a second** per target: the latest value of that second wins (a
  later change in the same second overwrites it), so the newest sample is always the
  P&L the row shows.
* **Only distinct samples**: a value equal to the newest sample is not stored, so a
  quiet target keeps its history instead of filling the ring with the same number (the
  x-axis is "the last changes", not wall-clock time).
* **A ring of** :data:`TRAIL_SAMPLES` per target, held in an ``array('d')``: about
  300 bytes and one object per target (a list would add a float object per sample,
  30 more objects for every full garbage collection to walk).

A write costs about a microsecond (a dict lookup, parsing the number, a comparison),
and nothing is drawn per event (the panel draws a row when it redraws it); a target that vanishes from its venue's
snapshot drops its trail.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from console.core.model import AttrValue, Target, TargetKind

Key = tuple[str, str]

TRAIL_SAMPLES: Final = 30
"""Samples kept per target: a detail pane shows them all, a table cell the newest few."""

PNL_ATTRS: Final[Mapping[TargetKind, str]] = MappingProxyType(
    {TargetKind.ALGORITHM: "profit", TargetKind.STRATEGY: "pnl"}
)
"""The attribute that is each kind's P&L (docs/ATTRIBUTES.md); other kinds keep no trail."""

_NOT_THIS_SECOND: Final = -1


def pnl_number(value: AttrValue) -> float | None:
    """A finite float from a number or a decimal string (PipAI sends money as strings)."""
    if value is None or isinstance(value, bool | tuple):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # (an integer of hundreds of digits: none)
        return None
    return number if math.isfinite(number) else None


class PnlTrails:
    """Per target: up to ``samples`` distinct P&L values, oldest first, one a second."""

    def __init__(self, samples: int = TRAIL_SAMPLES) -> None:
        if samples < 2:
            raise ValueError("a trail needs at least 2 samples to show a change")
        self.samples = samples
        self._values: dict[Key, array[float]] = {}
        self._second: dict[Key, int] = {}  # the second of the newest sample

    def see(self, target: Target, second: int) -> None:
        """A whole target was written (snapshot, upsert): sample its P&L, if it has one."""
        name = PNL_ATTRS.get(target.kind)
        if name is not None:
            self.record(target.key, target.attrs.get(name), second)

    def see_patch(self, target: Target, attrs: Mapping[str, AttrValue], second: int) -> None:
        """A stream event patched ``attrs`` of ``target``: sample the P&L if it is among them."""
        name = PNL_ATTRS.get(target.kind)
        if name is not None and name in attrs:
            self.record(target.key, attrs[name], second)

    def record(self, key: Key, value: AttrValue, second: int) -> None:
        """Sample ``value`` (ignored unless a finite number) at ``second`` (whole seconds)."""
        number = pnl_number(value)
        if number is None:
            return
        values = self._values.get(key)
        if values is None:
            self._values[key] = array("d", (number,))
            self._second[key] = second
            return
        if number == values[-1]:
            return
        if self._second[key] == second:  # the newest sample is this second's: overwrite
            if len(values) > 1 and values[-2] == number:
                del values[-1]  # back where it was a moment ago: no change this second
                self._second[key] = _NOT_THIS_SECOND
            else:
                values[-1] = number
            return
        values.append(number)
        self._second[key] = second
        if len(values) > self.samples:
            del values[0]

    def trail(self, key: Key) -> Sequence[float]:
        """The samples, oldest first (the live ring: copy it to keep it)."""
        return self._values.get(key, ())

    def forget(self, key: Key) -> None:
        self._values.pop(key, None)
        self._second.pop(key, None)

    def __len__(self) -> int:
        return len(self._values)
