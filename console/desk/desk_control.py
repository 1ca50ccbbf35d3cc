"""The console's control port on a desk: its plans go to the hub, its results come back.

:class:`~console.core.ports.ControlPort` answered over NATS (``console.desk.subjects``):
a confirmed plan is a request on the operator's own command subject (a kill's plan on
``kill``, an admin's resumes and starts on ``rearm``, any other on ``dispatch``); the hub answers with the batch id (or refuses, in
words: *busy* becomes :class:`~console.core.dispatcher.DispatchBusy`, as locally), and
the batch's results, then its report, are read from the events stream and handed to
the same callback the console gives a local dispatcher. A kill sent while another
operator's kill runs joins it: the reply names that batch, and this console follows it.

The kill's plan is frozen from the console's own store (no network), as locally; the
kill lock is the hub's (it holds the profile's lock while a kill runs), so the console
takes none. While the desk is down nothing is sent: :meth:`journal_refusal` says why.
A plan whose hub goes away mid-way waits (up to :data:`FAILOVER_WAIT_S`) for a standby
hub to take over and end the batch with its report (each call that came back, the rest
verified by re-reading); with no hub by then it ends in :class:`DeskUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from nats.errors import MaxPayloadError, NoRespondersError
from nats.js.api import DeliverPolicy

from console.core.dispatcher import DispatchBusy
from console.core.journal_rows import Entry, now_ms
from console.core.kill import KillPlan, KillScope, plan_from_store
from console.core.kill_lock import KillLock
from console.core.model import State
from console.core.plan import ItemResult, Plan, Report, ResultCallback
from console.core.recovery import Verified
from console.core.reverify import Recheck
from console.desk import messages, subjects
from console.desk.desk_state import DeskState
from console.desk.rearm import arming, plan_request
from console.desk.roles import Role, learn_role

REQUEST_TIMEOUT_S = 10.0
"""How long a dispatch or kill request waits for the hub's batch id."""
SLACK_S = 30.0
"""Beyond the profile's deadlines, how long a plan's report or a slow verb may take."""
FAILOVER_WAIT_S = 15.0
"""While a plan runs and the desk is down: how long to wait for a hub (a standby taking
over: a lease of 3 s, then a login and a read of every venue) before giving up on it."""


class DeskUnavailable(Exception):
    """The hub could not be asked, or went away before it answered (see the journal)."""


class RearmPending(DeskUnavailable):
    """A re-arm waits for a second operator's approval (every console shows it)."""


class DeskControl:
    """:class:`~console.core.ports.ControlPort` that asks the hub behind ``state``
    (``role``: what the server lets ``user`` do, as :func:`~console.desk.roles.learn_role`
    found it; an admin's resumes and starts go as ``rearm``)."""

    def __init__(self, state: DeskState, user: str, role: Role | None = None) -> None:
        self.state = state
        self.user = subjects.token(user)
        self.role = role
        self._role_asked = role is not None
        self.own_batches: set[str] = set()
        """Batches this console sent or joined (their activity is its own)."""
        self._running: Report | None = None

    # ----- ControlPort ------------------------------------------------------------------
    @property
    def running(self) -> Report | None:
        return self._running

    @property
    def busy(self) -> bool:
        return self._running is not None

    async def dispatch(
        self, plan: Plan, on_result: ResultCallback | None = None, *, batch_id: str | None = None
    ) -> Report:
        if self._running is not None:
            raise DispatchBusy(f"busy: {self._running.plan.title!r} is still running")
        report = self._running = Report(plan, batch_id or "", now_ms())
        try:
            return await self._dispatch(report, on_result, batch_id)
        finally:
            self._running = None

    async def _dispatch(
        self, report: Report, on_result: ResultCallback | None, batch_id: str | None
    ) -> Report:
        if self.role is None and not self._role_asked and arming(report.plan):  # ask once
            self._role_asked = True
            self.role = await learn_role(self.state.nc, self.state.profile, self.user)
        verb, body = plan_request(report.plan, batch_id, self.role, **self._request_fields())
        # A pass of an earlier batch (a kill's retry) follows only what comes after it.
        new_only = batch_id is not None
        events: asyncio.Queue[messages.BatchEvent] = asyncio.Queue()
        sub = await self._follow(batch_id, events, new_only) if batch_id else None
        try:
            reply = await self._ask(verb, body, REQUEST_TIMEOUT_S)
            if reply.refused is not None:
                if reply.refused.startswith("busy"):
                    raise DispatchBusy(reply.refused)
                raise DeskUnavailable(f"the hub refused: {reply.refused}")
            if pending := reply.data.get("pending"):
                raise RearmPending(f"re-arm {pending} is posted: it runs when another "
                                   "operator approves it; nothing was sent yet")  # fmt: skip
            batch = reply.batch_id or ""
            report.batch_id = batch
            self.own_batches.add(batch)
            if sub is None or batch != batch_id:
                if sub is not None:
                    await sub.unsubscribe()
                sub = await self._follow(batch, events, new_only=False)
            ended = int(reply.data.get("seq", 0)) if reply.joined else 0
            return await self._collect(report, events, on_result, ended)
        finally:
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _follow(
        self, batch: str, events: asyncio.Queue[messages.BatchEvent], new_only: bool
    ) -> Any:
        """The batch's events into ``events``: from its start, or only new ones."""

        async def put(msg: Any) -> None:
            with contextlib.suppress(subjects.ProtocolError):
                events.put_nowait(messages.BatchEvent.decode(msg.data))

        policy = DeliverPolicy.NEW if new_only else DeliverPolicy.ALL
        subject = subjects.batch_subject(self.state.profile, batch)
        return await self.state.js.subscribe(
            subject, cb=put, ordered_consumer=True, deliver_policy=policy
        )

    async def _collect(
        self,
        report: Report,
        events: asyncio.Queue[messages.BatchEvent],
        on_result: ResultCallback | None,
        ended: int = 0,
    ) -> Report:
        """The batch's results until its report; a report numbered ``ended`` or lower is
        an earlier pass's (a joined kill's retry): what follows it is the running one's."""
        options = self.state.options
        limit = options.dispatch_deadline_s + options.verify_deadline_s + SLACK_S
        streamed: dict[tuple[str, str], ItemResult] = {}
        try:
            async with asyncio.timeout(limit):
                while True:
                    event = await self._next(events)
                    if event.kind == "report" and event.report is not None:
                        if event.seq <= ended:
                            streamed.clear()
                            continue
                        return event.report.report(streamed)
                    for result in event.streamed(streamed):
                        report.results[(result.item.venue, result.item.target_id)] = result
                        if on_result is not None:
                            on_result(result)
        except TimeoutError:
            raise DeskUnavailable(
                f"no report of batch {report.batch_id[:8]} from the hub within {limit:g} s; "
                "the journal (audit) says what was sent"
            ) from None

    async def _next(self, events: asyncio.Queue[messages.BatchEvent]) -> messages.BatchEvent:
        """The next event. While the desk is down, up to :data:`FAILOVER_WAIT_S` for a hub
        to serve again (a standby that takes over ends the batch with its report);
        :class:`DeskUnavailable` when none does."""
        while True:
            if not events.empty():
                return events.get_nowait()
            if self.state.down is None:
                event = await self._event_or(events, up=False)
            else:
                try:
                    async with asyncio.timeout(FAILOVER_WAIT_S):
                        event = await self._event_or(events, up=True)
                except TimeoutError:
                    raise DeskUnavailable(
                        f"the desk went down while the plan ran ({self.state.down}) and no "
                        f"hub took over within {FAILOVER_WAIT_S:g} s; the journal (audit) "
                        "says what was sent once it is back"
                    ) from None
            if event is not None:
                return event

    async def _event_or(
        self, events: asyncio.Queue[messages.BatchEvent], *, up: bool
    ) -> messages.BatchEvent | None:
        """The next event, or None when the desk goes down (``up``: comes back) first."""
        changed = asyncio.Event()

        def on_down(why: str | None) -> None:
            if (why is None) == up:
                changed.set()

        self.state.on_down(on_down)
        got = asyncio.ensure_future(events.get())
        turned = asyncio.ensure_future(changed.wait())
        try:
            await asyncio.wait((got, turned), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.state.off_down(on_down)
            turned.cancel()
            if not got.done():
                got.cancel()
        return got.result() if got.done() and not got.cancelled() else None

    def plan_kill(self, scope: KillScope, *, clear_leaves_behind: bool) -> KillPlan:
        state = self.state
        return plan_from_store(
            state.store, state.clients, scope, clear_leaves_behind=clear_leaves_behind
        )

    def kill_lock(self) -> KillLock | None:
        return None  # the hub holds the profile's kill lock while its kill runs

    async def reverify(
        self, venue: str, doubtful: Sequence[ItemResult], batch_ids: Sequence[str], *, at: float
    ) -> Recheck:
        body = messages.ReverifyRequest(venue=venue, doubtful=[messages.ResultMsg.of(r) for r in doubtful],
                                        batch_ids=list(batch_ids), at=at,
                                        **self._request_fields())  # fmt: skip
        reply = await self._ask(subjects.Verb.REVERIFY, body, self._slow_s())
        if reply.refused is not None:
            return Recheck(venue, at, (), problem=reply.refused)
        data = reply.data["recheck"]
        results = tuple(messages.ResultMsg.model_validate(r).result() for r in data["results"])
        return Recheck(data["venue"], data["at"], results, data.get("problem", ""))

    async def verify_interrupted(self, entries: list[Entry]) -> list[Verified]:
        body = messages.VerifyInterruptedRequest(seqs=[e.seq for e in entries],
                                                 **self._request_fields())  # fmt: skip
        reply = await self._ask(subjects.Verb.VERIFY_INTERRUPTED, body, self._slow_s())
        if reply.refused is not None:
            raise DeskUnavailable(f"the hub refused: {reply.refused}")
        return [_verified(v) for v in reply.data["verified"]]

    def journal_refusal(self) -> str | None:
        down = self.state.down
        if down is None:
            return None
        return f"DESK DOWN ({down}): nothing is sent while the hub cannot be reached"

    def journal_failure(self) -> str | None:
        return None  # the hub's journal; its failures are the hub's to report

    def refused_now(self) -> Mapping[str, int]:
        """What the hub's last heartbeat said (every second) of a plan it runs."""
        beat = self.state.hub
        return beat.refused if beat is not None and beat.running else {}

    def chain_head(self) -> str | None:
        return self.state.journal.chain_head() or None

    # ----- requests ---------------------------------------------------------------------
    def _request_fields(self) -> dict[str, Any]:
        op = self.state.operator
        return {"host": op.host, "ssh_client": op.ssh_client}

    def _slow_s(self) -> float:
        return self.state.options.verify_deadline_s + SLACK_S

    async def _ask(
        self, verb: subjects.Verb, body: messages.Request, timeout_s: float
    ) -> messages.CommandReply:
        subject = subjects.command_subject(self.state.profile, self.user, verb)
        try:
            msg = await self.state.nc.request(subject, body.encode(), timeout=timeout_s)
        except NoRespondersError:
            raise DeskUnavailable(
                "the hub is unreachable (no hub answers); nothing was sent"
            ) from None
        except MaxPayloadError:
            raise DeskUnavailable(
                f"the {verb.value} request is larger than the NATS server takes in one message "
                f"(max_payload {self.state.nc.max_payload:,} bytes); nothing was sent — raise "
                "max_payload in the server's config, or act on a smaller scope"
            ) from None
        except TimeoutError:
            raise DeskUnavailable(
                f"the hub did not answer {verb.value} within {timeout_s:g} s; the journal "
                "(audit) says whether anything was sent"
            ) from None
        reply: messages.CommandReply = messages.CommandReply.decode(msg.data)
        return reply


def _verified(data: dict[str, Any]) -> Verified:
    """One verified interrupted call, as the hub's reply carries it."""
    entry = messages.JournalRowMsg.model_validate(data["entry"]).entry()
    return Verified(entry, State(data["state"]), data["as_asked"], data["note"], data["journaled"])
