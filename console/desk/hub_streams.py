"""The hub's JetStream side: the bucket and streams it creates, and its journal mirror.

Kept apart from :mod:`console.desk.hub` (which serves state and commands) because the
journal stream is the desk's record and has rules of its own: each row of the hub's
local journal goes there in order, acknowledged, once (message id ``<profile>:<seq>``),
and only after the row this hub last wrote there (the server's expected last sequence):
a row that would land after another hub's is refused, and the hub gives up its lease
rather than fork the chain. A hub that is not the lease's holder mirrors nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.desk import messages, subjects
from console.desk.takeover import last_row, local_row

log = logging.getLogger(__name__)

_WRONG_LAST_SEQUENCE = 10071  # JetStream's error code: the expected last sequence was not
PIPELINE = 1024
"""Journal rows sent to the stream in one chunk, acknowledged once (by its last row)."""
KEEP_RECENT = 8192
"""The journal's last rows kept in memory for the mirror to read back (a 2,000-target
kill writes 6,000: its intents, outcomes and verifications; ~10 MB at most)."""


async def ensure_streams(js: JetStreamContext, profile: str) -> None:
    """The bucket, the journal stream (deny delete, deny purge) and the events stream,
    made where they are missing (a server that lost its JetStream files gets them anew)."""
    await js.create_key_value(bucket=subjects.bucket(profile), history=1)
    journal = StreamConfig(
        name=subjects.journal_stream(profile), subjects=[subjects.journal_subject(profile)],
        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
        deny_delete=True, deny_purge=True, duplicate_window=3600.0,
    )  # fmt: skip
    events = StreamConfig(
        name=subjects.events_stream(profile),
        subjects=[f"{subjects.root(profile)}.batch.>", subjects.activity_subject(profile)],
        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE,
        max_age=subjects.EVENTS_MAX_AGE_S,
    )  # fmt: skip
    for config in (journal, events):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)


class JournalMirror:
    """Copies ``journal``'s rows to the profile's journal stream, in order."""

    def __init__(
        self,
        nc: NATS,
        js: JetStreamContext,
        journal: Journal,
        profile: str,
        *,
        serving: Callable[[], bool],
        give_up: Callable[[str], None],
        on_row: Callable[[Entry], None],
    ) -> None:
        self.nc, self.js, self.journal, self.profile = nc, js, journal, profile
        self._serving, self._give_up, self._on_row = serving, give_up, on_row
        self.mirrored = 0
        """The last journal seq in the stream (as this hub knows it)."""
        self._stream_seq = 0  # the stream's sequence of that row
        self._lock = asyncio.Lock()
        self._moved = asyncio.Event()  # set (and replaced) when ``mirrored`` moves on
        journal.keep_recent(KEEP_RECENT)  # its rows are read back as soon as written

    @property
    def started(self) -> bool:
        return bool(self.mirrored)

    async def resume(self) -> None:
        """Where the stream ends (after a start or a reconnect): mirror on from there."""
        async with self._lock:  # never between a mirrored row and its position
            last = await last_row(self.js, self.profile)
            self.mirrored, self._stream_seq = (last[0].seq, last[1]) if last else (0, 0)

    async def _ours_at_the_end(self) -> bool:
        """The stream's last row is this journal's own row of that seq (a write whose
        acknowledgement was lost): resume after it. False: another hub's row."""
        last = await last_row(self.js, self.profile)
        if last is None:
            return False
        row, stream_seq = last
        mine = local_row(self.journal, row.seq)
        if mine is None or mine.hash != row.hash:
            return False
        self.mirrored, self._stream_seq = row.seq, stream_seq
        return True

    async def moved(self) -> None:
        """Until :attr:`mirrored` moves on (or :meth:`wake`)."""
        await self._moved.wait()

    def wake(self) -> None:
        """Wake whoever waits in :meth:`moved` (to look again)."""
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def mirror(self, first: Callable[[list[Entry]], int] | None = None) -> list[Entry]:
        """Publish the journal rows not yet in the stream, in order, each acknowledged
        (``first``: only as many of them now as it says, the rest later); ``on_row``
        hears each one stored. Up to :data:`PIPELINE` rows go in one chunk, each
        expecting the stream's sequence its predecessor gets: the server stores them in
        order or refuses the rest (never a gap, never out of order). Returns every row
        that was not in the stream when it began."""
        async with self._lock:  # the loop and a plan's end: never both at once
            rows = self.journal.rows_after(self.mirrored)  # by seq, never by clock
            now = rows if first is None else rows[: first(rows)]
            for at in range(0, len(now), PIPELINE):
                if not self._serving():
                    break  # not the desk's hub now: its rows would fork the stream's chain
                if not await self._publish(now[at : at + PIPELINE]):
                    break
            return rows

    async def _publish(self, entries: list[Entry]) -> bool:
        """One chunk; False when it stopped short (the next turn goes on).

        Every row but the last goes without waiting for its answer, the last asks for
        one: each row expects the stream's sequence its predecessor gets, so the server
        stores the chunk in order up to the first refusal and none after it (NATS keeps a
        connection's messages in order). The last row stored means they all were: one
        round trip for a kill's 2,000 intents instead of 2,000 (which put ~50 ms between
        a 600-target kill's confirm and its first call). When the last is refused, what
        the stream holds decides (:meth:`_stored_up_to`)."""
        subject, base = subjects.journal_subject(self.profile), self._stream_seq
        rows = [messages.JournalRowMsg.encode_entry(e) for e in entries]

        def headers(i: int) -> dict[str, str]:
            e = entries[i]  # a row mirrored twice is stored once (JournalRowMsg.msg_id)
            return {"Nats-Msg-Id": f"{e.profile}:{e.seq}",
                    "Nats-Expected-Last-Sequence": str(base + i)}  # fmt: skip

        try:
            for i, row in enumerate(rows[:-1]):
                await self.nc.publish(subject, row, headers=headers(i))
            last = len(rows) - 1
            ack = await self.js.publish(subject, rows[last], headers=headers(last))
        except APIError as exc:
            if exc.err_code != _WRONG_LAST_SEQUENCE:
                raise
            return await self._stored_up_to(entries)
        if ack.duplicate:  # (stored before, its answer lost): where the stream really ends
            return await self._stored_up_to(entries)
        self._stream_seq = ack.seq
        for entry in entries:
            self.mirrored = entry.seq
            self._on_row(entry)
        self.wake()
        return True

    async def _stored_up_to(self, entries: list[Entry]) -> bool:
        """A chunk's last row was refused (or was there already): resume after the
        stream's last row when it is this journal's own (a row stored whose answer was
        lost, or part of the chunk), telling ``on_row`` of the chunk's rows it holds;
        another hub's row there: give the lease up rather than fork the chain."""
        before = self.mirrored
        if not await self._ours_at_the_end():
            self._give_up("another hub wrote the desk's journal stream")
            return False
        for entry in entries:
            if before < entry.seq <= self.mirrored:
                self._on_row(entry)
        self.wake()
        if self.mirrored == before:  # nothing of the chunk stored: say so, every turn
            log.warning("the journal stream did not store row %d (refused without an "
                        "answer: too large for the server?); trying again", entries[0].seq)  # fmt: skip
        return False  # (the rest, if any, on the next turn)
