"""The console attached to a desk: the same screen, its state and control from the hub.

:func:`open_desk` connects to NATS as the operator's own user (``--desk URL`` with
``--creds``/``--user`` as for the hub), reads the hub's whole picture and returns the
:class:`DeskState` and :class:`DeskControl` the unchanged
:class:`~console.tui.app.ConsoleApp` takes. :class:`DeskConsoleApp` is that app plus
what only a desk has: every other operator's action written to the outcome log as it
happens ("bob@desk-2: stop x3algo RSI Momentum — applied"), and DESK DOWN said out loud
(a notification and a line in the log) the moment the hub stops beating, and when it
is back.

**Roles.** :func:`open_desk` asks the server what this user may publish
(:func:`~console.desk.roles.learn_role`). A viewer's console is read-only and cannot be
armed: no control key and no kill key is ever bound (the server would refuse them
anyway). A trader's and an admin's are as a local console's; an admin's resumes and
starts go as ``rearm``. A server that will not say (no ``$SYS.REQ.USER.INFO`` for the
user) leaves the keys as the profile has them and says so in the log: the server still
refuses what the role may not do. A plan the hub refuses (a start of a target a kill
halted, sent by a trader) is said in words, not as an internal error.

**Two-person re-arm.** The re-arm requests waiting for a second operator
(:mod:`console.desk.rearm_board`, from the bucket) are announced in every console (a
notification, and the hub's activity line in the outcome log: who, what, why); ``A``
opens the oldest one not this operator's (:mod:`console.desk.rearm_screen`) to approve
or refuse it, armed only; a viewer has no ``A``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import nats
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from console.core import cancel
from console.core.operator import Operator
from console.core.ports import VenueSettings
from console.core.session import SessionOptions
from console.desk import messages, subjects
from console.desk.connect import connect_options
from console.desk.desk_control import DeskControl, DeskUnavailable, RearmPending
from console.desk.desk_state import DESK_DOWN, DeskState
from console.desk.rearm import RearmMsg
from console.desk.rearm_board import RearmBoard, decide
from console.desk.rearm_screen import RearmScreen
from console.desk.roles import ROLE_WORDS, Role, learn_role
from console.tui import app as app_module
from console.tui.app import ConsoleApp
from console.tui.controllers.control import DISPATCH_GROUP
from console.tui.widgets.outcomes import OutcomesView

FIRST_CONNECT_S = 10.0
log = logging.getLogger(__name__)
ACTIVITY_KEPT = 1_000  # activity lines a console keeps beside its outcome log


async def open_desk(
    url: str,
    options: SessionOptions,
    *,
    user: str,
    auth: dict[str, Any],
    venue_settings: Iterable[VenueSettings] = (),
    down_after_s: float = subjects.DOWN_AFTER_S,
    host: str | None = None,
) -> tuple[DeskState, DeskControl]:
    """Connect as ``user`` (``auth``: nats.connect's credentials), attach to the hub of
    ``options.profile`` and return the console's state source and control port."""
    states: list[DeskState] = []

    async def disconnected() -> None:
        for state in states:
            state.disconnected()

    async def reconnected() -> None:
        for state in states:
            state.reconnected()

    async def error(exc: Exception) -> None:
        log.info("NATS: %s", exc)

    # Once connected it reconnects for ever (DESK DOWN meanwhile); the first has a deadline.
    async with asyncio.timeout(FIRST_CONNECT_S):
        nc = await nats.connect(
            url, name=f"trading-console desk {options.profile} {user}",
            max_reconnect_attempts=-1, reconnect_time_wait=0.5, error_cb=error,
            disconnected_cb=disconnected, reconnected_cb=reconnected,
            **connect_options(user, auth),
        )  # fmt: skip
    here = Operator.current()
    operator = Operator(user, host or here.host, here.ssh_client)
    state = DeskState(nc, options, operator=operator, venue_settings=venue_settings,
                      down_after_s=down_after_s)  # fmt: skip
    states.append(state)
    try:
        await state.attach()
    except BaseException:
        await state.aclose()
        await nc.close()
        raise
    state.owns_connection = True
    role = await learn_role(nc, options.profile, user)
    if role is None:
        log.warning("the desk's server does not say what %s may do ($SYS.REQ.USER.INFO)", user)
    return state, DeskControl(state, user, role)


class DeskConsoleApp(ConsoleApp):
    """:class:`ConsoleApp` on a desk: other operators' actions and DESK DOWN in its log,
    the role's keys, and the re-arm requests waiting for a second operator (``A``)."""

    CSS_PATH: ClassVar[str] = str(Path(app_module.__file__).with_name("app.tcss"))
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("A", "rearm_review", "Re-arm requests", id="rearm_review", show=False),
    ]

    def __init__(self, state: DeskState, control: DeskControl, **kwargs: Any) -> None:
        self.role = control.role
        if self.role is Role.VIEWER:
            kwargs["readonly"] = True  # and never armed (check_action)
        super().__init__(state, control, **kwargs)
        self.desk = state
        self.desk_control = control
        self.activity_lines: deque[str] = deque(maxlen=ACTIVITY_KEPT)  # (tests read it)
        """What this console wrote to its log from the desk (the tests read it)."""
        self.board = RearmBoard(state)
        self._board_task: asyncio.Task[None] | None = None

    def on_mount(self) -> None:  # ConsoleApp's own on_mount runs too (Textual's MRO)
        self.desk.on_activity(self._activity)
        self.desk.on_down(self._down)
        self.board.on_change(self._rearm_changed)
        # A task of its own, not a worker: it runs as long as the console (waiting for a
        # plan's workers to complete must not wait on it).
        self._board_task = asyncio.get_running_loop().create_task(
            self.board.follow(), name="desk:rearm-board"
        )
        self.call_after_refresh(self._say_how_it_stands)  # once the outcome log is there

    async def on_unmount(self) -> None:
        if self._board_task is not None:  # its watch is nats-py's: it can lose a cancel
            await cancel.end_tasks([self._board_task], "desk console closing")

    def _say_how_it_stands(self) -> None:
        """The role, and DESK DOWN if it already is, in the outcome log."""
        user = self.desk_control.user
        stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%H:%M:%S")
        if self.role is None:
            self._write(f"{stamp} the desk's server does not say what {user} may do: the keys "
                        f"are the profile's; the server refuses what {user} may not")  # fmt: skip
        else:
            self._write(f"{stamp} {user} is {ROLE_WORDS[self.role]}")
        if self.desk.down is not None:
            self._down(self.desk.down)

    # ----- the role ----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.role is Role.VIEWER and action in ("arm", "automation_skip"):
            return False  # a viewer's console is never armed
        if action == "rearm_review":  # a viewer may not approve (the server refuses it)
            return self.role is not Role.VIEWER and bool(self.board.pending)
        return super().check_action(action, parameters)

    def action_readonly(self, name: str) -> None:
        if self.role is Role.VIEWER:
            self.notify(f"{self.desk_control.user} is a viewer on this desk: the server "
                        "refuses every command from this login. Nothing was sent.",
                        severity="warning", timeout=10)  # fmt: skip
            return
        super().action_readonly(name)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A plan the hub refused or posted is said in its words, not as an internal
        error (ConsoleApp's own handler runs for everything else)."""
        error = event.worker.error if event.state is WorkerState.ERROR else None
        if event.worker.group != DISPATCH_GROUP or not isinstance(error, DeskUnavailable):
            return
        event.prevent_default()
        self.kill.worker_changed(event)
        self.automation.worker_changed(event)
        if isinstance(error, RearmPending):
            self.notify(f"{error}.", title="Re-arm", timeout=15)
        else:
            self.notify(f"Not sent: {error}.", severity="error", timeout=30)

    # ----- two-person re-arm -------------------------------------------------------------
    def _rearm_changed(self, msg: RearmMsg, new: bool) -> None:
        self.refresh_bindings()
        if not new or msg.user == self.desk_control.user or self.role is Role.VIEWER:
            return
        why = f" ({msg.why})" if msg.why else ""
        self.notify(f"{msg.requested_by} asks to re-arm {len(msg.items)} target(s) a kill "
                    f"halted{why}. Press A to review it: approve or refuse.",
                    title="Re-arm request", severity="warning", timeout=60)  # fmt: skip

    def action_rearm_review(self) -> None:
        waiting = self.board.waiting()
        if not waiting:
            self.notify("No re-arm request waits.")
            return
        me = self.desk_control.user
        msg = next((m for m in waiting if m.user != me), waiting[0])
        mine = msg.user == me
        if not mine and not self.arm.enabled(self.clock()):
            self.notify("Read-only: press a to arm, then A to approve or refuse the re-arm.",
                        severity="warning", timeout=10)  # fmt: skip
            return
        self.push_screen(RearmScreen(msg, mine=mine), partial(self._rearm_decided, msg))

    def _rearm_decided(self, msg: RearmMsg, decision: tuple[bool, str] | None) -> None:
        if decision is None:
            return
        approve, why = decision
        self.run_worker(self._decide(msg, approve, why), name="rearm-decide",
                        group="rearm-decide", exit_on_error=False)  # fmt: skip

    async def _decide(self, msg: RearmMsg, approve: bool, why: str) -> None:
        reply = await decide(self.desk, self.desk_control.user, msg.id, approve=approve, why=why)
        if reply.refused is not None:
            self.notify(f"Not done: {reply.refused}.", title="Re-arm", severity="error",
                        timeout=30)  # fmt: skip
        elif approve:
            batch = (reply.batch_id or "")[:8]
            self.notify(f"Re-arm {msg.id} approved: it runs now as {msg.requested_by}'s "
                        f"(batch {batch}).", title="Re-arm", timeout=10)  # fmt: skip
        else:
            self.notify(f"Re-arm {msg.id} refused: nothing was sent.", title="Re-arm", timeout=10)

    def _activity(self, line: messages.ActivityMsg) -> None:
        mine = f"{self.desk.operator.user}@{self.desk.operator.host}"
        if line.operator == mine and line.batch_id in self.desk_control.own_batches:
            return  # this console's own results are in its log already
        stamp = datetime.fromtimestamp(line.ts_ms / 1000, UTC).strftime("%H:%M:%S")
        self._write(f"{stamp} {line.line()}")

    def _down(self, why: str | None) -> None:
        stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%H:%M:%S")
        if why is None:
            self._write(f"{stamp} the desk is back: the hub's state read again in full")
            self.notify("The desk is back.", title="Desk", timeout=6)
            return
        self._write(f"{stamp} {DESK_DOWN}: {why}")
        self.notify(f"{DESK_DOWN}: {why}. What is shown is no longer live; nothing is sent.",
                    title=DESK_DOWN, severity="error", timeout=30)  # fmt: skip

    def _write(self, text: str) -> None:
        self.activity_lines.append(text)
        try:
            self.main.query_one(OutcomesView).note(text)
        except Exception:  # not composed yet, or shutting down: the list has it
            return
