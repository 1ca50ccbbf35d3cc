"""Read-only and armed: whether control keys may act right now.

A read-only profile (or ``--readonly``) leaves every control key unbound. ``a`` arms them
for the profile's ``arm_minutes``; the header counts down, and at zero the console is
read-only again by itself. A profile that is not read-only is always armed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ArmState:
    readonly: bool
    minutes: float
    until: float | None = None

    def enabled(self, now: float) -> bool:
        """May a control action be planned or dispatched at ``now``?"""
        return not self.readonly or (self.until is not None and now < self.until)

    def left(self, now: float) -> float | None:
        """Seconds of arm left (None when not counting down)."""
        if not self.readonly or self.until is None or now >= self.until:
            return None
        return self.until - now

    def arm(self, now: float) -> None:
        self.until = now + self.minutes * 60

    def disarm(self) -> None:
        self.until = None

    def expire(self, now: float) -> bool:
        """Drop an arm that ran out; True exactly once, when it does."""
        if self.until is not None and now >= self.until:
            self.until = None
            return True
        return False
