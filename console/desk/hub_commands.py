"""The hub's commands: what it does with an operator's request, and what it tells everyone.

:class:`Commands` receives each request on ``desk.P.cmd.<user>.<verb>`` (the gate of
:mod:`console.desk.rearm` first: sender binding, kills' halts, re-arm), answers it with a
:class:`~console.desk.messages.CommandReply`, runs plans through the session's one
dispatcher in the background, and publishes what comes of them: each result and the
report on ``desk.P.batch.<id>``, one line of activity per action on ``desk.P.activity``
(the automation's actions too, from the journal rows as they are mirrored). Both go out
in bulk through one outbox (in order): the results that came by the time the outbox
reaches them in one ``results`` event, the lines in one
:class:`~console.desk.messages.ActivityBatch` — made at that moment, not a loop turn
before (a turn of a kill's busy loop is 20-50 ms on 2 shared cores).

One kill per desk: a kill that arrives while one runs joins it (its reply names the
running batch; nothing is sent twice), and the hub holds the profile's kill lock while it
runs (a CLI kill beside the hub is refused, as between two local consoles). Plans are
serialised: a plain dispatch while any plan runs is refused as *busy* (as in one
console); a kill waits for the running plan (an operator's or the automation's) to end.
The hub's lifecycle (lease, ticks, beat) is :mod:`console.desk.hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg as NatsMsg

from console.core.call_gate import CallGate
from console.core.journal_rows import Entry, now_ms
from console.core.kill_lock import KillLock, KillLocked
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, Report
from console.desk import messages, subjects
from console.desk.intent_gate import STORE_S, gate_calls
from console.desk.takeover import close_not_sent, cut_short_report, not_sent_report
from console.desk.verbs import answer

if TYPE_CHECKING:
    from console.desk.hub import Hub

log = logging.getLogger(__name__)

RESULTS_PER_EVENT = 200
"""Results in one ``results`` event (about 80 KB of JSON, compressed on the wire)."""
BUSY_POLL_S = 0.01
"""How often a plan waiting for the running one (the automation's) looks whether it ended."""
OUTBOX_WAIT_S = 1.0
"""The longest a plan's end waits for its events to leave before mirroring its rows."""
LINES_PER_EVENT = 500
"""Lines of activity in one :class:`~console.desk.messages.ActivityBatch` (~75 KB)."""


Outgoing = tuple[str, bytes] | Callable[[], list[tuple[str, bytes]]]
"""What the outbox sends, in order: one message, or the messages of what accumulated
until the outbox came to it (a turn's results, its lines of activity)."""


class NotServing(Exception):
    """This hub does not hold the profile's lease (lost, or not renewed): nothing is sent."""


class Commands:
    """The commands ``hub`` answers, the plans it runs, and what it publishes of them."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.session = hub.session
        self.profile = hub.profile
        self.kill: str | None = None
        """The batch id of the kill running now."""
        self.own_batches: set[str] = set()
        """Batches this hub ran (they stream as they go)."""
        self.plan_tasks: set[asyncio.Task[Any]] = set()
        self.told = 0
        """The last journal seq whose activity was told (never told twice)."""
        self._batch_seq: dict[str, int] = {}
        self._plan_lock = asyncio.Lock()
        self._plans = 0  # plans accepted and not ended (running or waiting their turn)
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._pending: dict[str, list[ItemResult]] = {}
        """Results not yet published, per batch (the outbox sends them together)."""
        self._streamed: dict[str, dict[tuple[str, str], ItemResult]] = {}
        """What each running batch's events carried (its report holds only the rest)."""
        self._lines: list[messages.ActivityMsg] = []
        """Lines of activity not yet published (the outbox sends them together)."""

    async def on_command(self, msg: NatsMsg) -> None:
        """Decide at once (in arrival order: a second kill sees the first), answer, and
        run the plan in the background; a slow verb is answered when it is done."""
        hub = self.hub
        if not hub.gate.bound(msg):  # not a request from its user's own inbox
            return
        if not hub.serving:
            return  # unanswered: the hub that serves answers (or NATS says nobody does)
        try:
            user, verb = subjects.parse_command_subject(self.profile, msg.subject)
            request = messages.REQUESTS[verb].decode(msg.data)
        except subjects.ProtocolError as exc:
            await self._reply(msg, messages.CommandReply(refused=str(exc)))
            return
        op = Operator(user=user, host=request.host or "?", ssh_client=request.ssh_client)
        if await hub.gate.admit(msg, op, verb, request):  # refused, posted or approved
            return
        if isinstance(request, messages.KillRequest | messages.DispatchRequest):
            kill = isinstance(request, messages.KillRequest)
            await self._reply(msg, self.start_plan(op, request.plan.plan(), request.batch_id,
                                                   kill=kill))  # fmt: skip
            return
        hub._spawn(self._answer(msg, op, request), f"hub:{verb.value}")

    async def _reply(self, msg: NatsMsg, reply: messages.CommandReply) -> None:
        if msg.reply:
            await msg.respond(reply.encode())

    def start_plan(
        self, op: Operator, plan: Plan, batch_id: str | None, *, kill: bool
    ) -> messages.CommandReply:
        hub = self.hub
        if not hub.serving:
            return messages.CommandReply(refused=hub.why_not_serving())
        if kill and self.kill is not None:
            self.activity(op, f"kill — joined the kill running ({self.kill[:8]})", self.kill)
            # Its events so far (earlier passes' reports among them: a kill's retry runs
            # in its batch) are the joiner's to replay, not to end on.
            seen = self._batch_seq.get(self.kill, 0)
            return messages.CommandReply(batch_id=self.kill, joined=True, data={"seq": seen})
        if not kill and (self._plans or self.session.dispatcher.busy):
            running = self.session.dispatcher.running
            what = repr(running.plan.title) if running else "another plan"
            return messages.CommandReply(refused=f"busy: {what} is still running; nothing was sent")
        if not plan.items:
            return messages.CommandReply(refused="the plan is empty; nothing was sent")
        lock: KillLock | None = None
        if kill:  # one kill per profile across processes too (a CLI kill beside the hub)
            lock = self.session.control.kill_lock()
            try:
                if lock is not None:
                    lock.operator = op
                    lock.acquire()
            except KillLocked as exc:
                return messages.CommandReply(refused=str(exc))
        batch = batch_id or uuid.uuid4().hex
        if kill:
            self.kill = batch
        self.own_batches.add(batch)
        self._plans += 1  # at once: the next request sees it (the lock is taken later)
        task = hub._spawn(self._run_plan(op, plan, batch, kill=kill, lock=lock), f"hub:{batch[:8]}")
        self.plan_tasks.add(task)
        task.add_done_callback(self.plan_tasks.discard)
        return messages.CommandReply(batch_id=batch)

    async def _run_plan(
        self, op: Operator, plan: Plan, batch: str, *, kill: bool, lock: KillLock | None
    ) -> None:
        got: dict[tuple[str, str], ItemResult] = {}
        try:
            async with self._plan_lock:
                while self.session.dispatcher.busy:  # noqa: ASYNC110 (the dispatcher has no end event)
                    await asyncio.sleep(BUSY_POLL_S)
                running = messages.RunningMsg(batch_id=batch, title=plan.title, scope=plan.scope,
                                              operator=str(op), started_ms=now_ms(),
                                              total=len(plan))  # fmt: skip
                await self.hub._put(subjects.RUNNING_KEY, running.encode())
                self.activity(op, f"{plan.title} — started ({len(plan)} targets)", batch)

                def on_result(result: ItemResult) -> None:
                    got[(result.item.venue, result.item.target_id)] = result
                    self._result(op, batch, result)

                report = await self.session.dispatcher.run(
                    plan, on_result, batch_id=batch, operator=op
                )
                self.report(op, report)
        except NotServing as exc:  # before any call: every intent of the batch says so
            self._not_sent(op, plan, batch, str(exc))
        except asyncio.CancelledError:
            self._cut_short(op, plan, batch, got)
            raise
        except Exception as exc:  # the plan's own faults are outcomes; this is a bug
            log.exception("plan %s failed", batch)
            self.activity(op, f"{plan.title} — hub error: {type(exc).__name__}", batch)
        finally:
            self._plans -= 1
            if kill and self.kill == batch:
                self.kill = None
            if lock is not None:
                lock.release()
            await self.sent()  # the report leaves before the plan's journal rows do
            with contextlib.suppress(Exception):
                await self.hub._delete(subjects.RUNNING_KEY)
            with contextlib.suppress(Exception):
                await self.hub.mirror_journal()

    def _cut_short(
        self, op: Operator, plan: Plan, batch: str, got: dict[tuple[str, str], ItemResult]
    ) -> None:
        """The plan was stopped mid-way (this hub no longer serves): its report says what
        came back and which calls are uncertain, so no console waits for it in vain."""
        self.report(op, cut_short_report(plan, batch, got))

    def _not_sent(self, op: Operator, plan: Plan, batch: str, why: str) -> None:
        """Report the batch as not sent (no call left this hub; its intents say so)."""
        close_not_sent(self.session.journal, batch, why)
        self.report(op, not_sent_report(plan, batch, why))

    async def before_calls(self) -> CallGate | None:
        """A plan's intents into the journal stream before their calls (a standby that
        takes over sees every call that may have been sent): the first ones now, the
        rest behind the gate returned (:mod:`console.desk.intent_gate`). NotServing when
        none could be, with the plan's intents closed as not sent (any plan: an
        operator's, the automation's)."""
        running = self.session.dispatcher.running
        why = None if self.hub.serving else self.hub.why_not_serving()
        gate = None
        if why is None and running is not None:
            try:
                async with asyncio.timeout(STORE_S):
                    gate = await gate_calls(self.hub, running.batch_id)
            except Exception as exc:
                why = (f"the journal stream did not take the plan's intents "
                       f"({type(exc).__name__}: {exc})")  # fmt: skip
        if why is None and not self.hub.serving:
            why = self.hub.why_not_serving()
        if why is None and gate is not None and not gate.started:
            why = "the journal stream did not store the plan's intents"
        if why is None:
            return gate
        if gate is not None:
            gate.block(why)
        if running is not None:
            close_not_sent(self.session.journal, running.batch_id, why)
        raise NotServing(why)

    async def _answer(self, msg: NatsMsg, op: Operator, request: messages.Request) -> None:
        try:
            reply = await answer(self.session, op, request, runner=self.hub.runner,
                                 checkins=self.hub.checkins, activity=self.activity)  # fmt: skip
        except Exception as exc:
            log.exception("command failed")
            reply = messages.CommandReply(refused=f"the hub could not do it: {type(exc).__name__}")
        await self._reply(msg, reply)

    # ----- what everyone is told ------------------------------------------------------
    def batch_event(self, batch: str, **fields: Any) -> messages.BatchEvent:
        seq = self._next_seq(batch)
        event = messages.BatchEvent(batch_id=batch, seq=seq, **fields)
        self.publish(subjects.batch_subject(self.profile, batch), event.encode())
        return event

    def _next_seq(self, batch: str) -> int:
        seq = self._batch_seq[batch] = self._batch_seq.get(batch, 0) + 1
        return seq

    def _result(self, op: Operator, batch: str, result: ItemResult) -> None:
        self.hub.gate.observe(op, batch, result, kill=batch == self.kill)
        pending = self._pending.setdefault(batch, [])
        if not pending:  # the turn's first: the outbox sends what came by its turn
            self._outbox.put_nowait(functools.partial(self._results_events, batch))
        pending.append(result)
        if result.verified is None:  # its outcome; the verification follows in the batch
            item = result.item
            self.activity(op, f"{item.action.kind.value} {item.venue} {item.target_name} — "
                              f"{result.outcome.kind.value}", batch)  # fmt: skip

    def _results_events(self, batch: str) -> list[tuple[str, bytes]]:
        """One ``results`` event per :data:`RESULTS_PER_EVENT` results not yet sent: a
        2,000-target kill is a few dozen messages, not 4,000 (each one a store in the
        events stream and a delivery to every console following the batch). Made when
        the outbox reaches them (not one loop turn before: a turn of a kill's loop is
        20-50 ms on 2 busy cores), or by the report."""
        pending = self._pending.pop(batch, None)
        if not pending:
            return []  # (the report took them already)
        streamed = self._streamed.setdefault(batch, {})
        subject = subjects.batch_subject(self.profile, batch)
        events = []
        for at in range(0, len(pending), RESULTS_PER_EVENT):
            chunk = pending[at : at + RESULTS_PER_EVENT]
            events.append(
                (subject, messages.BatchEvent.results_event(batch, self._next_seq(batch), chunk))
            )
            streamed.update(((r.item.venue, r.item.target_id), r) for r in chunk)
        return events

    def report(self, op: Operator, report: Report) -> None:
        batch = report.batch_id
        for subject, data in self._results_events(batch):  # first: the report leaves them out
            self.publish(subject, data)
        msg = messages.ReportMsg.of(report, self._streamed.pop(batch, None))
        self.batch_event(batch, kind="report", report=msg)
        self.activity(op, f"{report.plan.title} — {report.summary()}", report.batch_id)

    def row_mirrored(self, entry: Entry) -> None:
        """A journal row reached the stream: another dispatcher user's outcome (the
        automation's) becomes a line of activity, as an operator's does."""
        if (
            entry.seq > self.told
            and entry.kind == "outcome"
            and (entry.batch_id not in self.own_batches)
        ):  # another dispatcher user (the automation): every console sees it too
            who = Operator(entry.operator, entry.host, entry.ssh_client)
            self.activity(who, f"{entry.action} {entry.venue} {entry.target_name} — "
                               f"{entry.outcome}", entry.batch_id)  # fmt: skip
        self.told = max(self.told, entry.seq)

    def activity(self, op: Operator, text: str, batch: str | None = None) -> None:
        """A line of activity; the turn's lines go out together when it ends."""
        who = f"{op.user}@{op.host}"
        if not self._lines:
            self._outbox.put_nowait(self._activity_events)
        self._lines.append(messages.ActivityMsg(ts_ms=now_ms(), operator=who, text=text,
                                                batch_id=batch))  # fmt: skip

    def _activity_events(self) -> list[tuple[str, bytes]]:
        lines, self._lines = self._lines, []
        subject = subjects.activity_subject(self.profile)
        return [(subject, messages.ActivityBatch(lines=lines[at : at + LINES_PER_EVENT]).encode())
                for at in range(0, len(lines), LINES_PER_EVENT)]  # fmt: skip

    def publish(self, subject: str, data: bytes) -> None:
        """Publish in order without waiting (the dispatcher's callback is synchronous)."""
        self._outbox.put_nowait((subject, data))

    async def sent(self) -> None:
        """Until what was published so far went to NATS (bounded: a closing hub's outbox
        may be gone). A plan's end waits here before it mirrors the plan's journal rows:
        else its report left behind a thousand rows (each stored by the journal stream and
        read by every console before the report: ~70 ms at 600 targets)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(OUTBOX_WAIT_S):
                await self._outbox.join()

    async def send_outbox(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                for subject, data in item() if callable(item) else (item,):
                    try:
                        await self.hub.nc.publish(subject, data)
                    except Exception as exc:  # NATS away: lost, the bucket resyncs
                        log.warning("hub could not publish on %s: %s", subject, exc)
            finally:
                self._outbox.task_done()
