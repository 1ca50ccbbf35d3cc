"""After a kill: what it halted, who may bring it back, and the second operator's yes.

The hub calls :class:`Gate` on every command (``Commands.on_command``) and on every result
(``Commands._result``):

- **Bound to its sender.** A command is a request whose reply subject is under its
  user's own inbox (``_INBOX.<user>.``, :mod:`console.desk.connect`). A message in a
  command subject that is not (a plain publish, a reply aimed at another operator's
  inbox) is dropped unanswered and journaled as a ``note`` (``refused <verb>``).
- **What the kills halted.** Every target a kill plans to halt (whatever comes of it: a
  kill that could not say whether it stopped a target has not cleared it) stays
  *halted* until a resume or start of it is applied. Every kill counts, an operator's
  or the automation's dead-man timer's or a guard's (the dispatcher's ``before_calls``
  passes here before a plan's first call); a schedule's stop is routine, not a kill. The hub knows them from its journal: a ``note`` row (action ``kill``)
  names each kill's batch, its intent rows the targets, the outcome rows the re-arms,
  so a restarted or standby hub knows them again.
- **Re-arming is ``rearm``'s.** A ``dispatch`` that resumes or starts a halted target is
  refused in words and journaled (``refused dispatch``): the server lets only an admin
  publish ``rearm`` (:mod:`console.desk.roles`). A ``rearm`` plan holds resumes and
  starts only.
- **Two-person re-arm** (``approval`` on: the profile's ``rearm_approval``): a ``rearm``
  that touches a halted target is not run but posted: a :class:`RearmMsg` on
  ``desk.P.rearm`` and in the bucket (``r.<id>``, while it waits), seen by every console
  (who, what, why). Another operator (``approve``: a trader or an admin, never the one
  who asked) approves it, and the plan runs as the requester's, or refuses it (the
  requester may withdraw their own). The journal has both: a ``rearm requested`` note by
  the requester and a ``rearm approved``/``rearm refused`` note by the approver, with the
  request's id, and the plan's rows under its batch id. A request not decided within
  :data:`REARM_TTL_S` expires.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from nats.aio.msg import Msg as NatsMsg

from console.core.call_gate import CallGate
from console.core.journal import Journal
from console.core.journal_rows import now_ms
from console.core.last_kill import KILL_NOTE
from console.core.model import ActionKind, OutcomeKind
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.desk import messages, subjects
from console.desk.connect import replies_to
from console.desk.roles import Role

if TYPE_CHECKING:
    from console.desk.hub import Hub

REARM_TTL_S = 600.0
"""How long a re-arm request waits for a second operator before it expires."""
ROUTINE = "schedule:"
"""The automation's operator prefix whose stops are routine, not kills (its schedules)."""
HALTING = frozenset({ActionKind.STOP.value, ActionKind.PAUSE.value})
ARMING = frozenset({ActionKind.RESUME.value, ActionKind.START.value})
_OK = frozenset({OutcomeKind.APPLIED.value, OutcomeKind.ALREADY.value})

Key = tuple[str, str]


def rearm_subject(profile: str) -> str:
    return f"{subjects.root(profile)}.rearm"


def rearm_key(request_id: str) -> str:
    return f"r.{subjects.token(request_id)}"


def arming(plan: Plan) -> bool:
    """Does ``plan`` only resume or start (what a re-arm holds)? A kill never does."""
    return (plan.scope != "kill" and bool(plan.items)
            and all(i.action.kind.value in ARMING for i in plan.items))  # fmt: skip


def plan_request(
    plan: Plan, batch_id: str | None, role: Role | None, **where: str | None
) -> tuple[subjects.Verb, messages.Request]:
    """The verb and request that carry a console's confirmed ``plan``: ``kill`` for a
    kill, ``rearm`` for an admin's plan of resumes and starts (the only way back for a
    target a kill halted), else ``dispatch``."""
    msg = messages.PlanMsg.of(plan)
    if plan.scope == "kill":
        return subjects.Verb.KILL, messages.KillRequest(plan=msg, batch_id=batch_id, **where)
    if role is Role.ADMIN and arming(plan) and batch_id is None:
        why = next((i.action.reason for i in plan.items if i.action.reason), None) or ""
        return subjects.Verb.REARM, messages.RearmRequest(plan=msg, why=why, **where)
    return subjects.Verb.DISPATCH, messages.DispatchRequest(plan=msg, batch_id=batch_id, **where)


class RearmMsg(messages.Msg):
    """A re-arm request as every console shows it (``desk.P.rearm``, bucket ``r.<id>``)."""

    carries_core = True

    id: str
    user: str
    """The requester's NATS user (the authenticated one)."""
    requested_by: str
    """``user@host``."""
    why: str = ""
    title: str
    items: list[PlanItem]  # (the wire of messages.PlanItemMsg)
    ts_ms: int
    status: Literal["pending", "approved", "refused", "expired"] = "pending"
    decided_by: str | None = None
    decision_why: str = ""
    batch_id: str | None = None

    def line(self) -> str:
        """One line for the activity log (after ``who:``, the one who asked or decided)."""
        what = ", ".join(f"{i.action.kind.value} {i.venue} {i.target_name}" for i in self.items[:3])
        more = f" (+{len(self.items) - 3} more)" if len(self.items) > 3 else ""
        why = f" — why: {self.why}" if self.why else ""
        if self.status == "pending":
            return (f"asks to re-arm ({self.id}): {what}{more}{why} — waits for another "
                    "operator's approval")  # fmt: skip
        said = f" ({self.decision_why})" if self.decision_why else ""
        return f"{self.status} re-arm {self.id} of {self.requested_by}{said}: {what}{more}{why}"


class Halts:
    """The targets the kills halted that nothing has re-armed since."""

    def __init__(self) -> None:
        self.targets: dict[Key, str] = {}
        """(venue, target id) → the batch of the kill that halted it."""
        self.kills: set[str] = set()

    @classmethod
    def from_journal(cls, journal: Journal) -> Halts:
        halts = cls()
        halts.kills = {
            e.batch_id for e in journal.entries(kind="note") if e.action == KILL_NOTE and e.batch_id
        }
        if not halts.kills:
            return halts
        # A kill's intents halt (sent or not), an applied re-arm clears: the rows from
        # the first kill's first intent on (not the whole journal: a desk's is long).
        firsts = [journal.entries(batch_id=b, kind="intent") for b in halts.kills]
        start = min((rows[0].seq for rows in firsts if rows), default=None)
        if start is None:
            return halts
        for e in journal.entries(after_seq=start - 1):
            if e.kind == "intent" or (e.kind == "outcome" and e.action in ARMING):
                halts.apply((e.venue, e.target_id), e.action, e.outcome, e.batch_id)
        return halts

    def apply(self, key: Key, action: str, outcome: str | None, batch: str | None) -> None:
        """An intent (``outcome`` None) or an outcome of ``action`` on ``key``."""
        if batch in self.kills and action in HALTING:
            self.targets[key] = batch or ""
        elif action in ARMING and outcome in _OK:
            self.targets.pop(key, None)

    def blocked(self, items: Iterable[PlanItem]) -> list[PlanItem]:
        """The items that resume or start a halted target."""
        return [i for i in items
                if i.action.kind.value in ARMING and (i.venue, i.target_id) in self.targets]  # fmt: skip


class Gate:
    """The hub's checks between a command's arrival and its plan (see the module)."""

    def __init__(self, hub: Hub, *, approval: bool = False) -> None:
        self.hub = hub
        self.approval = approval
        self.journal = hub.session.journal
        self.halts = Halts.from_journal(self.journal)
        self.pending: dict[str, RearmMsg] = {}
        self._plans: dict[str, Plan] = {}
        # Every plan the dispatcher runs passes here before its first call (the
        # automation's too): a kill's targets are halted however it was started.
        dispatcher = hub.session.dispatcher
        hub_before_calls = dispatcher.before_calls

        async def before_calls() -> CallGate | None:
            self.plan_starting(dispatcher.running)
            return None if hub_before_calls is None else await hub_before_calls()

        dispatcher.before_calls = before_calls

    # ----- hooks ------------------------------------------------------------------------
    def bound(self, msg: NatsMsg) -> bool:
        """Is ``msg`` a request from its subject's user's own inbox? Journal it if not
        (its verb as the subject names it, known or not)."""
        prefix = f"{subjects.root(self.hub.profile)}.cmd."
        user, _, verb = msg.subject.removeprefix(prefix).partition(".")
        try:
            subjects.token(user)
        except subjects.ProtocolError:
            return True  # not a command subject: the hub refuses it in words
        if msg.reply and replies_to(user, msg.reply):
            return True
        self._note(user, f"refused {verb[:40] or '?'}",
                   "not a request from the user's own inbox: dropped unanswered",
                   {"subject": msg.subject[:200], "reply": (msg.reply or "")[:200]})  # fmt: skip
        return False

    def plan_starting(self, report: Report | None) -> None:
        """The dispatcher is about to send ``report``'s plan (its intents are journaled):
        a kill's targets are halted from now on, whoever runs it (an operator, the
        automation's dead-man timer or a guard; a schedule's stop is routine, not a kill).
        Called from the dispatcher's ``before_calls`` (:class:`Gate` wraps the hub's)."""
        if report is None or report.plan.scope != "kill":
            return
        who = self._who(report.batch_id)
        if who.startswith(ROUTINE):
            return  # a schedule's stop is the day's routine, not an emergency
        self._kill_seen(report.batch_id, who)
        for item in report.plan.items:
            self.halts.apply((item.venue, item.target_id), item.action.kind.value, None,
                             report.batch_id)  # fmt: skip

    def _who(self, batch: str) -> str:
        """Who runs ``batch`` (its intents name them)."""
        intents = self.journal.entries(batch_id=batch, kind="intent", limit=1)
        return intents[0].operator if intents else "?"

    def _kill_seen(self, batch: str, who: str) -> None:
        """Name ``batch`` a kill in the journal, once (a restarted hub reads it there)."""
        if batch in self.halts.kills:
            return
        self.halts.kills.add(batch)
        self._note(who, KILL_NOTE, "the kill's targets need a re-arm to trade again", {},
                   batch=batch)  # fmt: skip

    def observe(self, op: Operator, batch: str, result: ItemResult, *, kill: bool) -> None:
        """A result of ``batch`` (``kill``: the running kill's) as it comes in."""
        if kill:
            self._kill_seen(batch, op.user)
        item = result.item
        self.halts.apply((item.venue, item.target_id), item.action.kind.value,
                         result.outcome.kind.value, batch)  # fmt: skip

    async def admit(
        self, msg: NatsMsg, op: Operator, verb: subjects.Verb, request: messages.Request
    ) -> bool:
        """Deal with ``request`` here (refused, posted, approved): True; else False (the
        hub carries on as before)."""
        if isinstance(request, messages.DispatchRequest):
            plan = request.plan.plan()
            blocked = self.halts.blocked(plan.items)
            if not blocked:
                return False
            why = (f"{_names(blocked)} {'was' if len(blocked) == 1 else 'were'} halted by a "
                   "kill: resuming or starting it again is a re-arm (an admin's); "
                   "nothing was sent")  # fmt: skip
            self._refuse(op, verb, why, blocked)
            await _reply(msg, messages.CommandReply(refused=why))
            return True
        if isinstance(request, messages.RearmRequest):
            await _reply(msg, await self._rearm(op, request))
            return True
        if isinstance(request, messages.ApproveRequest):
            await _reply(msg, await self._decide(op, request))
            return True
        return False

    # ----- rearm and approve ------------------------------------------------------------
    async def _rearm(self, op: Operator, request: messages.RearmRequest) -> messages.CommandReply:
        plan = request.plan.plan()
        wrong = [i for i in plan.items if i.action.kind.value not in ARMING]
        if not plan.items or wrong:
            why = "a re-arm resumes or starts targets only"
            self._refuse(op, subjects.Verb.REARM, why, wrong)
            return messages.CommandReply(refused=f"{why}; nothing was sent")
        if not (self.approval and self.halts.blocked(plan.items)):
            return self.hub.commands.start_plan(op, plan, None, kill=False)
        await self.expire()
        rid = uuid.uuid4().hex[:12]
        msg = RearmMsg(id=rid, user=op.user, requested_by=f"{op.user}@{op.host}",
                       why=request.why, title=plan.title, items=request.plan.items,
                       ts_ms=now_ms())  # fmt: skip
        self.pending[rid], self._plans[rid] = msg, plan
        self._note(op.user, "rearm requested", request.why or "(no reason given)",
                   {"request": rid, "targets": len(plan.items)})  # fmt: skip
        await self._post(msg)
        self.hub._spawn(self._expire_later(), f"hub:rearm-{rid}")
        return messages.CommandReply(data={"pending": rid})

    async def _decide(
        self, op: Operator, request: messages.ApproveRequest
    ) -> messages.CommandReply:
        await self.expire()
        rid = request.request_id
        wanted = self.pending.get(rid)
        if wanted is None:
            return messages.CommandReply(refused=f"no re-arm request {rid!r} waits (decided, expired "
                                          "or never made); nothing was sent")  # fmt: skip
        if request.approve and op.user == wanted.user:
            return messages.CommandReply(refused=f"a re-arm needs a second operator: {op.user} cannot "
                                          "approve their own request; nothing was sent")  # fmt: skip
        verdict = "approved" if request.approve else "refused"
        reply = messages.CommandReply()
        if request.approve:
            requester = _operator(wanted.requested_by)
            reply = self.hub.commands.start_plan(requester, self._plans[rid], None, kill=False)
            if not reply.ok:
                return reply  # busy: the request still waits
        del self.pending[rid], self._plans[rid]
        decided = wanted.model_copy(update={"status": verdict, "decided_by": f"{op.user}@{op.host}",
                                            "decision_why": request.why,
                                            "batch_id": reply.batch_id})  # fmt: skip
        self._note(op.user, f"rearm {verdict}", request.why or "(no reason given)",
                   {"request": rid, "requested_by": wanted.user, "why": wanted.why},
                   batch=reply.batch_id)  # fmt: skip
        await self._post(decided)
        return reply

    async def expire(self, now: float | None = None) -> list[RearmMsg]:
        """Drop the requests older than :data:`REARM_TTL_S` (journaled and told as
        expired; gone from the bucket)."""
        cutoff_ms = ((now or time.time()) - REARM_TTL_S) * 1000
        gone = [m for m in self.pending.values() if m.ts_ms < cutoff_ms]
        for m in gone:
            del self.pending[m.id], self._plans[m.id]
            self._note(m.user, "rearm expired", f"not decided within {REARM_TTL_S:g} s",
                       {"request": m.id})  # fmt: skip
            await self._post(m.model_copy(update={"status": "expired"}))
        return gone

    async def _expire_later(self) -> None:
        """A request nobody decides is gone when its time is up, not at the next one."""
        await asyncio.sleep(REARM_TTL_S + 1.0)
        await self.expire()

    async def _post(self, msg: RearmMsg) -> None:
        """Tell every console: the subject now, the bucket for those who attach later."""
        self.hub.commands.publish(rearm_subject(self.hub.profile), msg.encode())
        if msg.status == "pending":
            await self.hub._put(rearm_key(msg.id), msg.encode())
        else:
            await self.hub._delete(rearm_key(msg.id))
        self.hub.commands.activity(
            _operator(msg.decided_by or msg.requested_by), msg.line(), msg.batch_id
        )

    # ----- journal ----------------------------------------------------------------------
    def _refuse(self, op: Operator, verb: subjects.Verb, why: str, items: list[PlanItem]) -> None:
        targets = [f"{i.venue}/{i.target_id}" for i in items[:20]]
        self._note(op.user, f"refused {verb.value}", why, {"targets": targets})
        self.hub.commands.activity(op, f"{verb.value} refused: {why}")

    def _note(self, who: str, action: str, reason: str, options: dict[str, object],
              *, batch: str | None = None) -> None:  # fmt: skip
        self.journal.note(who, "", "", "", action, reason, options=options, batch_id=batch)


async def _reply(msg: NatsMsg, reply: messages.CommandReply) -> None:
    if msg.reply:
        await msg.respond(reply.encode())


def _operator(who: str) -> Operator:
    """``user@host`` as an Operator."""
    user, _, host = who.partition("@")
    return Operator(user, host or "?")


def _names(items: list[PlanItem]) -> str:
    names = ", ".join(f"{i.venue} {i.target_name}" for i in items[:3])
    return names + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")
