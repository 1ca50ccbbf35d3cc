"""The console's state source on a desk: the hub's bucket and batches, in a local store.

A desk console reads what the hub publishes (``console.desk.subjects``) into the same
core :class:`~console.core.store.Store` a local session feeds, so the screen cannot tell
the difference. On :meth:`DeskState.attach` it subscribes first (state batches, the
hub's heartbeat, the activity) and then reads the whole bucket, so nothing falls between
the two; each batch then applies what changed. A batch whose ``seq`` does not follow the
last one (or from a new hub run) means something was missed: the bucket is read again.

**DESK DOWN, never silent staleness.** When the heartbeat stops for
:data:`~console.desk.subjects.DOWN_AFTER_S`, when the hub does not answer at attach, or
when the NATS connection drops, every venue's health becomes DOWN with words saying the
desk is down and since when; the first heartbeat (or reconnect) after that reads the
whole bucket again before the venues show the hub's health again.

The venues are planning-only clients (``console.desk.venue_views``); the journal is the
hub's, mirrored from the journal stream (``console.desk.journal_mirror``); other
operators' actions arrive as :class:`~console.desk.messages.ActivityMsg` for whoever
listens (the desk console writes them to its outcome log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg as NatsMsg
from nats.js.errors import NotFoundError

from console.core import cancel
from console.core.journal_rows import iso_ms
from console.core.operator import Operator
from console.core.ports import FeedStatus, VenueClient, VenueSettings
from console.core.session import SessionOptions
from console.core.store import Store
from console.desk import messages, subjects
from console.desk.batch_order import BatchOrder
from console.desk.bucket_read import read_picture
from console.desk.journal_mirror import MirrorJournal, remember_known
from console.desk.venue_views import planning_clients

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 30.0
"""The longest a full read of the bucket may take (then the desk counts as down)."""
DESK_DOWN = "DESK DOWN"

ActivityListener = Callable[[messages.ActivityMsg], None]


class DeskState:
    """:class:`~console.core.ports.StateSource` fed by the hub of ``options.profile``."""

    def __init__(
        self,
        nc: NATS,
        options: SessionOptions,
        *,
        operator: Operator,
        venue_settings: Iterable[VenueSettings] = (),
        clock: Callable[[], float] = time.time,
        down_after_s: float = subjects.DOWN_AFTER_S,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self._options = options
        self.profile = options.profile
        self.operator = operator
        self.clock = clock
        self.down_after_s = down_after_s
        self._settings = list(venue_settings)
        self._store = Store(stale_after_s=options.stale_after_s, clock=clock, blind_venues=())
        self._clients: dict[str, VenueClient] = {}
        self._journal = MirrorJournal(self.profile, operator)
        self.running: messages.RunningMsg | None = None
        """The plan the hub runs now (anyone's), from the bucket's ``run`` key."""
        self.hub: messages.HubBeat | None = None
        self.down: str | None = None
        """Why the desk is down (shown on every venue), or None while the hub beats."""
        self.resyncs = 0
        """Full reads of the bucket so far (the first at attach included)."""
        self.activity: deque[messages.ActivityMsg] = deque(maxlen=200)
        self._listeners: list[ActivityListener] = []
        self._down_listeners: list[Callable[[str | None], None]] = []
        self._order = BatchOrder()
        self._subs: list[Any] = []
        self._journal_sub: Any = None
        self._timer: asyncio.TimerHandle | None = None
        self._resync_task: asyncio.Task[None] | None = None
        self._read_again = False  # a loss seen while a read was under way
        self._closed = False
        self._beat_heard = asyncio.Event()
        self._changed = asyncio.Event()
        self.owns_connection = False
        """Close the NATS connection in :meth:`aclose` (``open_desk`` opened it)."""
        self._venue_msgs: list[messages.VenueMsg] = []
        self._venue_listeners: list[Callable[[list[str]], None]] = []
        self._attached = False
        self._down_since = 0.0
        self._heard = 0.0  # clock() when the hub last beat (or answered)

    # ----- StateSource ------------------------------------------------------------------
    @property
    def options(self) -> SessionOptions:
        return self._options

    @property
    def store(self) -> Store:
        return self._store

    @property
    def clients(self) -> dict[str, VenueClient]:
        return self._clients

    @property
    def venues(self) -> list[str]:
        return list(self._clients)

    @property
    def journal(self) -> MirrorJournal:
        return self._journal

    @property
    def batch_seq(self) -> int | None:
        """The last state batch applied (None: none since the last full read)."""
        return self._order.seq

    def start_feeds(self) -> None:
        """Everything runs from :meth:`attach`; here the heartbeat's deadline is armed."""
        self._arm_deadline()

    async def aclose(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._resync_task is not None:  # a read of nats-py's: it can lose a cancel
            await cancel.end_tasks([self._resync_task], "desk state closing")
        for sub in [*self._subs, self._journal_sub]:
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
        self._subs.clear()
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self._journal.close()
        if self.owns_connection:
            with contextlib.suppress(Exception):
                await self.nc.close()

    # ----- listeners --------------------------------------------------------------------
    def on_activity(self, listener: ActivityListener) -> None:
        """Call ``listener`` with each operator's action as the hub reports it."""
        self._listeners.append(listener)

    def on_down(self, listener: Callable[[str | None], None]) -> None:
        """Call ``listener`` with why the desk went down, and None when it came back."""
        self._down_listeners.append(listener)

    async def next_change(self) -> None:
        """Return at the next change: a batch applied, a full read, down or back up."""
        await self._changed.wait()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def off_down(self, listener: Callable[[str | None], None]) -> None:
        with contextlib.suppress(ValueError):
            self._down_listeners.remove(listener)

    # ----- attach -----------------------------------------------------------------------
    async def attach(self) -> DeskState:
        """Subscribe, wait (bounded) for the hub's first beat, read the whole bucket,
        follow the journal stream. No beat: the desk is down from the start."""
        root = subjects.root(self.profile)
        for subject, cb in ((subjects.state_subject(self.profile), self._on_batch),
                            (subjects.hub_subject(self.profile), self._on_beat),
                            (subjects.activity_subject(self.profile), self._on_activity)):  # fmt: skip
            self._subs.append(await self.nc.subscribe(subject, cb=cb))
        log.debug("attached to %s", root)
        # The hub beats every BEAT_S: the first beat (bounded) says it is there.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.down_after_s):
                await self._beat_heard.wait()
        await self.read_bucket()
        await self._until_venues_known()
        self._build_clients()
        self._arm_deadline()
        if self.hub is None and not self._venue_msgs:
            self.mark_down(f"no hub serves profile {self.profile} yet")
        elif self.hub is None:
            self.mark_down("the hub does not answer (no hub serves this profile)")
        else:
            self._order.hub_id = self.hub.hub_id
        await self._follow_journal()
        self._attached = True
        return self

    async def _follow_journal(self) -> None:
        """Follow the hub's journal stream (once it exists: a hub has served here)."""
        if self._journal_sub is None:
            self._journal_sub = await self._journal.follow(
                self.js, on_row=lambda entry: remember_known(self._store, entry)
            )

    def _build_clients(self) -> None:
        """A planning client per venue the hub serves (kept for a venue already known)."""
        fresh = planning_clients(
            [v for v in self._venue_msgs if v.name not in self._clients], self._settings
        )
        self._clients = {v.name: self._clients.get(v.name) or fresh[v.name]
                         for v in self._venue_msgs}  # fmt: skip
        self._store.blind_venues = frozenset(
            n for n, c in self._clients.items() if not c.capabilities.reports_pause_state
        )

    async def until_served(self) -> None:
        """Until a hub serves the profile, its venues known (a console attached before
        any hub did builds its panels after this)."""
        while not self._clients or self.down is not None:
            await self.next_change()

    def on_venues(self, listener: Callable[[list[str]], None]) -> None:
        """Call ``listener`` with the venues when the hub's venues change after attach
        (a console attached before any hub served the profile: its panels are built then)."""
        self._venue_listeners.append(listener)

    async def _until_venues_known(self) -> None:
        """A hub that has just started may not have stored every venue's key yet (its
        puts are not awaited): read again at each change until the beat's venues are
        all known, bounded (the panels are built once, from these)."""
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                while self.hub is not None and not set(self.hub.venues) <= {
                    v.name for v in self._venue_msgs
                }:
                    await self.next_change()
                    await self.read_bucket()
                    cancel.check()  # a read answered with the cancel kept it (Python 3.11)
        except TimeoutError:
            log.warning("desk state: the hub's venues are not all in its bucket")

    # ----- the bucket -------------------------------------------------------------------
    async def read_bucket(self) -> None:
        """Read every key of the bucket and make the store hold exactly that, with the
        batches that came meanwhile laid over it (``console.desk.batch_order``)."""
        try:
            kv = await self.js.key_value(subjects.bucket(self.profile))
        except NotFoundError:  # no hub ever served this profile here: nothing to show
            self.resyncs += 1
            return
        mark = self._order.start_read(self.hub)
        try:
            picture = await read_picture(kv, READ_TIMEOUT_S)
        finally:
            came = self._order.end_read(mark)
        venues, targets, health = picture.venues, picture.targets, picture.health
        self._venue_msgs = list(venues.values())
        if self._attached and set(venues) - set(self._clients):  # a hub serves them now
            self._build_clients()
            for listener in self._venue_listeners:
                listener(self.venues)
        for name in {*venues, *targets, *self._store.venues()}:
            self._store.snapshot(name, [t.target() for t in targets.get(name, [])])
        self._store.listed.difference_update({*venues, *targets} - {h.venue for h in health})
        for h in health:
            self._apply_health(h, force=True)
        self.running = picture.running
        for batch in came:  # each newer than what the read took of its targets
            self._apply(batch)
        self.resyncs += 1
        self._signal()

    def _apply_health(self, h: messages.HealthMsg, *, force: bool = False) -> None:
        if self.down is not None and not force:
            return  # the desk is down: its words stay until the next full read
        store = self._store
        store.health(h.venue, h.status, h.detail)
        vh = store.venue_health(h.venue)
        vh.last_update = h.last_update
        if force:  # a full read: the count as it stands, not a burst of events now
            vh.events = h.events
        elif h.events > vh.events:
            store.count_events(h.venue, h.events - vh.events)
        if h.listed:
            store.listed.add(h.venue)
        else:
            store.listed.discard(h.venue)

    async def _on_batch(self, msg: NatsMsg) -> None:
        try:
            batch: messages.StateBatch = messages.StateBatch.decode(msg.data)
        except subjects.ProtocolError as exc:
            log.warning("desk state: %s", exc)
            return
        missed = self._order.take(batch)
        self._apply(batch)
        if missed:
            log.info("desk state: a batch was missed; reading the bucket again")
            self.resync()
        self._signal()
        # Let the other subscriptions run between two batches: nats-py hands each
        # subscription's backlog to its callback without a pause, so at 10,000 events a
        # second a backlog of state held a kill's results and its report behind it
        # (the report reached the console ~100 ms after the hub sent it).
        await asyncio.sleep(0)

    def _apply(self, batch: messages.StateBatch) -> None:
        store = self._store
        if batch.targets:
            store.upsert([t.target() for t in batch.targets])
        gone: dict[str, set[str]] = {}
        for venue, target_id in batch.gone:
            gone.setdefault(venue, set()).add(target_id)
        for venue, ids in gone.items():
            store.snapshot(venue, [t for t in store.targets(venue) if t.id not in ids])
        for h in batch.health:
            self._apply_health(h)

    def _queued_batches(self) -> bool:
        """Whether state batches wait in their subscription's queue (the first one made)."""
        return bool(self._subs) and self._subs[0].pending_msgs > 0

    def resync(self) -> None:
        """Read the whole bucket again (in the background; one read at a time)."""
        if self._closed:
            return
        if self._resync_task is not None and not self._resync_task.done():
            self._read_again = True  # what it reads may predate the loss
            return
        self._resync_task = asyncio.get_running_loop().create_task(
            self._resync(), name="desk:resync"
        )

    async def _resync(self) -> None:
        try:
            self._read_again = True
            while self._read_again:
                self._read_again = False
                await self.read_bucket()
            await self._follow_journal()
        except Exception as exc:
            log.warning("desk state: the bucket could not be read: %s", exc)
            self.mark_down(f"the desk's state cannot be read ({type(exc).__name__})")
            return
        if self.down is None:
            return
        if self._beat_fresh():
            self._up()
        else:  # the read put the hub's last health back: the desk is still down
            self.mark_down(self.down)

    # ----- liveness ---------------------------------------------------------------------
    def _beat_fresh(self) -> bool:
        """A beat heard since the desk went down, and recently: the hub is back."""
        heard = self._heard
        return (self.hub is not None and heard >= self._down_since
                and self.clock() - heard < self.down_after_s)  # fmt: skip

    async def _on_beat(self, msg: NatsMsg) -> None:
        try:
            beat: messages.HubBeat = messages.HubBeat.decode(msg.data)
        except subjects.ProtocolError:
            return
        new_hub = self.hub is not None and beat.hub_id != self.hub.hub_id
        self.hub, self._heard = beat, self.clock()
        self._beat_heard.set()
        self._arm_deadline()
        if self.down is not None or new_hub:
            self.resync()  # back (or a new hub run): the whole picture first, then up
        elif self._order.beat(beat, self._heard, queued=self._queued_batches()):
            log.info("desk state: the hub's last batch never came; reading the bucket again")
            self.resync()

    def _arm_deadline(self) -> None:
        if self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.down_after_s, self._deadline_passed)

    def _deadline_passed(self) -> None:
        last = f"last heard {iso_ms(int(self._heard * 1000))}" if self._heard else "never heard"
        self.mark_down(f"no heartbeat from the hub for {self.down_after_s:g} s ({last})")

    def disconnected(self) -> None:
        """The NATS connection dropped (the connection's callback calls this)."""
        self.mark_down("the connection to NATS is lost; reconnecting")

    def reconnected(self) -> None:
        """NATS is back: read the whole bucket; the next heartbeat brings the venues up."""
        self.resync()

    def mark_down(self, why: str) -> None:
        """Every venue DOWN with the desk's words (the data shown is no longer live)."""
        if self._closed:
            return
        first = self.down is None
        self.down = why
        if first:
            self._down_since = self.clock()
        since = iso_ms(int(self._down_since * 1000))
        for venue in {*self._clients, *self._store.venues()}:
            self._store.health(venue, FeedStatus.DOWN, f"{DESK_DOWN}: {why} (since {since})")
        self._signal()
        if first:
            log.warning("%s: %s", DESK_DOWN, why)
            for listener in self._down_listeners:
                listener(why)

    def _up(self) -> None:
        if self.down is None:
            return
        log.warning("the desk is back: %s", self.hub.host if self.hub else "?")
        self.down = None
        self._signal()
        for listener in self._down_listeners:
            listener(None)

    # ----- activity ---------------------------------------------------------------------
    async def _on_activity(self, msg: NatsMsg) -> None:
        try:
            batch: messages.ActivityBatch = messages.ActivityBatch.decode(msg.data)
        except subjects.ProtocolError:
            return
        for line in batch.lines:
            self.activity.append(line)
            for listener in self._listeners:
                listener(line)
