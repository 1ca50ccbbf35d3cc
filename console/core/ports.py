"""The ports between core and the venues: what a venue client provides and is given.

Core (the dispatcher, the kill, the store, the session) and the screen talk to venues
only through these types; a venue module (one per vendor, in the venues package)
implements :class:`VenueClient` and translates its vendor's answers into the shared
vocabulary of ``console.core.model``. Nothing here knows a vendor: core imports nothing
from the venues package (its ``base`` module re-exports these names for the venue
modules). The read errors a list read may raise live here too, because core decides on
them (*unreachable*, *unreadable*, *incomplete*).

The two ports on the other side, between the console's screen and what it shows and
drives, are here as well: :class:`StateSource` (what the screen reads) and
:class:`ControlPort` (what the screen asks for). The local session implements both
(``Session`` and its ``LocalControl``); a desk service shared by many consoles would be
another implementation, and the screen's tests hand in fakes.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from console.core.model import Action, ActionSpec, AttrValue, Outcome, State, Target
from console.core.scrub import Scrubber

if TYPE_CHECKING:
    from console.core.journal import Journal
    from console.core.journal_rows import Entry
    from console.core.kill import KillPlan, KillScope
    from console.core.kill_lock import KillLock
    from console.core.plan import ItemResult, Plan, Report, ResultCallback
    from console.core.recovery import Verified
    from console.core.reverify import Recheck
    from console.core.session import SessionOptions
    from console.core.store import Store


class Secret:
    """A credential value that never prints itself (repr, str, f-strings, logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class RateLimit:
    """``limit`` units (requests or weight) per rolling ``window_s`` seconds."""

    limit: int
    window_s: float


@dataclass(frozen=True)
class ControlRate:
    """``limit`` units per ``window_s``; one control call costs ``weight`` units."""

    bucket: str  # the name a profile's rate_limits table overrides
    limit: int
    window_s: float
    weight: int = 1

    @property
    def calls_per_window(self) -> int:
        return max(1, self.limit // max(1, self.weight))

    @property
    def per_minute(self) -> float:
        return self.calls_per_window * 60.0 / self.window_s if self.window_s else math.inf


@dataclass(frozen=True)
class Capabilities:
    """What a venue client declares about its vendor, so core and the screen know no vendor.

    The defaults mean "nothing special": the venue reports pause state, no attribute
    measures exposure, control calls are unpaced, and no action option changes what an
    action leaves behind.
    """

    # False: the venue cannot say whether a target is paused (its targets read UNKNOWN);
    # a done control call is then "halted by the venue's answer only", never verified,
    # and the journal fills the state.
    reports_pause_state: bool = True
    # (attribute, weight): exposure is the sum of |value| x weight, to order a kill.
    exposure_attrs: tuple[tuple[str, float], ...] = ()
    # The documented limit control calls are paced under (unscaled), or None.
    control_rate: ControlRate | None = None
    # An action option that, when chosen (true), leaves nothing behind (the spec's
    # ``leaves_behind`` no longer applies), e.g. closing positions before a pause.
    clears_leaves_behind: str | None = None


def paced_rate(documented: ControlRate | None, settings: VenueSettings) -> ControlRate | None:
    """The documented control rate as ``settings`` pace it (None: unpaced or undeclared):
    ``rate_limits`` overrides the bucket, ``rate_scale`` scales the window."""
    if documented is None or not settings.pacing:
        return None
    override = settings.rate_limits.get(documented.bucket)
    limit = override.limit if override else documented.limit
    window = (override.window_s if override else documented.window_s) * settings.rate_scale
    return ControlRate(documented.bucket, limit, window, documented.weight)


@dataclass(frozen=True)
class VenueSettings:
    """One configured venue, as the config layer hands it to a venue module.

    ``credentials`` maps the credential names a venue module documents (``api_key``,
    ``api_secret``, ``admin_token``, ``email``/``password``, ``api_keys``) to secrets;
    a list-valued credential (55-tech's one key per client) is comma-joined.
    ``rate_scale`` multiplies every documented rate window (tests scale them down);
    ``rate_limits`` overrides a documented bucket by name.
    """

    name: str
    api: str
    base_url: str
    ws_url: str | None = None
    credentials: Mapping[str, Secret] = field(default_factory=dict)
    poll_interval_s: float = 2.0
    request_timeout_s: float = 5.0
    control_timeout_s: float = 10.0
    rate_scale: float = 1.0
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)
    pacing: bool = True
    options: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    # Bounds on what a venue may make us do (docs/EMERGENCY.md, "Deadlines and bounds"):
    # defaults far above any real account, so only a broken or hostile venue meets them.
    max_pages: int = 5_000  # pages of one list read; beyond: the venue is *incomplete*
    max_targets: int = 250_000  # targets of one list read; beyond: *incomplete*
    max_body_bytes: int = 64 * 1024 * 1024  # one answer's body; beyond: no answer read
    retry_after_cap_s: float = 30.0  # longest vendor-asked wait honoured; beyond: failed
    # A private folder (0700) where a venue may keep state across processes, e.g. a
    # login session (x3algo allows 5 logins per 15 minutes); None: keep nothing.
    state_dir: str | None = None

    def secret(self, name: str) -> Secret:
        try:
            return self.credentials[name]
        except KeyError:
            raise VenueConfigError(
                f"venue {self.name!r} ({self.api}) needs credential {name!r}; "
                f"add it under credentials in the profile"
            ) from None


class VenueConfigError(Exception):
    """A venue is configured in a way it cannot work with (missing credential ...)."""


class FeedStatus(StrEnum):
    """Health of a venue's data feed, shown as one mark per venue in the header."""

    CONNECTING = "connecting"
    LIVE = "live"  # a push stream is connected
    POLLING = "polling"  # REST polling answers
    RECONNECTING = "reconnecting"  # stream lost, retrying with backoff
    DOWN = "down"  # the last attempts failed


class FeedSink(Protocol):
    """Where a feed delivers what it learns; the core store implements it."""

    def snapshot(self, venue: str, targets: Iterable[Target]) -> None:
        """The complete current list of a venue's targets (targets not in it are gone)."""

    def upsert(self, targets: Iterable[Target]) -> None:
        """Some targets, freshly confirmed."""

    def patch(
        self,
        venue: str,
        target_id: str,
        *,
        state: State | None = None,
        raw_status: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
        confirms: bool = True,
    ) -> None:
        """A partial update from a stream event (unknown targets are ignored).

        ``confirms``: the event vouches for the target's state (a stream that reports
        every state change: its silence is no change). False for a figure a stream keeps
        that says nothing of the state (55-tech's order counts: its status comes only from
        polling): the target's confirmed time and the venue's data age stay as they were,
        so a venue whose status reads fail goes stale however busy its stream."""

    def health(self, venue: str, status: FeedStatus, detail: str = "") -> None:
        """The feed's health changed, with the venue's own words when it failed."""

    def count_events(self, venue: str, n: int = 1) -> None:
        """``n`` stream events arrived (for the event-rate sparkline and benchmarks)."""


class VenueClient(ABC):
    """One vendor API as the core sees it."""

    def __init__(self, settings: VenueSettings) -> None:
        self.settings = settings
        # Rows of the last list read that could not be read (one bad row fails only
        # itself): "<id>: <why>", scrubbed. A kill names them and never reports the
        # venue all halted while any is listed. Reset by each list read.
        self.skipped_rows: list[str] = []

    @property
    def credentials_scrubber(self) -> Scrubber | None:
        """The scrubber that knows this venue's credentials (a venue client has its
        ``scrubber``), for the store to mask them in what the venue lists; None: none."""
        scrubber = getattr(self, "scrubber", None)
        return scrubber if isinstance(scrubber, Scrubber) else None

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def api(self) -> str:
        """Which vendor API this client speaks (``settings.api``: its kind on screen)."""
        return self.settings.api

    @property
    def capabilities(self) -> Capabilities:
        """What this venue declares (see :class:`Capabilities`); nothing special by default."""
        return Capabilities()

    def control_rate(self) -> ControlRate | None:
        """The limit this client paces control calls under, as its settings scale it."""
        return paced_rate(self.capabilities.control_rate, self.settings)

    @abstractmethod
    async def list_targets(self) -> list[Target]:
        """Every target of the venue, following the vendor's pagination."""

    @abstractmethod
    async def read_target(self, target_id: str) -> Target | None:
        """One target freshly read (None when the venue says it does not exist)."""

    @abstractmethod
    def actions_for(self, target: Target) -> list[ActionSpec]:
        """The documented actions that make sense on this target in its current state."""

    @abstractmethod
    async def execute(self, target_id: str, action: Action) -> Outcome:
        """Send one control call and translate the answer into an Outcome.

        Never raises for venue or transport trouble: that is an Outcome (failed,
        rejected, uncertain). A call that timed out is never re-sent.
        """

    @abstractmethod
    async def run_feed(self, sink: FeedSink) -> None:
        """Keep ``sink`` up to date until cancelled; never returns on venue errors."""

    def control_state(self, target: Target) -> State:
        """The state this venue's control calls set on ``target``: what a call's re-read is
        judged by. For most venues that is the state shown. A venue whose shown state also
        folds in a block no control call sets or lifts (55-tech: a global emergency makes
        every engine read stopped) answers from what its calls do set, so a stop that never
        landed is not confirmed by someone else's block, nor a landed one doubted."""
        return target.state

    def held_by(self, target: Target) -> tuple[int, str] | None:
        """What ``target`` holds that halting it leaves as it is, unless an option of the
        halt clears it: an amount and its noun (PipAI: a strategy's open positions). None
        when nothing. A kill's plan sums it — for the targets it halts, and for those
        already halted, which no option of the kill reaches — so "positions closed" is
        never read as covering them, nor one target's count as the whole."""
        return None

    def kill_action(self, target: Target, *, clear_leaves_behind: bool = False) -> Action | None:
        """The action an emergency stop takes on this target, or None if it needs none.

        ``clear_leaves_behind`` is the profile's (or the kill modal's) policy: choose this
        venue's option that leaves nothing behind (``Capabilities.clears_leaves_behind``,
        e.g. closing positions before a pause) where the venue has one.
        """
        return None

    async def aclose(self) -> None:
        """Release connections."""


# ----- read errors -----------------------------------------------------------------------
class FeedError(Exception):
    """A feed could not get data; the message is shown on the venue's panel as is.

    A plain FeedError means the venue could not be reached or would not answer
    (*unreachable*); the two subclasses below say it did answer, untruthfully.

    ``transient``: the venue said, in its own way, that it is briefly in trouble (a 5xx,
    a 429 asking a wait the console honours, no answer at all), so the same read may
    well succeed in a moment; a kill's planning read keeps trying such a venue for
    longer (:mod:`console.core.read_retry`), and so does its verifying re-read, than one whose
    answer will not change (a refused key, a missing path, an unreadable shape).
    """

    kind = "unreachable"
    transient = False

    def __init__(self, *args: object, transient: bool = False) -> None:
        super().__init__(*args)
        self.transient = transient


class Unreadable(FeedError):
    """The venue answered, but not in the documented shape (``{}``, an empty body, a
    list where an object belongs): nothing can be said of its targets — never "none"."""

    kind = "unreadable"


class Incomplete(FeedError):
    """The list could not be read to its end (a paging cap, a repeated cursor, a page
    that failed mid-way). ``partial`` holds the targets read before it stopped, which a
    kill still halts; the venue is reported *incomplete*, never "all verified"."""

    kind = "incomplete"

    def __init__(self, message: str, partial: list[Target] | None = None) -> None:
        super().__init__(message)
        self.partial: list[Target] = list(partial or [])


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of why a feed failed (the kind first when
    the venue answered untruthfully: ``UNREADABLE: …``, ``INCOMPLETE: …``)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, Unreadable | Incomplete):
        message = f"{exc.kind.upper()}: {message}"
    return message if len(message) <= 200 else message[:199] + "…"


# ----- the screen's ports ------------------------------------------------------------------
class VenueView(Protocol):
    """A venue as the screen plans with it: its name, API, declared capabilities, the
    actions it offers and what a kill would ask of a target. Never a call: calls go
    through the :class:`ControlPort`. A :class:`VenueClient` is one."""

    @property
    def name(self) -> str: ...

    @property
    def api(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def control_rate(self) -> ControlRate | None: ...

    def actions_for(self, target: Target) -> list[ActionSpec]: ...

    def held_by(self, target: Target) -> tuple[int, str] | None: ...

    def kill_action(
        self, target: Target, *, clear_leaves_behind: bool = False
    ) -> Action | None: ...


class StateSource(Protocol):
    """What the console's screen reads: the live store (targets, feed health), the
    profile's options, the venues (names, kinds, capabilities, the actions each offers)
    and the journal (the audit screen, a target's history)."""

    @property
    def options(self) -> SessionOptions: ...

    @property
    def store(self) -> Store: ...

    @property
    def clients(self) -> Mapping[str, VenueView]:
        """The venues by name, to plan with (their API, capabilities, actions)."""
        ...

    @property
    def venues(self) -> list[str]: ...

    @property
    def journal(self) -> Journal:
        """Read for the audit screen, a target's history and calls cut short."""
        ...

    def start_feeds(self) -> None:
        """Keep the store up to date from now on (called inside the event loop)."""

    async def aclose(self) -> None:
        """Stop the feeds and release what the source holds."""


class ControlPort(Protocol):
    """What the console's screen asks for: run a plan (a key's or the kill's), plan a kill,
    the plan now running, re-verification, and the state of the journal those are
    recorded in. Every call is journaled and verified behind this port."""

    @property
    def running(self) -> Report | None:
        """The plan being dispatched now, with its results so far."""
        ...

    @property
    def busy(self) -> bool: ...

    async def dispatch(
        self, plan: Plan, on_result: ResultCallback | None = None, *, batch_id: str | None = None
    ) -> Report:
        """Run ``plan`` (journaled, verified); raises ``DispatchBusy`` while another runs.
        ``batch_id`` joins an earlier batch (a kill's retries and re-stops)."""
        ...

    def plan_kill(self, scope: KillScope, *, clear_leaves_behind: bool) -> KillPlan:
        """The emergency stop of ``scope``, frozen from what is known now (no network)."""
        ...

    def kill_lock(self) -> KillLock | None:
        """The lock that allows one kill per profile across processes (None: no lock)."""
        ...

    async def reverify(
        self, venue: str, doubtful: Sequence[ItemResult], batch_ids: Sequence[str], *, at: float
    ) -> Recheck:
        """Re-read ``venue`` for the ``doubtful`` results of the batches, journaled."""
        ...

    async def verify_interrupted(self, entries: list[Entry]) -> list[Verified]:
        """Re-read the targets of calls cut short and journal what they are now."""
        ...

    def journal_refusal(self) -> str | None:
        """Why a single action may not go now (its journal cannot be written), or None."""
        ...

    def journal_failure(self) -> str | None:
        """For the kill's report: why the journal failed and where the record is instead."""
        ...

    def refused_now(self) -> Mapping[str, int]:
        """Per venue, the running plan's calls the venue refused with 429 that wait to go
        again (the venue kit's 429 rule, ``turns.refused``): for the kill's progress."""
        ...

    def chain_head(self) -> str | None:
        """The journal's hash chain head (a receipt for the report); None if unreadable."""
        ...
