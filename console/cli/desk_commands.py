"""``status``, ``stop|pause|resume|start``, ``kill`` and ``audit`` through a desk's hub.

On a desk (``console.cli.desk_link`` says when) a command logs in to no venue: it asks
the hub of the profile who it is (no hub: exit 4 at once, in words), reads the hub's
picture (:class:`~console.desk.desk_state.DeskState`: the bucket, the journal stream)
and sends its plan to the hub (:class:`~console.desk.desk_control.DeskControl`, as the
desk console does). What it prints and its exit codes are the local command's
(``console.cli.control``, ``console.cli.kill``, ``console.cli.audit``); the journal rows
are the hub's, under the operator's NATS user. ``audit`` reads the journal stream, and
needs no hub while the stream is there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable

from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

from console.automation.alerts import Alerter
from console.cli import audit, control, kill
from console.cli.desk_link import (
    EXIT_FAILED,
    DeskAddress,
    DeskFailure,
    address,
    connect,
    hub_beat,
    no_hub,
)
from console.config import Profile
from console.core.dispatcher import DispatchBusy
from console.core.kill import KillScope, build_kill_plan, never_listed, read_in_part
from console.core.model import ActionKind
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, Report
from console.core.ports import FeedStatus, VenueSettings
from console.core.session import Session, SessionOptions
from console.desk import subjects
from console.desk.desk_control import DeskControl, DeskUnavailable, RearmPending
from console.desk.desk_state import DeskState
from console.desk.journal_mirror import CATCH_UP_S, MirrorJournal
from console.desk.roles import Role, learn_role

EXIT_OK, EXIT_USAGE, EXIT_UNKNOWN = 0, 2, 7
CHAIN_WAIT_S = 5.0
"""After a kill's report, how long its journal rows may take to reach the stream."""


def run(
    profile: Profile, args: argparse.Namespace, options: SessionOptions, url: str,
    alerter: Callable[[], Alerter | None],
) -> int:  # fmt: skip
    """Run the command ``args`` names through the desk at ``url``."""
    desk = address(profile, args, url)  # DeskFailure: main says it, with its exit code
    if args.command == "audit":
        return asyncio.run(audit_verb(desk, options, args))
    settings = settings_for(profile)
    if args.command == "status":
        return asyncio.run(status(desk, options, settings, as_json=args.json))
    if args.command == "kill":
        return asyncio.run(kill_verb(desk, options, settings, args, alerter()))
    return asyncio.run(control_verb(desk, options, settings, args))


def settings_for(profile: Profile) -> list[VenueSettings]:
    """The profile's venue settings for planning (rate scale, options), when they load."""
    try:
        return list(profile.venue_settings())
    except Exception:  # the secrets are the hub's: a desk machine may not have them
        return []


async def open_state(
    desk: DeskAddress, options: SessionOptions, settings: Iterable[VenueSettings] = ()
) -> DeskState:
    """The hub's picture, read in full; DeskFailure when there is no desk or no hub."""
    states: list[DeskState] = []

    async def disconnected() -> None:
        for state in states:
            state.disconnected()

    async def reconnected() -> None:
        for state in states:
            state.reconnected()

    nc = await connect(desk, disconnected_cb=disconnected, reconnected_cb=reconnected)
    try:
        await hub_beat(nc, desk)
        here = Operator.current()
        state = DeskState(nc, options, operator=Operator(desk.user, here.host, here.ssh_client),
                          venue_settings=settings)  # fmt: skip
        states.append(state)
        state.owns_connection = True
    except BaseException:
        await nc.close()
        raise
    try:
        await state.attach()
    except BaseException:
        await state.aclose()
        raise
    if state.down is not None:
        await state.aclose()
        raise DeskFailure(f"{no_hub(desk)} ({state.down})")
    return state


async def status(
    desk: DeskAddress, options: SessionOptions, settings: list[VenueSettings], *, as_json: bool
) -> int:
    """``status`` from the hub's bucket: every venue the hub could not read is named."""
    state = await open_state(desk, options, settings)
    try:
        store = state.store
        targets = sorted(store.all_targets(), key=lambda t: (t.venue, t.kind, t.name))
        venues = state.venues
        unread = never_listed(store, venues)
        for venue in venues:  # the bucket holds every venue's list; "listed" says it came in
            health = store.venue_health(venue)
            if venue not in store.listed and venue not in unread:
                unread[venue] = health.detail or f"no list yet (feed {health.status.value})"
        named = state.hub.venues if state.hub is not None else []
        for venue in named:  # the hub serves it, but its key never reached the bucket
            if venue not in venues:
                unread[venue] = "named by the hub, not in its bucket (nothing of it was read)"
        partial = read_in_part(store, venues)
        if as_json:
            for target in targets:
                state_now = store.effective_state(target).value
                control._out(control._json(control.target_json(target, state_now)))
        else:
            control.print_table(store, targets, unread, partial)
        for venue, why in unread.items():
            control._err(f"{venue}: could not read targets: {why}")
        for venue, why in partial.items():
            control._err(f"{venue}: only part of its targets could be read (listed above): {why}")
        down = {
            v: store.venue_health(v).detail
            for v in venues
            if v not in unread and store.venue_health(v).status is FeedStatus.DOWN
        }
        for venue, why in down.items():
            control._err(f"{venue}: the hub cannot read it now ({why}); its targets are "
                         "listed as last read")  # fmt: skip
        return EXIT_FAILED if unread or partial or down else EXIT_OK
    finally:
        await state.aclose()


async def control_verb(
    desk: DeskAddress, options: SessionOptions, settings: list[VenueSettings],
    args: argparse.Namespace,
) -> int:  # fmt: skip
    """``stop|pause|resume|start`` planned from the hub's picture, sent to the hub."""
    state = await open_state(desk, options, settings)
    try:
        port = await _port(state, desk, args.command)
        return port if isinstance(port, int) else await _control(state, port, args)
    finally:
        await state.aclose()


async def _port(state: DeskState, desk: DeskAddress, verb: str) -> DeskControl | int:
    """The operator's control port, or exit 2 at once when their role is a viewer's (the
    server would refuse the command; it is said before anything is planned)."""
    role = await learn_role(state.nc, state.profile, desk.user)
    if role is Role.VIEWER:
        control._err(f"user {desk.user!r} is a viewer on this desk: a viewer may not {verb}; "
                     "nothing was sent (ask for a trader's NATS user)")  # fmt: skip
        return EXIT_USAGE
    return DeskControl(state, desk.user, role)


async def _control(state: DeskState, port: DeskControl, args: argparse.Namespace) -> int:
    kind = ActionKind(args.command)
    client = state.clients.get(args.venue)
    if client is None:
        control._err(f"no venue {args.venue!r} in profile {state.profile!r} on this desk"
                     f"{control.did_you_mean(args.venue, state.clients)}; "
                     f"{control.venues_words(state.clients)}")  # fmt: skip
        return EXIT_UNKNOWN
    target = state.store.get(args.venue, args.target)
    if target is None:
        close = control.close_names(state.store.targets(args.venue), args.target)
        near = f"; did you mean {', '.join(close)}?" if close else ""
        control._err(f"{args.venue} has no target {args.target!r}{near} — "
                     f"`{control.status_command(args)}` lists them")  # fmt: skip
        return EXIT_UNKNOWN
    plan = control.plan_for(client, target, kind, args)
    if isinstance(plan, int):
        return plan
    if not args.yes and not control.confirm(state.options.label, plan, target):
        control._err("not confirmed; nothing was sent")
        return control.EXIT_NOT_CONFIRMED
    report = await _send(port, plan)
    if isinstance(report, int):
        return report
    result = report.results.get(target.key)
    if result is None:
        control._err(f"the hub's report of batch {report.batch_id[:8]} has no outcome for "
                     f"{target.name}; `trading-console audit` says what was sent")  # fmt: skip
        return EXIT_FAILED
    return control.print_result(result, args, state.profile)


async def _send(
    port: DeskControl, plan: Plan, progress: Callable[[ItemResult], None] | None = None
) -> Report | int:
    refusal = port.journal_refusal()
    if refusal is not None:
        control._err(refusal)
        return EXIT_FAILED
    try:
        return await port.dispatch(plan, progress)
    except RearmPending as exc:  # an admin's resume/start after a kill: a second yes first
        control._err(str(exc))
        return control.EXIT_NOT_CONFIRMED
    except DispatchBusy as exc:
        control._err(f"the hub is {exc}; try again when it has ended")
        return EXIT_FAILED
    except DeskUnavailable as exc:
        control._err(str(exc))
        return EXIT_FAILED


async def kill_verb(
    desk: DeskAddress, options: SessionOptions, settings: list[VenueSettings],
    args: argparse.Namespace, alerter: Alerter | None,
) -> int:  # fmt: skip
    """The desk's one kill: planned from the hub's picture; a kill already running is
    joined (its batch followed, nothing sent twice)."""
    started = time.monotonic()
    state = await open_state(desk, options, settings)
    try:
        if args.venue and args.venue not in state.clients:
            kill._err(f"no venue {args.venue!r} on this desk"
                      f"{control.did_you_mean(args.venue, state.clients)}; "
                      f"{control.venues_words(state.clients)}")  # fmt: skip
            return EXIT_UNKNOWN
        store, venues = state.store, state.venues
        clear = options.kill_clear_leaves_behind if args.clear_leaves_behind is None else True
        kp = build_kill_plan(
            store, state.clients, scope=KillScope(venue=args.venue), clear_leaves_behind=clear,
            reason=args.reason, unreachable=never_listed(store, venues),
            incomplete=read_in_part(store, venues), open_intents=len(state.journal.interrupted()),
        )  # fmt: skip
        port = await _port(state, desk, "kill")
        if isinstance(port, int):
            return port
        failure: list[int] = []

        async def dispatch(plan: Plan, progress: Callable[[ItemResult], None]) -> Report:
            report = await _send(port, plan, progress)
            if isinstance(report, int):
                failure.append(report)
                raise _NotSent
            return report

        def joined(report: Report) -> str | None:
            if report.plan.created_at == kp.plan.created_at:
                return None
            return (f"another operator's kill was running: this one joined it (batch "
                    f"{report.batch_id[:8]}, {len(report.plan)} targets); nothing was sent "
                    "twice")  # fmt: skip

        async def head(report: Report) -> str | None:
            return await _chain_head(state.journal, report)

        run = kill.KillRun(options.label, f"{desk.user}@{state.operator.host}", kp, clear,
                           time.monotonic() - started, dispatch, head, joined=joined,
                           refused=port.refused_now, at_hub=True)  # fmt: skip
        try:
            return await kill.carry_out(run, args, alerter)
        except _NotSent:
            return failure[0]
    finally:
        await state.aclose()


class _NotSent(Exception):
    """The hub refused the kill or could not be asked (said on stderr)."""


async def _chain_head(journal: MirrorJournal, report: Report) -> str | None:
    """The hub's chain head once the kill's last row is in the stream (bounded)."""
    wanted = sum(2 if r.verified is not None else 1 for r in report.results.values())
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CHAIN_WAIT_S):
            while True:
                rows = [e for e in journal.entries(limit=10_000) if e.batch_id == report.batch_id]
                if sum(e.kind in ("outcome", "verify") for e in rows) >= wanted:
                    break
                await asyncio.sleep(0.1)  # the mirror's rows arrive without an event to await
    return journal.chain_head() or None


async def audit_verb(desk: DeskAddress, options: SessionOptions, args: argparse.Namespace) -> int:
    """``audit`` from the journal stream (no hub needed while the stream is there);
    ``--interrupted --verify`` asks the hub to re-read the calls cut short."""
    if args.interrupted and getattr(args, "verify", False):
        return await _verify_interrupted(desk, options, args)
    nc = await connect(desk)
    try:
        journal = await _read_journal(nc, desk)
        where = f"stream {subjects.journal_stream(desk.profile)} on {desk.safe_url}"
        session = Session(options, [], journal)
        return audit.audit(session, args, where=where)
    finally:
        await nc.close()


async def _read_journal(nc: NATS, desk: DeskAddress) -> MirrorJournal:
    js = nc.jetstream()
    try:
        await js.stream_info(subjects.journal_stream(desk.profile))
    except NotFoundError:
        raise DeskFailure(f"{no_hub(desk)}: there is no journal stream "
                          f"{subjects.journal_stream(desk.profile)} on it yet") from None  # fmt: skip
    journal = MirrorJournal(desk.profile)
    sub = await journal.follow(js)
    await sub.unsubscribe()
    if not journal.caught_up:  # never a part of the journal shown as the whole of it
        raise DeskFailure(
            f"the journal stream {subjects.journal_stream(desk.profile)} was not read in "
            f"full within {CATCH_UP_S:g} s (rows read up to seq {journal.last_seq}); "
            "nothing is shown as the journal: try again, or check the NATS server"
        )
    return journal


async def _verify_interrupted(
    desk: DeskAddress, options: SessionOptions, args: argparse.Namespace
) -> int:
    state = await open_state(desk, options)
    try:
        entries = state.journal.interrupted()
        if not entries and not state.journal.caught_up:
            audit._err(f"the desk's journal stream was not read in full within {CATCH_UP_S:g} "
                       "s: which calls are interrupted is not known; try again")  # fmt: skip
            return EXIT_FAILED
        if not entries:
            audit._err("no interrupted calls: nothing to verify")
            return EXIT_OK
        try:
            results = await DeskControl(state, desk.user).verify_interrupted(entries)
        except DeskUnavailable as exc:
            audit._err(str(exc))
            return EXIT_FAILED
    finally:
        await state.aclose()
    return audit.print_verified(results, as_json=args.json)
