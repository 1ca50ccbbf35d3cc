"""``status`` and ``stop|pause|resume|start`` for people and scripts.

A control command goes through the same dispatcher as the console: the intent is
journaled before the request, the outcome after, then the target is re-read. With the
journal failed, a single-target action is refused (nothing sent): only the kill goes on
without it, recording to its fallback.

Venue words (names, statuses, messages) reach the terminal through ``printable``: a
name carrying escape sequences must not retitle, clear or re-colour the operator's
terminal. JSON output keeps the venue's exact text (``json.dumps`` escapes controls).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import shlex
import sys
import time
from collections.abc import Iterable
from typing import Any

from console.cli.hangup import SurviveHangup
from console.cli.reads import cancel_reads, finish_reads
from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.core.plan import ItemResult, Plan, desired, single_plan
from console.core.ports import Incomplete
from console.core.scrub import printable
from console.core.session import Session
from console.core.store import KnownState, Store
from console.venues.kit.base import VenueClient, VenueConfigError

EXIT_OK, EXIT_REJECTED, EXIT_FAILED, EXIT_UNCERTAIN = 0, 3, 4, 5
EXIT_USAGE, EXIT_NOT_CONFIRMED, EXIT_UNKNOWN = 2, 6, 7
CLOSE_NAMES_TIMEOUT_S = 10.0
"""An unknown target: how long the one list read for close names may take."""


def target_json(
    target: Target, state: str | None = None, confirmed_at: float | None = None
) -> dict[str, Any]:
    """``confirmed_at``: the store's word for when the venue last vouched for the target
    (:meth:`~console.core.store.Store.confirmed_at`); the target's own time if not given."""
    at = target.confirmed_at if confirmed_at is None else confirmed_at
    return {
        "venue": target.venue,
        "kind": target.kind.value,
        "id": target.id,
        "name": target.name,
        "state": state or target.state.value,
        "raw_status": target.raw_status,
        "attrs": {k: list(v) if isinstance(v, tuple) else v for k, v in target.attrs.items()},
        "confirmed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
    }


async def status(session: Session, *, as_json: bool) -> int:
    """Every target of every venue: a table for people, JSON lines for scripts."""
    if not session.clients:  # an empty table would read as "no targets"
        await session.aclose()
        _err(no_venue_words(session.options.profile, "nothing to read"))
        return EXIT_USAGE
    reads = session.start_reads()
    try:
        failures = await finish_reads(session, reads, "status shows every venue")
    finally:
        cancel_reads(reads)
        await session.aclose()
    targets = sorted(session.store.all_targets(), key=lambda t: (t.venue, t.kind, t.name))
    if as_json:
        for target in targets:
            state = session.store.effective_state(target).value
            row = target_json(target, state, session.store.confirmed_at(target))
            if (known := journal_known(session.store, target)) is not None:
                row["known_from"] = {"journal": True, "set_at": known.set_at,
                                     "set_by": known.set_by}  # fmt: skip
            _out(_json(row))
    else:
        print_table(session.store, targets, failures, session.incomplete)
    for venue, why in failures.items():
        _err(f"{venue}: could not read targets: {why}")
    for venue, why in session.incomplete.items():
        _err(f"{venue}: only part of its targets could be read (listed above): {why}")
    for client in session.clients.values():
        for skipped in client.skipped_rows:
            _err(f"{client.name}: a row was not read cleanly (see why): {skipped}")
    partial = session.incomplete or any(c.skipped_rows for c in session.clients.values())
    return EXIT_FAILED if failures or partial else EXIT_OK


def journal_known(store: Store, target: Target) -> KnownState | None:
    """The journal's word, when it is what a target's state shows: a venue that cannot
    report the state (Joyride's pause) shows what this console set, never as the venue's
    own — someone may have lifted it at the venue since."""
    known = store.known(target.venue, target.id)
    if known is None or target.state is not State.UNKNOWN:
        return None
    return known if store.effective_state(target) is known.state else None


def print_table(
    store: Store,
    targets: list[Target],
    not_read: Iterable[str] = (),
    in_part: Iterable[str] = (),
) -> None:
    """The targets as a table; a venue ``not_read`` (or read only ``in_part``) gets a row
    saying so: an empty table under its header read as "no targets" when stdout was all
    one looked at (the reasons follow on stderr)."""
    rows = [("VENUE", "KIND", "ID", "NAME", "STATE", "VENUE STATUS")]
    for t in targets:
        state = store.effective_state(t).value.upper()
        if (known := journal_known(store, t)) is not None:  # not the venue's word
            state += f" per journal {known.set_at[11:16]}Z {known.set_by.split('@')[0]}"
        rows.append((t.venue, t.kind.value, printable(t.id), printable(t.name), state,
                     printable(t.raw_status)))  # fmt: skip
    for venue in not_read:
        rows.append((venue, "-", "-", "(could not be read: see below)", "NOT READ", ""))
    for venue in in_part:
        rows.append((venue, "-", "-", "(only part read: see below)", "INCOMPLETE", ""))
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    for row in rows:
        _out("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


async def control(session: Session, args: argparse.Namespace) -> int:
    try:
        return await _control(session, args)
    finally:
        await session.aclose()


async def _control(session: Session, args: argparse.Namespace) -> int:
    kind = ActionKind(args.command)
    client = session.clients.get(args.venue)
    if client is None:
        _err(f"no venue {args.venue!r} in profile {session.options.profile!r}"
             f"{did_you_mean(args.venue, session.clients)}; "
             f"{venues_words(session.clients)}")  # fmt: skip
        return EXIT_UNKNOWN
    refusal = journal_refusal(session)
    if refusal is not None:
        _err(refusal)
        return EXIT_FAILED
    deadline = session.options.planning_deadline_s
    ends = time.monotonic() + deadline  # the read, and the list read after it, share it
    try:
        async with asyncio.timeout(deadline):  # a venue that never answers ends the command
            target = await client.read_target(args.target)
    except VenueConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except TimeoutError:
        _err(f"{args.venue}: could not read {args.target} within {deadline:g} s; nothing was "
             "sent — check the venue, then try again")  # fmt: skip
        return EXIT_FAILED
    except Exception as exc:
        target, unread = await _listed(client, args.target, ends - time.monotonic())
        if target is None:
            _err(f"{args.venue}: could not read {args.target}: {exc}{_unread_hint(args, unread)}")
            return EXIT_FAILED
        _err(f"{args.venue}: could not read {args.target} ({exc}); its list holds it "
             f"{target.state.value.upper()}: acting on that")  # fmt: skip
    if target is None:
        close = await _close_targets(client, args.target)
        near = f"; did you mean {', '.join(close)}?" if close else ""
        _err(f"{args.venue} has no target {args.target!r}{near} — "
             f"`{status_command(args)}` lists them")  # fmt: skip
        return EXIT_UNKNOWN
    plan = plan_for(client, target, kind, args)
    if isinstance(plan, int):
        return plan
    if not args.yes and not confirm(session.options.label, plan, target):
        _err("not confirmed; nothing was sent")
        return EXIT_NOT_CONFIRMED
    refusal = journal_refusal(session)  # it may have failed while the operator read
    if refusal is not None:
        _err(refusal)
        return EXIT_FAILED
    with SurviveHangup(session.journal, f"«{plan.title}»"):
        report = await session.dispatcher.run(plan)
        return print_result(report.results[target.key], args, session.options.profile)


async def _listed(
    client: VenueClient, target_id: str, left_s: float
) -> tuple[Target | None, list[Target]]:
    """``target_id`` as the venue's list holds it, when reading it alone failed: a venue
    may list what it cannot read one by one (a 55-tech engine whose key's status read
    fails is listed UNKNOWN, its stop needing no read — a fresh ``stop 55tech 'key #1'``
    could not address the row ``status`` had just listed). None when the list fails too,
    or ``left_s`` (what the command's planning deadline leaves) is spent. Second: the
    rows the list holds UNKNOWN — where a target not found may hide (its name unread)."""
    if left_s <= 0:
        return None, []
    try:
        async with asyncio.timeout(left_s):
            listed = await client.list_targets()
    except Incomplete as exc:  # what was read of it is true
        listed = exc.partial
    except Exception:  # (the target's own failure is what the operator is told)
        return None, []
    unread = [t for t in listed if t.state is State.UNKNOWN]
    return next((t for t in listed if t.id == target_id), None), unread


def _unread_hint(args: argparse.Namespace, unread: list[Target]) -> str:
    """What an operator can do when the target asked for was not found and the venue
    lists rows it could not read: the target may be one of them (a 55-tech engine's
    slug is known only from its status read), and each can be acted on by its own id."""
    if not unread:
        return ""
    ids = [printable(t.id)[:40] for t in unread[:3]]
    more = f" and {len(unread) - 3} more" if len(unread) > 3 else ""
    return (f" — it may be one the venue lists but could not read: "
            f"{', '.join(repr(i) for i in ids)}{more}; "
            f"`{command_line(args, args.command, args.venue, ids[0])}` acts on "
            f"{ids[0]!r}, `{command_line(args, 'kill', '--venue', args.venue)}` halts every target of {args.venue}")  # fmt: skip


def plan_for(client: VenueClient, target: Target, kind: ActionKind,
             args: argparse.Namespace) -> Plan | int:  # fmt: skip
    """The one-target plan the command asks for, or the exit code of why there is none."""
    specs = {s.kind: s for s in client.actions_for(target)}
    spec = specs.get(kind)
    if spec is None and not desired(kind, client.control_state(target)):
        offered = ", ".join(k.value for k in specs) or "none"
        _err(f"{client.name} does not offer {kind.value} on {target.name} "
             f"(state {target.raw_status}); offered now: {offered}")  # fmt: skip
        return EXIT_USAGE
    options: dict[str, bool | str] = {}
    if getattr(args, "clear_leaves_behind", False):  # --close-positions, on pause only
        clears = client.capabilities.clears_leaves_behind  # the venue's option, if any
        if clears is None or spec is None or not any(o.name == clears for o in spec.options):
            why = (f"{target.name} is {target.raw_status}: {client.name} offers no {kind.value} "
                   "of it, so nothing can close its positions"
                   if spec is None and clears is not None
                   else f"{client.name} {kind.value} has no close-positions option")  # fmt: skip
            _err(why)
            return EXIT_USAGE
        options[clears] = True
    action = Action(kind, options, args.reason)
    leaves: tuple[str, ...] = ()
    if spec and spec.leaves_behind and not options:
        held = client.held_by(target)
        leaves = (spec.leaves_behind + (f" — it holds {held[0]} {held[1]}" if held else ""),)
    return single_plan(target, action, leaves)


def print_result(result: ItemResult, args: argparse.Namespace, profile: str) -> int:
    """The outcome, as a line or JSON; the command's exit code."""
    if args.json:
        _out(_json(_result_json(result, profile)))
    else:
        _out(_result_line(result))
    return exit_code(result)


def no_venue_words(profile: str, what: str) -> str:
    """A command that needs venues, on a profile that names none."""
    return (f"profile {profile!r} names no venue: {what} — add a [[profiles.{profile}.venues]] "
            "entry (README, 'Configuration')")  # fmt: skip


def venues_words(names: Iterable[str]) -> str:
    """``venues: x3algo, pipai`` — or that the profile names none (an empty list read as
    a cut-off message)."""
    listed = ", ".join(names)
    return f"venues: {listed}" if listed else "the profile names no venue"


def did_you_mean(wanted: str, names: Iterable[str]) -> str:
    """`` (did you mean 'x3algo'?)`` when a name is close to ``wanted``, else ``""``."""
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def status_command(args: argparse.Namespace) -> str:
    """The ``status`` command line for the profile this command used (--demo kept)."""
    return command_line(args, "status")


def settle_command(args: argparse.Namespace) -> str:
    """The command that re-reads calls cut short, for the profile this command used."""
    return command_line(args, "audit", "--interrupted", "--verify")


def command_line(args: argparse.Namespace, *words: str) -> str:
    """A command line for the profile this command used (--demo kept), ``words`` quoted."""
    line = ["trading-console"]
    if getattr(args, "demo", False):
        line.append("--demo")
    elif getattr(args, "config", None):
        line += ["--config", shlex.quote(str(args.config))]
    if getattr(args, "profile", None):
        line += ["--profile", shlex.quote(str(args.profile))]
    return " ".join([*line, *(shlex.quote(w) for w in words)])


async def _close_targets(client: VenueClient, wanted: str) -> list[str]:
    """Up to three targets whose id or name is close to ``wanted``: one list read of the
    venue, bounded; nothing when it cannot be read (the hint is a courtesy)."""
    try:
        async with asyncio.timeout(CLOSE_NAMES_TIMEOUT_S):
            targets = await client.list_targets()
    except Exception:
        return []
    return close_names(targets, wanted)


def close_names(targets: Iterable[Target], wanted: str) -> list[str]:
    """Up to three targets whose id or name is close to ``wanted``, as the hint says them."""
    by_word: dict[str, Target] = {}
    for target in targets:
        by_word.setdefault(target.id, target)
        by_word.setdefault(target.name, target)
    found: list[str] = []
    for word in difflib.get_close_matches(wanted, list(by_word), n=6, cutoff=0.6):
        t = by_word[word]
        shown = f"{t.id!r} ({t.name})" if t.name != t.id else repr(t.id)
        if shown not in found:
            found.append(shown)
    return found[:3]


def journal_refusal(session: Session) -> str | None:
    """Why a single-target action must not be sent now, or None: the journal failed.

    Every call has its intent recorded before it is sent; without a journal there is no
    record, so nothing is sent (the kill alone goes on, to its fallback record).
    """
    journal = session.journal
    failed = getattr(journal, "failed", None)
    if not failed:
        return None
    require_ok = getattr(journal, "require_ok", None)
    if callable(require_ok):
        try:
            require_ok()
        except Exception as exc:  # JournalUnavailable: its message says what to do
            if str(exc):
                return f"{printable(str(exc))}; nothing was sent"
    where = getattr(journal, "path", None)
    return (
        f"the journal{f' {where}' if where else ''} failed ({printable(str(failed))}), so "
        "this action could not be recorded; nothing was sent. Fix the journal (free disk "
        "space, permissions) and retry; `trading-console kill` still runs without it"
    )


EXIT_BY_ANSWER = 14  # done by the venue's answer only: it cannot report the state (re-read)


def exit_code(result: ItemResult) -> int:
    """0 when a re-read verified the target as asked, whatever the call answered
    (:attr:`ItemResult.needs_retry`); 14 when only the venue's answer says so (it cannot
    be re-read); else 3 rejected, 4 failed, 5 uncertain or not confirmed by the re-read."""
    if result.verified:
        return EXIT_OK
    if result.by_answer:
        return EXIT_BY_ANSWER
    kind = result.outcome.kind
    if kind is OutcomeKind.REJECTED:
        return EXIT_REJECTED
    if kind is OutcomeKind.FAILED:
        return EXIT_FAILED
    if kind is OutcomeKind.UNCERTAIN or result.verified is False:
        return EXIT_UNCERTAIN
    return EXIT_OK


def confirm(label: str, plan: Plan, target: Target) -> bool:
    """Ask the operator to type y (the target's id and status shown as it was read)."""
    print(f"[{label}] {printable(plan.title)} (id {printable(target.id)}, now "
          f"{printable(target.raw_status)})", file=sys.stderr)  # fmt: skip
    for line in plan.leaves_behind:
        print(f"  leaves behind: {printable(line)}", file=sys.stderr)
    print("Type y to confirm: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _result_json(result: ItemResult, profile: str) -> dict[str, Any]:
    o = result.outcome
    return {
        "profile": profile,
        "venue": result.item.venue,
        "target": result.item.target_id,
        "name": result.item.target_name,
        "action": result.item.action.kind.value,
        "outcome": o.kind.value,
        "message": o.message,
        "warning": o.warning,
        "http_status": o.http_status,
        "latency_ms": round(o.latency_ms, 1) if o.latency_ms is not None else None,
        "verified_state": result.verified_state.value if result.verified_state else None,
        "verified": result.verified,
        "by_answer": result.by_answer,
    }


def _result_line(result: ItemResult) -> str:
    o = result.outcome
    item = result.item
    bits = [f"{item.venue} · {item.kind.value} {printable(item.target_name)} "
            f"({printable(item.target_id)}): {o.kind.value.upper()} — {printable(o.message)}"]  # fmt: skip
    if o.warning:
        bits.append(f"  warning: {printable(o.warning)}")
    if result.by_answer and result.verified_state is not None:
        bits.append(f"  not re-read: {item.venue} cannot report this state; "
                    f"{result.verified_state.value} by the venue's answer only")  # fmt: skip
    elif result.verified_state is not None:
        verdict = "confirmed" if result.verified else "NOT confirmed"
        bits.append(f"  re-read: {result.verified_state.value} ({verdict})")
    meta = []
    if o.http_status is not None:
        meta.append(f"HTTP {o.http_status}")
    if o.latency_ms is not None:
        meta.append(f"{o.latency_ms:.0f} ms")
    if meta:
        bits.append("  " + ", ".join(meta))
    return "\n".join(bits)


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, sort_keys=True, default=str)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    """A message on stderr; it may quote venue words, so each line is made printable."""
    text = "\n".join(printable(part) for part in line.split("\n"))
    print(f"trading-console: {text}", file=sys.stderr)
