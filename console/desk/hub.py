"""The hub: the one process of a desk that talks to the venues, for every attached console.

It owns the profile's :class:`~console.core.session.Session` (one login, one pacer and
one feed per venue) and serves it on NATS as :mod:`console.desk.subjects` describes:
each tick it drains the store's changes into the key-value bucket and one batch on
``desk.P.state``; it answers commands through the session's one dispatcher, journaling
each as the NATS user whose subject carried it (the server enforces that a user
publishes only on their own subject), and streams each result and a line of activity
(:mod:`console.desk.hub_commands`); it mirrors every journal row to the deny-delete
journal stream; and it beats once a second. The profile's automation runs here when the
desk is used (one runner per profile: the runner lock says who acts). This module is the
hub's lifecycle: start and stop, the lease, the loops, the state's ticks, the beat.

One hub per profile by a lease (``console.desk.lease``): a hub serves only while it
holds the lease in the profile's bucket; a second hub either does not start
(:class:`HubRunning`) or stands by until the lease expires, then takes over
(``console.desk.takeover``: its journal continues the stream's chain, the calls left
without an outcome are verified by re-reading, never sent again). A hub that loses its
lease, or cannot renew it, stops dispatching at once (its running plan is cancelled:
what was sent is verified by whoever acts next) and says so. Each of a plan's intents
reaches the journal stream before its call (:mod:`console.desk.intent_gate`), so a
standby knows every call that may have left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg as NatsMsg
from nats.js.errors import KeyNotFoundError

from console.automation.deadman import CheckIns
from console.automation.runner import AutomationRunner
from console.core import cancel
from console.core.journal_rows import Entry, iso_ms
from console.core.operator import Operator
from console.core.recovery import Verified
from console.core.session import Session
from console.desk import messages, subjects
from console.desk.batching import state_batches
from console.desk.hub_commands import Commands
from console.desk.hub_streams import JournalMirror, ensure_streams
from console.desk.lease import Lease, LeaseHeld, describe
from console.desk.rearm import Gate
from console.desk.takeover import (
    interrupted_report,
    summary,
    sync_journal,
    verify_interrupted,
)

log = logging.getLogger(__name__)

TICK_S = 0.02
"""How often changes go out (one batch per tick, each key once with its latest value)."""
MIRROR_S = 0.5
"""How often new journal rows are mirrored to the journal stream (and at each plan's end)."""
PLAN_TICK_S = 0.1
"""The tick while a plan runs: its calls first (docs/DESK.md, "The kill's path"). State
still flows, at most this late, each key once a tick (a target's outcome and its
verification often in one put, not two)."""
CHECKPOINT_DELAY_S = 0.5
"""After a plan, the journal's WAL is copied into its database this much later (locally:
before the report), once the report and the plan's rows have left."""
PLAN_MIRROR_S = 2.0
"""While a plan runs, the journal stream gets its rows at most this late: the plan's
intents each before its call (``Commands.before_calls``), the rest at its end or
after this long, never in the middle of a short kill."""
_STORE_CHUNK = 256  # acknowledged puts in flight at once (the whole state at start)


class HubRunning(Exception):
    """Another hub already serves this profile on this NATS; this one did not start."""


class Hub:
    """Serve ``session`` on the NATS connection ``nc`` (connected as the hub's user)."""

    def __init__(
        self,
        session: Session,
        nc: NATS,
        *,
        runner: AutomationRunner | None = None,
        checkins: CheckIns | None = None,
        tick_s: float = TICK_S,
        lease_ttl_s: float | None = None,
        rearm_approval: bool = False,
    ) -> None:
        self.session = session
        self.nc = nc
        self.js = nc.jetstream()
        self.runner = runner
        self.checkins = checkins
        self.tick_s = tick_s
        self.profile = session.options.profile
        self.hub_id = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.started = time.time()
        self._bucket = subjects.bucket(self.profile)
        self._state_seq = 0
        self._beat_seq = 0
        self._stop = asyncio.Event()
        self._resync = True
        self._tasks: list[asyncio.Task[Any]] = []
        self._sub: Any = None
        self._who: Any = None
        self._tasks_started = False
        self._ticked_at = 0.0  # time.monotonic() of the last tick the loop ran
        self._mirrored_at = 0.0  # ... and of the last mirror of the journal
        self.commands = Commands(self)
        """Commands, plans, and what everyone is told of them (results, activity)."""
        ttl = {} if lease_ttl_s is None else {"ttl_s": lease_ttl_s}
        self.lease = Lease(self.js, self._beat(), **ttl)
        self.mirror = JournalMirror(self.nc, self.js, session.journal, self.profile,
                                    serving=lambda: self.serving,
                                    give_up=self.lease.give_up,
                                    on_row=self.commands.row_mirrored)  # fmt: skip
        self.took_over: messages.HubBeat | None = None
        """The hub whose expired lease this one took (None: the lease was free)."""
        self.verified: list[Verified] = []
        """The interrupted calls this hub verified as it took over."""
        session.dispatcher.before_calls = self.commands.before_calls
        session.dispatcher.checkpoint_delay_s = CHECKPOINT_DELAY_S  # the report goes first
        self.gate = Gate(self, approval=rearm_approval)  # sender binding, kills' halts, re-arm

    # ----- start and stop -------------------------------------------------------------
    async def start(self, *, standby: bool = False) -> None:
        """Take the profile's lease, continue the journal stream's chain, read every
        venue once, store the whole state (acknowledged), verify the calls a dead hub
        left open, subscribe, start ticking. :class:`HubRunning` when another hub holds
        the lease and renews it; ``standby``: wait until it expires (or is released)."""
        if standby:  # a journal that cannot continue the stream's chain: say so now
            await ensure_streams(self.js, self.profile)
            await sync_journal(self.js, self.session.journal, self.profile)
        try:
            await self.lease.acquire(wait=standby)
        except LeaseHeld as exc:
            raise HubRunning(self._running_words(exc.holder)) from None
        self.took_over = self.lease.taken_over
        self.lease.on_fence(self._fenced)
        self._spawn(self.lease.hold(), "hub:lease")
        await ensure_streams(self.js, self.profile)
        copied = await sync_journal(self.js, self.session.journal, self.profile)
        last = self.session.journal.entries(limit=1)
        self.commands.told = last[-1].seq if last else 0  # rows from before the hub: no activity
        await self.session.first_reads()  # at most FIRST_READS_S: then the feeds (a hanging
        # list held a hub's start, a standby's takeover mid-kill too, for its whole read)
        self.session.start_feeds()
        left = await self._running_left()
        await self._store(subjects.RUNNING_KEY, None)  # a dead hub's plan runs no more
        await self.tick(acked=True)  # the whole state stored, before anyone is told
        if self.took_over is not None:  # the last holder died: nobody else will look
            await self._took_over(copied, left)
        await self._subscribe()
        await self.nc.flush()
        self._tasks_started = True
        self._spawn(self._loop(self.tick_s, self._tick_turn), "hub:tick")
        self._spawn(self._loop(subjects.BEAT_S, self.beat), "hub:beat")
        self._spawn(self._loop(MIRROR_S, self._mirror_turn), "hub:journal")
        self._spawn(self.commands.send_outbox(), "hub:outbox")
        if self.runner is not None:  # it stands by while another runner acts, and takes over
            if not self.runner.claim():
                log.warning("automation of %s is run by %s: this hub's stands by",
                            self.profile, self.runner.holder)  # fmt: skip
            self._spawn(self.runner.run_forever(self._stop, 1.0), "hub:automation")

    async def aclose(self) -> None:
        self._stop.set()
        for task in list(self.commands.plan_tasks):
            task.cancel()
        await self._unsubscribe()
        await cancel.end_tasks(self._tasks, f"hub {self.hub_id[:8]} closing")
        self._tasks.clear()
        if self.runner is not None:
            self.runner.release()
        if (self.mirror.started or self._tasks_started) and self.serving:
            with contextlib.suppress(Exception):
                await self.mirror_journal()
        await self.lease.release()
        await self.session.stop_feeds()

    # ----- the lease ------------------------------------------------------------------
    @property
    def serving(self) -> bool:
        """This hub holds the lease (taken, renewed, not lost): it may dispatch."""
        return self.lease.held

    async def _running_left(self) -> messages.RunningMsg | None:
        """The plan the last hub said it was running (its ``run`` key), if any."""
        try:
            entry = await (await self.lease.bucket()).get(subjects.RUNNING_KEY)
        except KeyNotFoundError:
            return None
        try:
            running: messages.RunningMsg = messages.RunningMsg.decode(entry.value or b"")
        except subjects.ProtocolError:
            return None
        return running

    async def _took_over(self, copied: int, left: messages.RunningMsg | None) -> None:
        """Say so, verify what the dead hub left open (its intents are in the stream), and
        end the plan it was running with a report from the journal."""
        self.verified = await verify_interrupted(self.session)
        report = (
            interrupted_report(self.session.journal, self.session.store, left) if left else None
        )
        if report is not None and left is not None:
            self.commands.own_batches.add(report.batch_id)
            self.commands.batch_event(report.batch_id, kind="report",
                                      report=messages.ReportMsg.of(report))  # fmt: skip
            self._tell(f"{report.plan.title} of {left.operator} — cut short when its hub "
                       f"died: {report.summary()}", report.batch_id)  # fmt: skip
        what = f"took over from {describe(self.took_over)} (its lease expired)"
        if copied:
            what += f"; the journal continues the stream's {copied} row(s)"
        if self.verified:
            what += f"; {summary(self.verified)}"
        self._tell(what)
        log.warning("hub %s: %s", self.hub_id[:8], what)

    def _fenced(self, why: str | None) -> None:
        """Not renewed: calls held until a renewal (a late one must not cut a kill short).
        Lost: the plan is cancelled, nothing more answered (docs/DESK.md, lease)."""
        dispatcher = self.session.dispatcher
        if why is None:
            dispatcher.resume()
            self._tell("the lease is renewed again: held calls go on")
            if self._sub is None:
                self._spawn(self._verify_own(), "hub:reverify")
            return
        if not self.lease.lost.is_set():
            dispatcher.hold_calls(f"this hub could not renew the desk's lease: {why}")
            self._tell(f"calls held: {why}")
            return
        for task in list(self.commands.plan_tasks):
            task.cancel()
        dispatcher.resume()
        self._spawn(self._stop_serving(why), "hub:unsubscribe")

    async def _stop_serving(self, why: str) -> None:
        """Answer nothing more (the serving hub answers), then say so: whoever hears it
        finds no answer from this hub."""
        await self._unsubscribe()
        self._tell(f"this hub stopped dispatching: {why}")

    async def _subscribe(self) -> None:
        """Answer who serves and the operators' commands (only while serving)."""
        self._who = await self.nc.subscribe(subjects.who_subject(self.profile), cb=self._on_who)
        self._sub = await self.nc.subscribe(
            f"{subjects.root(self.profile)}.cmd.*.*", cb=self.commands.on_command
        )

    async def _unsubscribe(self) -> None:
        subs, self._sub, self._who = (self._sub, self._who), None, None
        for sub in subs:
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _verify_own(self) -> None:
        if self._sub is None:
            await self._subscribe()
        verified = await verify_interrupted(self.session)
        if verified:
            self._tell(summary(verified))

    def why_not_serving(self) -> str:
        lease = self.lease
        if lease.lost.is_set():
            why = f"this hub lost the desk's lease to {describe(lease.lost_to)}"
        else:
            why = "this hub cannot renew the desk's lease (NATS cut off?)"
        return f"{why}; nothing was sent"

    def resync(self) -> None:
        """Publish the whole state again at the next tick (after a NATS reconnect)."""
        self._resync = True

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.append(task)
        return task

    async def _loop(self, period: float, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away: the next turn tries again, in full
                log.warning("hub %s: %s", getattr(step, "__name__", step), exc)
                self._resync = True
            cancel.check()  # a cancel nats-py lost (Python 3.11) still ends the loop
            await asyncio.sleep(period)

    def _running_words(self, holder: messages.HubBeat | None) -> str:
        where = (f"{holder.host}, since {iso_ms(int(holder.started * 1000))}"
                 if holder else "it holds the lease")  # fmt: skip
        return f"another hub serves profile {self.profile!r} ({where}); nothing was started"

    async def _on_who(self, msg: NatsMsg) -> None:
        # an inbox only (never into a command subject)
        if msg.reply and msg.reply.startswith("_INBOX.") and self.serving:
            await msg.respond(self._beat().encode())

    async def _prepare(self) -> None:
        """The bucket and streams (a server that lost its JetStream files gets them anew),
        the venues' keys, and where the journal's mirror resumes."""
        await ensure_streams(self.js, self.profile)
        for name, client in self.session.clients.items():
            await self._store(
                subjects.venue_key(name), messages.VenueMsg(name=name, api=client.api).encode()
            )
        await self.mirror.resume()

    # ----- state ----------------------------------------------------------------------
    async def _put(self, key: str, data: bytes) -> None:
        await self.nc.publish(f"$KV.{self._bucket}.{key}", data)

    async def _store(self, key: str, data: bytes | None) -> None:
        """Put (None: delete) ``key``, acknowledged by the server."""
        subject = f"$KV.{self._bucket}.{key}"
        if data is None:
            await self.js.publish(subject, b"", headers={"KV-Operation": "DEL"})
        else:
            await self.js.publish(subject, data)

    async def _delete(self, key: str) -> None:
        await self.nc.publish(f"$KV.{self._bucket}.{key}", b"", headers={"KV-Operation": "DEL"})

    def _health(self, venue: str) -> messages.HealthMsg:
        store = self.session.store
        h = store.venue_health(venue)
        return messages.HealthMsg(venue=venue, status=h.status, detail=h.detail, since=h.since,
                                  last_update=h.last_update, events=h.events,
                                  listed=venue in store.listed,
                                  incomplete=self.session.incomplete.get(venue, ""))  # fmt: skip

    async def tick(self, *, acked: bool = False) -> None:
        """Publish what changed since the last tick: the bucket's keys, then the batch (cut
        in several when it is too large for one message). ``acked``: each key's put is
        acknowledged before this returns (the whole state at start)."""
        if not self.serving:
            return  # not the desk's hub (now): the one that is publishes
        store = self.session.store
        changes = store.drain()
        if self._resync:
            await self._prepare()
            self._resync = False
            changed = {t.key for t in store.all_targets()}
            removed: set[tuple[str, str]] = set()
            health = set(store.venues())
        elif not changes:
            return
        else:
            changed, removed = set(changes.changed), set(changes.removed)
            health = set(changes.health)
        targets: list[bytes] = []
        gone: list[tuple[str, str]] = []
        writes: list[tuple[str, bytes | None]] = []
        for venue, target_id in changed:
            target = store.get(venue, target_id)
            if target is None:
                removed.add((venue, target_id))
                continue
            data = messages.TargetMsg.of(target).encode()
            targets.append(data)
            writes.append((subjects.target_key(venue, target_id), data))
        for venue, target_id in removed:
            if store.get(venue, target_id) is None:
                gone.append((venue, target_id))
                writes.append((subjects.target_key(venue, target_id), None))
        healths = [self._health(v) for v in health]
        writes += [(subjects.health_key(h.venue), h.encode()) for h in healths]
        if acked:
            for at in range(0, len(writes), _STORE_CHUNK):
                chunk = writes[at : at + _STORE_CHUNK]
                await asyncio.gather(*(self._store(k, d) for k, d in chunk))
        else:
            for key, value in writes:
                await (self._put(key, value) if value is not None else self._delete(key))
        subject = subjects.state_subject(self.profile)
        for batch in state_batches(self.hub_id, self._state_seq + 1, time.time(), targets,
                                   gone, healths):  # fmt: skip
            self._state_seq += 1
            await self.nc.publish(subject, batch)

    def plan_running(self) -> bool:
        """A plan is sending (or a command has one on its way to the dispatcher)."""
        return self.session.dispatcher.busy or bool(self.commands.plan_tasks)

    async def _tick_turn(self) -> None:
        """A tick, but one each :data:`PLAN_TICK_S` while a plan runs."""
        now = time.monotonic()
        if self.plan_running() and now - self._ticked_at < max(PLAN_TICK_S, self.tick_s):
            return
        self._ticked_at = now
        await self.tick()

    async def _mirror_turn(self) -> None:
        """A mirror of the new rows, but one each :data:`PLAN_MIRROR_S` while a plan runs."""
        if self.plan_running() and time.monotonic() - self._mirrored_at < PLAN_MIRROR_S:
            return
        await self.mirror_journal()

    def _beat(self) -> messages.HubBeat:
        running = self.session.dispatcher.running
        return messages.HubBeat(hub_id=self.hub_id, profile=self.profile, ts=time.time(),
                                seq=self._beat_seq, state_seq=self._state_seq,
                                running=running.batch_id if running else None,
                                venues=self.session.venues, host=self.host,
                                started=self.started,
                                refused=self.session.dispatcher.refused_now())  # fmt: skip

    async def beat(self) -> None:
        if not self.serving:
            return  # silent: the consoles show DESK DOWN until the lease's holder beats
        self._beat_seq += 1
        await self.nc.publish(subjects.hub_subject(self.profile), self._beat().encode())

    async def mirror_journal(
        self, first: Callable[[list[Entry]], int] | None = None
    ) -> list[Entry]:
        """Publish the journal rows not yet in the stream, in order, each acknowledged
        (``first``: how many of them now); the rows that were waiting."""
        self._mirrored_at = time.monotonic()
        return await self.mirror.mirror(first)

    def _tell(self, text: str, batch: str | None = None) -> None:
        """A line of activity from the hub itself (the lease, a takeover)."""
        self.commands.activity(Operator(user="hub", host=self.host), text, batch)
