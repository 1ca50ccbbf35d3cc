"""``trading-console kill``: the emergency stop from the command line.

``kill`` reads every venue, builds the same kill plan as the console's kill key, asks the
operator to type the profile label (unless ``--yes``), dispatches to every venue at once,
verifies by re-reading, and exits 0 only when every target is verified halted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from console.core.dispatcher import ItemResult, Report
from console.core.kill import KillPlan, KillScope, build_kill_plan
from console.core.model import OutcomeKind
from console.core.session import Session

EXIT_OK, EXIT_REJECTED, EXIT_FAILED, EXIT_UNCERTAIN = 0, 3, 4, 5
EXIT_USAGE, EXIT_NOT_CONFIRMED, EXIT_UNKNOWN = 2, 6, 7


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    kill = sub.add_parser(
        "kill", parents=[common], help="emergency stop of everything (or one venue)"
    )
    kill.add_argument("--venue", help="only this venue")
    kill.add_argument("--reason", help="recorded in the journal and sent where the venue takes one")
    kill.add_argument("--close-positions", action="store_true", default=None,
                      help="PipAI: close positions when pausing (default: the profile's policy)")  # fmt: skip
    kill.add_argument("--yes", action="store_true", help="do not ask for the profile label")
    kill.add_argument(
        "--json", action="store_true", help="JSON lines: one per target, then a summary"
    )


async def kill(session: Session, args: argparse.Namespace) -> int:
    try:
        return await _kill(session, args)
    finally:
        await session.aclose()


async def _kill(session: Session, args: argparse.Namespace) -> int:
    if args.venue and args.venue not in session.clients:
        _err(f"no venue {args.venue!r} in this profile; venues: {', '.join(session.clients)}")
        return EXIT_UNKNOWN
    failures = await session.refresh()
    close = session.options.kill_close_positions if args.close_positions is None else True
    kp = build_kill_plan(
        session.store, session.clients, scope=KillScope(venue=args.venue),
        close_positions=close, reason=args.reason, unreachable=failures,
    )  # fmt: skip
    _describe(session, kp, close)
    if not args.yes and not _confirm_label(session.options.label):
        _err("not confirmed; nothing was sent")
        return EXIT_NOT_CONFIRMED
    total = len(kp.plan)
    verified_count = 0

    def progress(result: ItemResult) -> None:
        nonlocal verified_count
        if result.verified is None:
            return  # the outcome; its verification follows
        verified_count += 1
        if args.json:
            return
        o = result.outcome
        state = result.verified_state.value if result.verified_state else "?"
        print(f"[{verified_count}/{total}] {result.item.venue} {result.item.target_name}: "
              f"{o.kind.value} → {state}{'' if result.verified else ' (NOT verified)'} — {o.message}",
              file=sys.stderr)  # fmt: skip

    started = time.monotonic()
    report = await session.dispatcher.run(kp.plan, on_result=progress)
    elapsed = time.monotonic() - started
    summary = report.summary()
    if kp.unreachable:
        summary += f" · {len(kp.unreachable)} venue(s) unreachable"
    if args.json:
        for result in report.results.values():
            _out(json.dumps(_result_json(result), sort_keys=True))
        _out(json.dumps({"summary": summary, "all_verified": _all_halted(report, kp),
                         "unreachable": dict(kp.unreachable), "elapsed_s": round(elapsed, 3),
                         "batch_id": report.batch_id}, sort_keys=True))  # fmt: skip
    else:
        for venue, why in kp.unreachable.items():
            _out(
                f"{venue}: UNREACHABLE — could not list its targets ({why}); nothing was sent there"
            )
        _out(f"{summary} in {elapsed:.1f} s (batch {report.batch_id[:8]})")
    return _exit_code(report, kp)


def _all_halted(report: Report, kp: KillPlan) -> bool:
    return report.all_verified and not kp.unreachable


def _exit_code(report: Report, kp: KillPlan) -> int:
    if _all_halted(report, kp):
        return EXIT_OK
    kinds = {r.outcome.kind for r in report.results.values()}
    if kp.unreachable or OutcomeKind.FAILED in kinds:
        return EXIT_FAILED
    if OutcomeKind.UNCERTAIN in kinds or any(r.verified is False for r in report.results.values()):
        return EXIT_UNCERTAIN
    return EXIT_REJECTED


def _describe(session: Session, kp: KillPlan, close: bool) -> None:
    print(f"[{session.options.label}] EMERGENCY STOP — {len(kp.plan)} targets", file=sys.stderr)
    for venue, count in kp.counts_by_venue().items():
        age = kp.stale.get(venue)
        note = f" (data {age:.0f} s old)" if age is not None else ""
        print(f"  {venue:10} {count:5d}{note}", file=sys.stderr)
    for venue, why in kp.unreachable.items():
        print(f"  {venue:10} UNREACHABLE: {why}", file=sys.stderr)
    for line in kp.plan.leaves_behind:
        print(f"  leaves behind — {line}", file=sys.stderr)
    print(f"  PipAI positions: {'closed at market' if close else 'stay open'}", file=sys.stderr)


def _confirm_label(label: str) -> bool:
    print(f"Type the profile label ({label}) to confirm: ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip() == label


def _result_json(result: ItemResult) -> dict[str, Any]:
    o = result.outcome
    return {
        "venue": result.item.venue, "target": result.item.target_id,
        "name": result.item.target_name, "action": result.item.action.kind.value,
        "outcome": o.kind.value, "message": o.message, "warning": o.warning,
        "http_status": o.http_status,
        "verified_state": result.verified_state.value if result.verified_state else None,
        "verified": result.verified,
    }  # fmt: skip


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    print(f"trading-console: {line}", file=sys.stderr)
