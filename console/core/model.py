"""The console's one vocabulary: targets, states, actions and outcomes.

Every venue module translates its vendor's words into these types and nothing above
the venue modules ever sees a vendor status string except as ``Target.raw_status``,
kept for display beside the normalised state.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final

AttrValue = str | int | float | bool | None | tuple[str, ...]
OptionValue = bool | str


class TargetKind(StrEnum):
    """What one controllable thing is, one kind per vendor API."""

    ENGINE = "engine"  # 55-tech: a client's whole trading engine
    ALGORITHM = "algorithm"  # x3algo
    STRATEGY = "strategy"  # PipAI
    EXPIRATION = "expiration"  # Joyride: every instrument of one expiration
    SNIPER = "sniper"  # FinRadar sniper target


class State(StrEnum):
    """Normalised state of a target; the vendor's own word stays in ``raw_status``."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def halted(self) -> bool:
        """True when the target trades no more (what a kill must reach)."""
        return self in (State.PAUSED, State.STOPPED)


class ActionKind(StrEnum):
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    START = "start"

    @property
    def destructive(self) -> bool:
        """Stop and pause halt trading; resume and start re-arm it. All four are confirmed."""
        return self in (ActionKind.STOP, ActionKind.PAUSE)


class OutcomeKind(StrEnum):
    """The five answers any control call can have, whatever the vendor said."""

    APPLIED = "applied"  # the venue changed the state as asked
    ALREADY = "already"  # the target was already in that state
    REJECTED = "rejected"  # the venue understood and said no, with its reason
    FAILED = "failed"  # transport or server error: nothing happened, as far as we know
    UNCERTAIN = "uncertain"  # no answer: it may or may not have happened; re-read

    @property
    def ok(self) -> bool:
        return self in (OutcomeKind.APPLIED, OutcomeKind.ALREADY)


EMPTY_ATTRS: Final[Mapping[str, AttrValue]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Target:
    """One controllable thing as last confirmed by its venue.

    ``attrs`` carries what the panels show (P&L, open positions, symbols ...) keyed by
    names the venue module documents; widgets treat it as data, never as vendor logic.
    ``confirmed_at`` is the UNIX time (seconds) the venue last confirmed this state.
    """

    venue: str
    kind: TargetKind
    id: str
    name: str
    state: State
    raw_status: str
    attrs: Mapping[str, AttrValue] = field(default_factory=lambda: EMPTY_ATTRS)
    confirmed_at: float = field(default_factory=time.time, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.id)

    def with_state(self, state: State, raw_status: str | None = None) -> Target:
        """This target in ``state``: itself when nothing changes (a kill's plan asks it of
        every target it reads, 50,000 copies that differed in nothing cost ~0.1 s)."""
        if state is self.state and (not raw_status or raw_status == self.raw_status):
            return self
        return replace(self, state=state, raw_status=raw_status or self.raw_status)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """An option an action accepts, described for the confirmation modal."""

    name: str
    label: str
    default: OptionValue
    help: str = ""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An action a venue offers on a target: what it is called and what it leaves behind."""

    kind: ActionKind
    label: str
    leaves_behind: str = ""
    options: tuple[OptionSpec, ...] = ()
    accepts_reason: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """An action as asked for: its kind, chosen options and the operator's reason."""

    kind: ActionKind
    options: Mapping[str, OptionValue] = field(default_factory=lambda: MappingProxyType({}))
    reason: str | None = None

    def __post_init__(self) -> None:
        """The options are read-only whoever built the action (a decoder hands a dict)."""
        if type(self.options) is not MappingProxyType:
            object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def option(self, name: str, default: OptionValue = False) -> OptionValue:
        return self.options.get(name, default)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one control call came to, in the shared vocabulary plus the vendor's words."""

    kind: OutcomeKind
    message: str
    http_status: int | None = None
    latency_ms: float | None = None
    state_after: State | None = None
    vendor_code: str | None = None
    warning: str | None = None
    leaves: State | None = None
    """A state short of the asked one that this call rightly leaves the target in, as
    its venue knows its own rules (a 55-tech start lifts the stop of an engine that is
    also paused: the engine then reads PAUSED, and the start is done). Verification
    accepts a re-read showing it; ``warning`` says what is left to do."""

    @property
    def ok(self) -> bool:
        return self.kind.ok
