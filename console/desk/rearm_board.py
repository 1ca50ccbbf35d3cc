"""The re-arm requests waiting for a second operator, as a desk console follows them.

The hub keeps each waiting request in the bucket (``r.<id>``, a
:class:`~console.desk.rearm.RearmMsg`) and deletes it once decided or expired
(:mod:`console.desk.rearm`). :class:`RearmBoard` watches those keys, so a console that
attaches late sees what already waits, and calls its listeners on each change;
:func:`decide` sends this operator's approval or refusal (``approve``, a trader's or an
admin's verb: the server refuses a viewer's).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from nats.errors import NoRespondersError
from nats.js.errors import NotFoundError

from console.core import cancel
from console.desk import messages, subjects
from console.desk.desk_state import DeskState
from console.desk.rearm import RearmMsg

log = logging.getLogger(__name__)

DECIDE_TIMEOUT_S = 10.0
Listener = Callable[[RearmMsg, bool], None]
"""Called with a request and whether it is new (False: it was decided, expired or gone)."""


class RearmBoard:
    """The waiting re-arm requests of ``state``'s desk (``pending``, oldest first)."""

    def __init__(self, state: DeskState) -> None:
        self.state = state
        self.pending: dict[str, RearmMsg] = {}
        self._listeners: list[Listener] = []

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def waiting(self) -> list[RearmMsg]:
        """The requests that wait now, oldest first."""
        return sorted(self.pending.values(), key=lambda m: m.ts_ms)

    async def follow(self) -> None:
        """Watch the bucket's ``r.*`` keys until cancelled. A desk no hub ever served
        has no bucket yet: follow it from when the desk's state next changes (the first
        hub that serves makes it), not never."""
        while True:
            try:
                kv = await self.state.js.key_value(subjects.bucket(self.state.profile))
                break
            except NotFoundError:
                log.info("no bucket yet: re-arm requests followed once a hub serves")
                await self.state.next_change()
        watcher = await kv.watch("r.*")
        try:
            cancel.check()  # a cancel nats-py lost in the two requests above (Python 3.11)
            async for entry in watcher:
                if entry is not None:
                    self._apply(entry.key, entry.value if entry.operation is None else None)
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    def _apply(self, key: str, value: bytes | None) -> None:
        rid = key.removeprefix("r.")
        if value:
            try:
                msg: RearmMsg = RearmMsg.decode(value)
            except subjects.ProtocolError as exc:
                log.warning("re-arm request %s: %s", rid, exc)
                return
            new = rid not in self.pending
            self.pending[rid] = msg
            if new:
                self._tell(msg, True)
        elif (gone := self.pending.pop(rid, None)) is not None:
            self._tell(gone, False)

    def _tell(self, msg: RearmMsg, new: bool) -> None:
        for listener in self._listeners:
            listener(msg, new)


async def decide(
    state: DeskState, user: str, request_id: str, *, approve: bool, why: str
) -> messages.CommandReply:
    """Send ``user``'s approval (or refusal) of re-arm ``request_id``; the hub's reply
    (``refused`` in words when it would not; no hub: said the same way)."""
    op = state.operator
    body = messages.ApproveRequest(request_id=request_id, approve=approve, why=why, host=op.host,
                                   ssh_client=op.ssh_client)  # fmt: skip
    subject = subjects.command_subject(state.profile, user, subjects.Verb.APPROVE)
    try:
        msg = await state.nc.request(subject, body.encode(), timeout=DECIDE_TIMEOUT_S)
    except NoRespondersError:
        return messages.CommandReply(
            refused="the hub is unreachable (no hub answers); nothing was sent"
        )
    except TimeoutError:
        return messages.CommandReply(refused=f"the hub did not answer within {DECIDE_TIMEOUT_S:g} s "
                                      "(or the server refused this login's approve)")  # fmt: skip
    reply: messages.CommandReply = messages.CommandReply.decode(msg.data)
    return reply
