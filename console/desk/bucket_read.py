"""One full read of a desk's bucket: every venue, target, health and the running plan.

A console reads it at attach and again whenever it may have missed something (a lost
batch, the desk down and back); :class:`~console.desk.desk_state.DeskState` makes its
store hold exactly the picture, then lays over it the batches that came meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from console.desk import messages, subjects

log = logging.getLogger(__name__)


@dataclass
class Picture:
    """What the bucket held, key by key (one bad entry skipped, not the whole picture)."""

    venues: dict[str, messages.VenueMsg] = field(default_factory=dict)
    targets: dict[str, list[messages.TargetMsg]] = field(default_factory=dict)
    health: list[messages.HealthMsg] = field(default_factory=list)
    running: messages.RunningMsg | None = None

    def take(self, key: str, value: bytes) -> None:
        try:
            if key.startswith("t."):
                target = messages.TargetMsg.decode(value)
                self.targets.setdefault(target.venue, []).append(target)
            elif key.startswith("h."):
                self.health.append(messages.HealthMsg.decode(value))
            elif key.startswith("v."):
                venue = messages.VenueMsg.decode(value)
                self.venues[venue.name] = venue
            elif key == subjects.RUNNING_KEY:
                self.running = messages.RunningMsg.decode(value)
        except subjects.ProtocolError as exc:
            log.warning("desk state: bucket entry %r skipped: %s", key, exc)


async def read_picture(kv: KeyValue, timeout_s: float) -> Picture:
    """Every key's value in ``kv`` (bounded by ``timeout_s``: TimeoutError past it)."""
    picture = Picture()
    watcher = await kv.watchall()
    last_seen = early = False  # the last initial value came / the marker came first
    try:
        async with asyncio.timeout(timeout_s):
            async for entry in watcher:
                if entry is None:  # nats-py's "the initial values are all in"
                    if last_seen or not await _holds_values(kv):
                        break
                    # Its race: the consumer's count said none pending while the
                    # values were on their way to this client, so the marker came
                    # before them (a console then saw a served desk as never served,
                    # in a loaded suite). Read on to the last one (delta 0).
                    early = True
                    continue
                last_seen = last_seen or entry.delta == 0
                if entry.operation is None and entry.value:  # else a deleted key
                    picture.take(entry.key, entry.value)
                if early and last_seen:  # the marker came first: the last one is in
                    break
    finally:
        with contextlib.suppress(Exception):
            await watcher.stop()  # type: ignore[no-untyped-call]
    # A key the hub rewrote while the watch read the bucket can come after its "all
    # in" marker (the bucket keeps one value a key: the one the watch was to deliver
    # is gone); a venue read without its health would show as never listed.
    for name in {*picture.venues, *picture.targets} - {h.venue for h in picture.health}:
        with contextlib.suppress(KeyNotFoundError, subjects.ProtocolError):
            entry = await kv.get(subjects.health_key(name))
            if entry.value:
                picture.health.append(messages.HealthMsg.decode(entry.value))
    return picture


async def _holds_values(kv: KeyValue) -> bool:
    """Whether the bucket holds any key's value (or delete marker) at all."""
    status = await kv.status()
    return bool(status.values)
