"""The desk's messages: one pydantic model per message the hub and its clients exchange.

Every model is frozen JSON (:meth:`Msg.encode` / :meth:`Msg.decode`, a
:class:`~console.desk.subjects.ProtocolError` when bytes do not parse) and converts to and
from the core's own types (``of`` / ``target()``, ``plan()``, ``report()``…), so neither
side handles raw dictionaries. Where each one travels (subject, bucket key, stream) is
the protocol reference in :mod:`console.desk.subjects`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter

from console.core.journal_rows import Entry
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
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.core.ports import FeedStatus
from console.desk.subjects import ProtocolError, Verb

COMPRESS_OVER = 64 * 1024
"""A message's JSON longer than this goes as ``z`` + zlib (a kill's plan and report:
2,000 targets are 0.4 and 1.3 MB of JSON, past a NATS server's default ``max_payload``
of 1 MB; compressed, a tenth of that). JSON always starts with ``{``, so the two never
mix up."""
MAX_DECODED = 64 * 1024 * 1024
"""The most a compressed message may inflate to (a bomb is a protocol error)."""
_ZLIB = b"z"


def pack(json_bytes: bytes) -> bytes:
    """JSON as it goes on the wire: itself, or compressed when long."""
    if len(json_bytes) <= COMPRESS_OVER:
        return json_bytes
    return _ZLIB + zlib.compress(json_bytes, 1)


def unpack(data: bytes) -> bytes:
    """The JSON of a message from the wire (ProtocolError past :data:`MAX_DECODED`)."""
    if data[:1] != _ZLIB:
        return data
    inflate = zlib.decompressobj()
    try:
        out = inflate.decompress(data[1:], MAX_DECODED)
    except zlib.error as exc:
        raise ProtocolError(f"a compressed message does not inflate: {exc}") from None
    if inflate.unconsumed_tail:
        raise ProtocolError(f"a compressed message inflates past {MAX_DECODED} bytes")
    return out


class Msg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    carries_core: ClassVar[bool] = False
    """It holds the core's own plan items or results (read straight into them): their
    actions' options are read-only mappings, written as JSON objects without a warning."""

    def encode(self) -> bytes:
        json = self.model_dump_json(fallback=_frozen_mapping, warnings=not self.carries_core)
        return pack(json.encode())

    @classmethod
    def decode(cls, data: bytes) -> Any:
        try:
            return cls.model_validate_json(unpack(data))
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
    carries_core = True
    items: list[PlanItem]
    """The core's own items, read straight into them (the wire of :class:`PlanItemMsg`):
    as models then converted, a 600-target plan cost the console 2.5 ms and the hub
    1.5 ms more on the kill's way to its first call."""
    title: str
    scope: str = "one"
    leaves_behind: list[str] = []
    created_at: float
    everything: bool = False  # a kill of everything: its re-read names what appeared
    venues: list[str] = []  # a kill of everything: every venue it re-reads, planned or not

    @classmethod
    def of(cls, p: Plan) -> PlanMsg:
        global _last_plan
        if _last_plan is not None and _last_plan[0] is p:
            return _last_plan[1]
        msg = cls(items=list(p.items), title=p.title, scope=p.scope,
                  leaves_behind=list(p.leaves_behind), created_at=p.created_at,
                  everything=p.everything, venues=list(p.venues))  # fmt: skip
        _last_plan = (p, msg)
        return msg

    def plan(self) -> Plan:
        global _last_plan
        p = Plan(tuple(self.items), self.title, self.scope,
                 tuple(self.leaves_behind), self.created_at, self.everything,
                 tuple(self.venues))  # fmt: skip
        _last_plan = (p, self)
        return p


_last_plan: tuple[Plan, PlanMsg] | None = None
"""The last plan converted either way, with its message: a plan's report carries the plan
the hub got in its request (~2 ms a 600-target plan, at the kill's end). Both are
immutable, so the pair stays true; it is found by identity only."""


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
    by_answer: bool = False

    @classmethod
    def of(cls, r: ItemResult) -> ResultMsg:
        return cls(item=PlanItemMsg.of(r.item), outcome=OutcomeMsg.of(r.outcome),
                   verified_state=r.verified_state, verified=r.verified,
                   by_answer=r.by_answer)  # fmt: skip

    def result(self) -> ItemResult:
        return ItemResult(self.item.item(), self.outcome.outcome(), self.verified_state,
                          self.verified, self.by_answer)  # fmt: skip


_RESULTS: TypeAdapter[list[ItemResult]] = TypeAdapter(list[ItemResult])


def _frozen_mapping(value: Any) -> Any:
    if isinstance(value, MappingProxyType):  # an action's options
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def results_json(results: list[ItemResult]) -> bytes:
    """``[ResultMsg.of(r) for r in results]`` as JSON, the same bytes ~2x cheaper (no
    model built per result): ``ItemResult`` and its parts have the fields of
    :class:`ResultMsg` and its parts, in order (tests/desk/test_protocol_rows)."""
    return _RESULTS.dump_json(results, fallback=_frozen_mapping, warnings=False)


Streamed = Mapping[tuple[str, str], ItemResult]
"""Each target's last result as a batch's ``results`` events carried it (read once: the
reader of the events already built each result for its caller)."""


class ReportMsg(Msg):
    """A batch's end. ``results`` holds only what its ``results`` events did not already
    carry as it is (for a kill of 2,000 targets, every result again would be megabytes):
    a reader merges the two (:meth:`report`)."""

    carries_core = True

    plan: PlanMsg
    batch_id: str
    started_ms: int
    results: list[ItemResult] = []
    finished_ms: int | None = None
    summary: str = ""
    appeared: dict[str, list[TargetMsg]] = {}
    """A kill's re-read found these running that its plan did not hold (per venue)."""
    unread: dict[str, str] = {}
    """venue -> why a kill of everything could not read its list whole afterwards."""

    @classmethod
    def of(cls, r: Report, sent: Mapping[tuple[str, str], ItemResult] | None = None) -> ReportMsg:
        """``r``, leaving out each result the batch's events carried as it is (``sent``)."""
        sent = sent or {}
        results = [x for key, x in r.results.items() if sent.get(key) != x]
        appeared = {v: [TargetMsg.of(t) for t in ts] for v, ts in r.appeared.items()}
        return cls(plan=PlanMsg.of(r.plan), batch_id=r.batch_id, started_ms=r.started_ms,
                   results=results, finished_ms=r.finished_ms, summary=r.summary(),
                   appeared=appeared, unread=dict(r.unread))  # fmt: skip

    def report(self, streamed: Streamed | None = None) -> Report:
        """The report, its results completed from the batch's events (``streamed``)."""
        results = dict(streamed or {})
        results.update({(x.item.venue, x.item.target_id): x for x in self.results})
        appeared = {v: tuple(m.target() for m in ts) for v, ts in self.appeared.items()}
        return Report(self.plan.plan(), self.batch_id, self.started_ms, results,
                      self.finished_ms, appeared, dict(self.unread))  # fmt: skip


class BatchEvent(Msg):
    """One event of a batch: results as they came in a loop turn, or the report."""

    carries_core = True

    batch_id: str
    seq: int
    """Consecutive from 1 within a batch (a joined kill's retries continue it)."""
    kind: Literal["results", "report"]
    results: list[ItemResult] = []
    """The core's own results, read straight into them: as :class:`ResultMsg` models then
    converted, a 600-target kill's results cost every console twice the CPU."""
    report: ReportMsg | None = None

    @staticmethod
    def results_event(batch_id: str, seq: int, results: list[ItemResult]) -> bytes:
        """``BatchEvent(kind="results", results=[ResultMsg.of(r) …]).encode()``, the same
        bytes, the results encoded at once by :func:`results_json`."""
        head = BatchEvent(batch_id=batch_id, seq=seq, kind="results").model_dump_json()
        # '…"results":[],"report":null}': the results spliced in (one encoding, no models)
        cut = head.rindex('"results":[]') + len('"results":')
        return pack(head[:cut].encode() + results_json(results) + head[cut + 2 :].encode())

    def streamed(self, into: dict[tuple[str, str], ItemResult]) -> list[ItemResult]:
        """Its results, also into ``into`` (a target's last one wins)."""
        for r in self.results:
            into[(r.item.venue, r.item.target_id)] = r
        return self.results


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


class ActivityBatch(Msg):
    """The lines of activity of one hub loop turn, in order (a kill's 600 outcomes in a
    few messages, not 600: each one a store in the events stream and a delivery to
    every console)."""

    lines: list[ActivityMsg]


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
    refused: dict[str, int] = {}
    """Per venue, the running plan's calls the venue refused with 429 that wait to go
    again (the dispatcher's ``refused_now``): a console's kill counters show them."""


# ----- requests and the reply ---------------------------------------------------------------
class Request(Msg):
    host: str = ""
    ssh_client: str | None = None


class DispatchRequest(Request):
    carries_core = True
    plan: PlanMsg
    batch_id: str | None = None
    """Journal the plan in this earlier batch (a kill's retries and re-stops)."""


class KillRequest(Request):
    carries_core = True
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
    carries_core = True
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
    """One journal row, the columns of ``console.core.journal_rows.Entry`` (hash included)."""

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

    @staticmethod
    def encode_entry(e: Entry) -> bytes:
        """``JournalRowMsg.of(e).encode()``, the same bytes ~4x cheaper (the hub sends
        every row: a kill of 600 targets is 1,800): ``Entry``'s columns are this
        message's fields, in order, already of their types (tests/desk/test_protocol_rows)."""
        return pack(_ENTRY.dump_json(e))

    def entry(self) -> Entry:
        return Entry(**self.__dict__)  # the fields as parsed (model_dump copies: 3x slower)

    def msg_id(self) -> str:
        return f"{self.profile}:{self.seq}"


_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)
