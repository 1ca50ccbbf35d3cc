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
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import nats
from textual.worker import Worker, WorkerState

from console.core.operator import Operator
from console.core.ports import VenueSettings
from console.core.session import SessionOptions
from console.desk import protocol as p
from console.desk.connect import connect_options
from console.desk.desk_control import DeskControl, DeskUnavailable, RearmPending
from console.desk.desk_state import DESK_DOWN, DeskState
from console.desk.roles import Role, learn_role
from console.tui import app as app_module
from console.tui.app import ConsoleApp
from console.tui.controllers.control import DISPATCH_GROUP
from console.tui.widgets.outcomes import OutcomesView

FIRST_CONNECT_S = 10.0
log = logging.getLogger(__name__)


async def open_desk(
    url: str,
    options: SessionOptions,
    *,
    user: str,
    auth: dict[str, Any],
    venue_settings: Iterable[VenueSettings] = (),
    down_after_s: float = p.DOWN_AFTER_S,
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
    """:class:`ConsoleApp` on a desk: other operators' actions and DESK DOWN in its log."""

    CSS_PATH: ClassVar[str] = str(Path(app_module.__file__).with_name("app.tcss"))

    def __init__(self, state: DeskState, control: DeskControl, **kwargs: Any) -> None:
        self.role = control.role
        if self.role is Role.VIEWER:
            kwargs["readonly"] = True  # and never armed (check_action)
        super().__init__(state, control, **kwargs)
        self.desk = state
        self.desk_control = control
        self.activity_lines: list[str] = []
        """What this console wrote to its log from the desk (the tests read it)."""

    def on_mount(self) -> None:  # ConsoleApp's own on_mount runs too (Textual's MRO)
        self.desk.on_activity(self._activity)
        self.desk.on_down(self._down)
        if self.desk.down is not None:
            self._down(self.desk.down)
        user = self.desk_control.user
        stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%H:%M:%S")
        if self.role is None:
            self._write(f"{stamp} the desk's server does not say what {user} may do: the keys "
                        f"are the profile's; the server refuses what {user} may not")  # fmt: skip
        else:
            self._write(f"{stamp} {user} is a {self.role.value} on this desk")

    # ----- the role ----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.role is Role.VIEWER and action in ("arm", "automation_skip"):
            return False  # a viewer's console is never armed
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

    def _activity(self, line: p.ActivityMsg) -> None:
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
