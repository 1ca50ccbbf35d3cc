"""The desk's protocol on NATS: every subject, bucket, stream and message, in one place.

A desk is one hub per profile (``trading-console hub``) and any number of consoles and
CLI commands attached to it through a NATS server (or cluster) with JetStream on. The
hub alone logs in to the venues, paces, polls or streams, dispatches and journals; the
others read what it publishes and send it requests. This module is the reference both
sides are written against; nothing here opens a connection. ``P`` below is the profile
name, ``U`` an operator's NATS user name (both :func:`token`-checked).

**State.** JetStream key-value bucket ``desk_P`` (:func:`bucket`), written by the hub only:

- ``t.<venue>.<b64url target id>`` (:func:`target_key`) → :class:`TargetMsg`; a target
  gone from its venue is deleted from the bucket;
- ``h.<venue>`` (:func:`health_key`) → :class:`HealthMsg`;
- ``v.<venue>`` → :class:`VenueMsg` (the venue's API kind, so a console builds its
  ``VenueView`` from the profile's own venue settings with the registry's client class:
  planning never calls a venue, so no login happens on the console);
- ``run`` → :class:`RunningMsg` while a plan runs (deleted when it ends);
- ``lease`` (:data:`LEASE_KEY`) → the :class:`HubBeat` of the hub that may act: the one
  hub per profile is whoever holds this lease (``console.desk.lease``: taken with a
  create or a revision-conditional update, renewed every second, expired when nobody
  sees it renewed for 3 s; a standby hub waits on it);
- ``r.<id>`` → a re-arm request waiting for a second operator
  (``console.desk.rearm.RearmMsg``; deleted once decided or expired), also told on
  ``desk.P.rearm`` as it is posted, decided or expires.

A console that attaches reads the whole bucket (or watches it), then follows
``desk.P.state``: one :class:`StateBatch` per hub tick with what changed (targets, gone,
health; cut into several batches when one would not fit a NATS message, as a resync of a
large profile). Each batch carries ``seq``, consecutive per hub run (``hub_id``); a
console that sees a gap or a new ``hub_id`` re-reads the bucket. The hub publishes the
whole state when it starts (``Hub.start`` returns after) and again after each NATS
reconnect.

**Commands.** Request/reply on ``desk.P.cmd.U.<verb>`` (:func:`command_subject`, verbs in
:class:`Verb`). The operator's identity is the ``U`` token, and the NATS server enforces
it: user ``alice`` may publish only ``desk.P.cmd.alice.<verb>`` for the verbs of her
role (:mod:`console.desk.roles`; a production desk configures the same), so the hub
journals the authenticated user, never a self-declared one. A command must be a
request whose reply subject is under its user's own inbox (``_INBOX.U.``,
:mod:`console.desk.connect`); anything else (a plain publish, a reply aimed at another
operator) is refused unanswered and journaled as a ``note``. The request's
``host``/``ssh_client`` say where the operator sits (shown and journaled as the host
columns, as the OS reports them locally). Every reply is a :class:`CommandReply`: a
``batch_id``, or ``refused`` in words (nothing was sent).

- ``dispatch`` (:class:`DispatchRequest`): a frozen :class:`PlanMsg`; refused while
  another plan runs (the local console's *busy*), so two operators' actions on one
  target are serialised; refused (and journaled) when it resumes or starts a target a
  kill halted: that is ``rearm``'s;
- ``kill`` (:class:`KillRequest`): the kill's frozen plan. One kill per desk: a kill sent
  while one runs *joins* it (reply: the running batch id, ``joined`` true; no call is
  sent twice); a kill sent while an ordinary plan runs waits for it, then runs;
- ``reverify`` (:class:`ReverifyRequest`) and ``verify-interrupted``
  (:class:`VerifyInterruptedRequest`): answered when done, with their results in
  ``CommandReply.data``;
- ``skip`` (:class:`SkipRequest`): skip a schedule's next run (the hub's automation);
- ``checkin`` (:class:`CheckinRequest`): an operator is here (the dead-man timer);
- ``rearm`` (:class:`RearmRequest`, admin): a plan of resumes and starts, the only way
  back for a target a kill halted; with two-person re-arm on it waits for ``approve``
  (:class:`ApproveRequest`) from another operator (:mod:`console.desk.rearm`).

**Results.** ``desk.P.batch.<batch_id>`` (:func:`batch_subject`) carries
:class:`BatchEvent` s: each :class:`ResultMsg` as its outcome arrives, again once
verified, then one ``report`` (:class:`ReportMsg`) at the end. They are also kept in the
JetStream stream ``DESK_P_EVENTS`` (:func:`events_stream`, one day), so a console that
learns the batch id from the reply (or joins a kill) replays the batch from its start.
``desk.P.activity`` carries one :class:`ActivityMsg` per action for every console
("bob@desk-2: stop x3algo RSI Momentum — applied"), in the same stream.

**Journal.** JetStream stream ``DESK_P_JOURNAL`` (:func:`journal_stream`) on
``desk.P.journal``, created with ``deny_delete`` and ``deny_purge`` (replicated in a
cluster): one :class:`JournalRowMsg` per row of the hub's local SQLite journal, the same
columns and the same hash chain (``console.core.journal_chain``), ``seq`` as there;
message id ``<profile>:<seq>`` so a row mirrored twice is stored once.

**Liveness.** ``desk.P.hub`` carries a :class:`HubBeat` every second (:data:`BEAT_S`);
a console that hears none for :data:`DOWN_AFTER_S` shows DESK DOWN, and the CLI says the
hub is unreachable when a request finds no responder (NATS answers that at once). One
hub per profile: the ``lease`` key decides (above); ``desk.P.hub.who`` (:func:`who_subject`)
is answered by the serving hub with its beat (the CLI asks it).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from console.core.dispatcher import ItemResult, Plan, PlanItem, Report
from console.core.journal import Entry
from console.core.model import (
    Action,
    ActionKind,
    AttrValue,
    OptionValue,
    Outcome,
    OutcomeKind,
    State,
    Target,
    TargetKind,
)
from console.core.ports import FeedStatus

BEAT_S = 1.0
"""The hub's heartbeat period on ``desk.P.hub``."""
DOWN_AFTER_S = 3.0
"""No heartbeat for this long: the console shows DESK DOWN."""
EVENTS_MAX_AGE_S = 24 * 3600.0

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ProtocolError(ValueError):
    """A name cannot be a subject token, or a message does not parse."""


def token(name: str) -> str:
    """``name`` as one subject token (profile, user): letters, digits, ``_`` and ``-``."""
    if not _TOKEN.fullmatch(name):
        raise ProtocolError(
            f"{name!r} cannot name a desk subject: use letters, digits, '_' and '-' only"
        )
    return name


# ----- names ------------------------------------------------------------------------------
def bucket(profile: str) -> str:
    return f"desk_{token(profile)}"


def journal_stream(profile: str) -> str:
    return f"DESK_{token(profile)}_JOURNAL"


def events_stream(profile: str) -> str:
    return f"DESK_{token(profile)}_EVENTS"


def root(profile: str) -> str:
    return f"desk.{token(profile)}"


def state_subject(profile: str) -> str:
    return f"{root(profile)}.state"


def hub_subject(profile: str) -> str:
    return f"{root(profile)}.hub"


def who_subject(profile: str) -> str:
    """Request/reply: the running hub answers with a :class:`HubBeat` (a second hub
    asks before it starts; NATS answers "no responders" at once when there is none)."""
    return f"{root(profile)}.hub.who"


def activity_subject(profile: str) -> str:
    return f"{root(profile)}.activity"


def journal_subject(profile: str) -> str:
    return f"{root(profile)}.journal"


def batch_subject(profile: str, batch_id: str) -> str:
    return f"{root(profile)}.batch.{token(batch_id)}"


def command_subject(profile: str, user: str, verb: Verb | str) -> str:
    return f"{root(profile)}.cmd.{token(user)}.{Verb(verb).value}"


def parse_command_subject(profile: str, subject: str) -> tuple[str, Verb]:
    """(user, verb) of a command subject; ProtocolError when it is not one."""
    prefix = f"{root(profile)}.cmd."
    rest = subject[len(prefix) :] if subject.startswith(prefix) else ""
    user, _, verb = rest.partition(".")
    try:
        return token(user), Verb(verb)
    except ValueError:
        raise ProtocolError(f"not a command subject of {profile!r}: {subject!r}") from None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def target_key(venue: str, target_id: str) -> str:
    return f"t.{token(venue)}.{_b64(target_id)}"


def parse_target_key(key: str) -> tuple[str, str]:
    _, venue, encoded = key.split(".", 2)
    return venue, _unb64(encoded)


def health_key(venue: str) -> str:
    return f"h.{token(venue)}"


def venue_key(venue: str) -> str:
    return f"v.{token(venue)}"


RUNNING_KEY = "run"
LEASE_KEY = "lease"


class Verb(StrEnum):
    DISPATCH = "dispatch"
    KILL = "kill"
    REVERIFY = "reverify"
    VERIFY_INTERRUPTED = "verify-interrupted"
    SKIP = "skip"
    CHECKIN = "checkin"
    REARM = "rearm"
    APPROVE = "approve"


# ----- messages ---------------------------------------------------------------------------
class Msg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def encode(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def decode(cls, data: bytes) -> Any:
        try:
            return cls.model_validate_json(data)
        except ValueError as exc:
            raise ProtocolError(f"not a {cls.__name__}: {exc}") from None


Attr = str | int | float | bool | None | list[str]


def _attrs_out(attrs: Mapping[str, AttrValue]) -> dict[str, Attr]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()}


def _attrs_in(attrs: Mapping[str, Attr]) -> Mapping[str, AttrValue]:
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()})


class TargetMsg(Msg):
    venue: str
    kind: TargetKind
    id: str
    name: str
    state: State
    raw_status: str
    attrs: dict[str, Attr] = {}
    confirmed_at: float

    @classmethod
    def of(cls, t: Target) -> TargetMsg:
        return cls(venue=t.venue, kind=t.kind, id=t.id, name=t.name, state=t.state,
                   raw_status=t.raw_status, attrs=_attrs_out(t.attrs),
                   confirmed_at=t.confirmed_at)  # fmt: skip

    def target(self) -> Target:
        return Target(self.venue, self.kind, self.id, self.name, self.state, self.raw_status,
                      _attrs_in(self.attrs), self.confirmed_at)  # fmt: skip


class HealthMsg(Msg):
    venue: str
    status: FeedStatus
    detail: str = ""
    since: float = 0.0
    last_update: float | None = None
    events: int = 0
    listed: bool = False
    """The venue's complete list came in at least once (the kill's "never listed")."""
    incomplete: str = ""
    """Why the last list read stopped short ("" when it did not)."""


class VenueMsg(Msg):
    name: str
    api: str


class StateBatch(Msg):
    hub_id: str
    seq: int
    ts: float
    targets: list[TargetMsg] = []
    gone: list[tuple[str, str]] = []
    health: list[HealthMsg] = []


class ActionMsg(Msg):
    kind: ActionKind
    options: dict[str, OptionValue] = {}
    reason: str | None = None

    @classmethod
    def of(cls, a: Action) -> ActionMsg:
        return cls(kind=a.kind, options=dict(a.options), reason=a.reason)

    def action(self) -> Action:
        return Action(self.kind, MappingProxyType(dict(self.options)), self.reason)


class PlanItemMsg(Msg):
    venue: str
    target_id: str
    target_name: str
    kind: TargetKind
    action: ActionMsg
    state_before: State = State.UNKNOWN
    exposure: float = 0.0

    @classmethod
    def of(cls, i: PlanItem) -> PlanItemMsg:
        return cls(venue=i.venue, target_id=i.target_id, target_name=i.target_name,
                   kind=i.kind, action=ActionMsg.of(i.action), state_before=i.state_before,
                   exposure=i.exposure)  # fmt: skip

    def item(self) -> PlanItem:
        return PlanItem(self.venue, self.target_id, self.target_name, self.kind,
                        self.action.action(), self.state_before, self.exposure)  # fmt: skip


class PlanMsg(Msg):
    items: list[PlanItemMsg]
    title: str
    scope: str = "one"
    leaves_behind: list[str] = []
    created_at: float

    @classmethod
    def of(cls, p: Plan) -> PlanMsg:
        return cls(items=[PlanItemMsg.of(i) for i in p.items], title=p.title, scope=p.scope,
                   leaves_behind=list(p.leaves_behind), created_at=p.created_at)  # fmt: skip

    def plan(self) -> Plan:
        return Plan(tuple(i.item() for i in self.items), self.title, self.scope,
                    tuple(self.leaves_behind), self.created_at)  # fmt: skip


class OutcomeMsg(Msg):
    kind: OutcomeKind
    message: str
    http_status: int | None = None
    latency_ms: float | None = None
    state_after: State | None = None
    vendor_code: str | None = None
    warning: str | None = None
    leaves: State | None = None

    @classmethod
    def of(cls, o: Outcome) -> OutcomeMsg:
        return cls(kind=o.kind, message=o.message, http_status=o.http_status,
                   latency_ms=o.latency_ms, state_after=o.state_after,
                   vendor_code=o.vendor_code, warning=o.warning, leaves=o.leaves)  # fmt: skip

    def outcome(self) -> Outcome:
        return Outcome(self.kind, self.message, self.http_status, self.latency_ms,
                       self.state_after, self.vendor_code, self.warning, self.leaves)  # fmt: skip


class ResultMsg(Msg):
    item: PlanItemMsg
    outcome: OutcomeMsg
    verified_state: State | None = None
    verified: bool | None = None

    @classmethod
    def of(cls, r: ItemResult) -> ResultMsg:
        return cls(item=PlanItemMsg.of(r.item), outcome=OutcomeMsg.of(r.outcome),
                   verified_state=r.verified_state, verified=r.verified)  # fmt: skip

    def result(self) -> ItemResult:
        return ItemResult(self.item.item(), self.outcome.outcome(), self.verified_state,
                          self.verified)  # fmt: skip


class ReportMsg(Msg):
    plan: PlanMsg
    batch_id: str
    started_ms: int
    results: list[ResultMsg] = []
    finished_ms: int | None = None
    summary: str = ""

    @classmethod
    def of(cls, r: Report) -> ReportMsg:
        return cls(plan=PlanMsg.of(r.plan), batch_id=r.batch_id, started_ms=r.started_ms,
                   results=[ResultMsg.of(x) for x in r.results.values()],
                   finished_ms=r.finished_ms, summary=r.summary())  # fmt: skip

    def report(self) -> Report:
        results = {(m.item.venue, m.item.target_id): m.result() for m in self.results}
        return Report(self.plan.plan(), self.batch_id, self.started_ms, results,
                      self.finished_ms)  # fmt: skip


class BatchEvent(Msg):
    batch_id: str
    seq: int
    """Consecutive from 1 within a batch (a joined kill's retries continue it)."""
    kind: Literal["result", "report"]
    result: ResultMsg | None = None
    report: ReportMsg | None = None


class RunningMsg(Msg):
    batch_id: str
    title: str
    scope: str
    operator: str
    started_ms: int
    total: int


class ActivityMsg(Msg):
    ts_ms: int
    operator: str
    """``user@host`` (the user is the authenticated NATS user)."""
    text: str
    batch_id: str | None = None

    def line(self) -> str:
        return f"{self.operator}: {self.text}"


class HubBeat(Msg):
    hub_id: str
    profile: str
    ts: float
    seq: int
    state_seq: int
    running: str | None = None
    """The running plan's batch id, or None."""
    venues: list[str] = []
    host: str = ""
    started: float = 0.0
    """When this hub started (UNIX seconds)."""


# ----- requests and the reply ---------------------------------------------------------------
class Request(Msg):
    host: str = ""
    ssh_client: str | None = None


class DispatchRequest(Request):
    plan: PlanMsg
    batch_id: str | None = None
    """Journal the plan in this earlier batch (a kill's retries and re-stops)."""


class KillRequest(Request):
    plan: PlanMsg
    batch_id: str | None = None


class ReverifyRequest(Request):
    venue: str
    doubtful: list[ResultMsg]
    batch_ids: list[str]
    at: float


class VerifyInterruptedRequest(Request):
    seqs: list[int] = []
    """Journal ``seq`` of the interrupted intents to verify; empty: every one."""


class SkipRequest(Request):
    schedule: str
    why: str = ""


class CheckinRequest(Request):
    pass


class RearmRequest(Request):
    plan: PlanMsg
    """Resume or start only (each item's action); an admin's verb."""
    why: str = ""


class ApproveRequest(Request):
    request_id: str
    approve: bool
    why: str = ""


REQUESTS: Mapping[Verb, type[Request]] = MappingProxyType({
    Verb.DISPATCH: DispatchRequest,
    Verb.KILL: KillRequest,
    Verb.REVERIFY: ReverifyRequest,
    Verb.VERIFY_INTERRUPTED: VerifyInterruptedRequest,
    Verb.SKIP: SkipRequest,
    Verb.CHECKIN: CheckinRequest,
    Verb.REARM: RearmRequest,
    Verb.APPROVE: ApproveRequest,
})  # fmt: skip


class CommandReply(Msg):
    batch_id: str | None = None
    joined: bool = False
    """A kill joined the kill already running (``batch_id`` is that kill's)."""
    refused: str | None = None
    """Why nothing was done, in words (None: accepted)."""
    data: dict[str, Any] = {}
    """Verb-specific results: ``reverify`` → {"recheck": …}, ``verify-interrupted`` →
    {"verified": [...]}, ``skip`` → {"at": …}."""

    @property
    def ok(self) -> bool:
        return self.refused is None


# ----- the journal -------------------------------------------------------------------------
class JournalRowMsg(Msg):
    """One journal row, the columns of ``console.core.journal.Entry`` (hash included)."""

    seq: int
    ts_ms: int
    kind: str
    op_id: str
    batch_id: str | None
    operator: str
    host: str
    ssh_client: str | None
    profile: str
    venue: str
    target_id: str
    target_name: str
    action: str
    options: str
    reason: str | None
    outcome: str | None
    http_status: int | None
    latency_ms: float | None
    message: str | None
    state: str | None
    hash: str | None = None

    @classmethod
    def of(cls, e: Entry) -> JournalRowMsg:
        return cls.model_validate(
            {name: getattr(e, name) for name in cls.model_fields}  # pydantic: class fields
        )

    def entry(self) -> Entry:
        return Entry(**self.model_dump())

    def msg_id(self) -> str:
        return f"{self.profile}:{self.seq}"
