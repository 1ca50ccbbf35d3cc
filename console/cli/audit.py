"""``trading-console audit``: what was done, read from the journal.

``audit --verify`` recomputes the journal's hash chain: ``journal chain OK: N rows,
head <hash16>`` and exit 0, or the first broken row named and exit 8 (also when the
journal cannot be read at all). ``audit --interrupted --verify`` re-reads the target of
every call cut short through the profile's venues, journals what it is now (which
closes the intent) and prints each result: exit 0 when every one is as asked, 5 when
one is not, or could not be re-read (its intent stays open).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from typing import Any

from console.core.journal_rows import Entry, iso_ms
from console.core.model import OutcomeKind, State
from console.core.recovery import Verified, verify_interrupted
from console.core.scrub import printable
from console.core.session import Session

EXIT_OK, EXIT_USAGE, EXIT_UNCERTAIN = 0, 2, 5
EXIT_JOURNAL = 8
"""The journal's chain is broken, or the journal cannot be read."""

REREAD_TIMEOUT_S = 60.0
"""``--interrupted --verify``: how long each venue's re-read may take."""
PROGRESS_S = 1.0
"""``--verify``: at most one progress line a second on stderr while the chain is checked."""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    audit = sub.add_parser(
        "audit", parents=[common], help="what was done, from the journal",
        description="List the journal's entries (who did what to which target, with what "
        "outcome), check its hash chain, or re-read calls cut short.",
    )  # fmt: skip
    audit.add_argument("--since", help="e.g. 30m, 1h, 2d, or an ISO-8601 time")
    audit.add_argument("--venue", help="only this venue's entries")
    audit.add_argument("--operator", help="only entries by this operator (user name)")
    audit.add_argument("--outcome", choices=[k.value for k in OutcomeKind],
                       help="only outcomes of this kind")  # fmt: skip
    audit.add_argument("--interrupted", action="store_true",
                       help="only calls cut short (an intent with no outcome)")  # fmt: skip
    audit.add_argument("--all-profiles", action="store_true",
                       help="entries of every profile sharing this journal, not only this one")  # fmt: skip
    audit.add_argument("--json", action="store_true", help="JSON lines")
    audit.add_argument(
        "--verify",
        action="store_true",
        help="check the journal's hash chain (exit 8 on a break); with --interrupted:"
        " re-read each call cut short and journal what its target is now",
    )


_SINCE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")


def parse_since(value: str | None, now_ms: int) -> int | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return now_ms - int(amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit] * 1000)
    from datetime import datetime

    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def audit(session: Session, args: argparse.Namespace, *, where: str | None = None) -> int:
    """Run ``audit``. ``--interrupted --verify`` needs a session with the profile's venue
    clients (and closes it); every other form reads the journal alone. ``where`` names
    the journal in messages (default: its file; a desk's: its stream)."""
    journal = session.journal
    where = where or str(journal.path)
    verify = getattr(args, "verify", False)
    if verify and args.interrupted:
        return asyncio.run(verify_open(session, as_json=args.json))
    if verify:
        return verify_chain(session, as_json=args.json, where=where)
    try:
        since = parse_since(args.since, int(time.time() * 1000))
    except ValueError:
        _err(f"--since {args.since!r}: use 30m, 1h, 2d or an ISO-8601 time")
        return EXIT_USAGE
    if journal.failed is not None:
        _err(f"the journal cannot be read ({journal.failed}): {where}")
        return EXIT_JOURNAL
    if args.interrupted:
        entries = journal.interrupted()
    else:
        entries = journal.entries(since_ms=since, venue=args.venue, operator=args.operator,
                                  outcome=args.outcome, all_profiles=args.all_profiles)  # fmt: skip
    if args.json:
        journal.export_jsonl(sys.stdout, entries)
        return EXIT_OK
    for entry in entries:
        _out(format_entry(entry))
    if not entries:
        filtered = args.interrupted or any(
            getattr(args, name, None) for name in ("since", "venue", "operator", "outcome")
        )
        whose = "" if args.all_profiles else " for this profile"
        said = ("no journal entries match" if filtered
                else f"the journal holds no entries{whose} yet ({where})")  # fmt: skip
        print(f"trading-console: {said}", file=sys.stderr)
    return EXIT_OK


def verify_chain(session: Session, *, as_json: bool = False, where: str | None = None) -> int:
    """``audit --verify``: recompute the chain; exit 0 when sound, 8 on a break."""
    journal = session.journal
    where = where or str(journal.path)
    label = session.options.label
    shown = [time.monotonic()]

    def progress(seq: int, last: int) -> None:  # a long check is never silent
        if time.monotonic() - shown[0] >= PROGRESS_S:
            shown[0] = time.monotonic()
            print(printable(f"[{label}] checking the journal's hash chain: row {seq:,} of "
                            f"{last:,}"), file=sys.stderr, flush=True)  # fmt: skip

    check = journal.verify_chain(progress)
    if as_json:
        _out(json.dumps({**check.as_json(), "journal": where}, sort_keys=True))
    else:
        _out(printable(check.summary()))
        if not check.ok:
            _err(f"journal {where}: the rows after seq {check.broken_seq} cannot be"
                 " trusted; compare with a receipt (a kill report's chain head)"
                 if check.broken_seq is not None else f"journal {where}")  # fmt: skip
    return EXIT_OK if check.ok else EXIT_JOURNAL


async def verify_open(session: Session, *, as_json: bool = False) -> int:
    """``audit --interrupted --verify``: re-read every open intent's target, journal it."""
    journal = session.journal
    try:
        entries = journal.interrupted()
        if not entries:
            if journal.failed is not None:
                _err(f"the journal cannot be read ({journal.failed}): {journal.path}")
                return EXIT_JOURNAL
            _err("no interrupted calls: nothing to verify")
            return EXIT_OK
        if not session.clients:
            _err("no venue of this profile could be set up: nothing can be re-read")
        results = await verify_interrupted(journal, session.clients, entries,
                                           timeout_s=REREAD_TIMEOUT_S)  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            await session.aclose()
    code = print_verified(results, as_json=as_json)
    if journal.failed is not None:
        where = journal.fallback_path or "stderr"
        _err(f"JOURNAL FAILED ({journal.failed}): the verifications are recorded in {where}")
    return code


def print_verified(results: list[Verified], *, as_json: bool) -> int:
    """Each re-read call cut short, and the tally; exit 0 when every one is as asked."""
    results.sort(key=lambda v: v.entry.seq)
    for result in results:
        _out(json.dumps(verified_json(result), sort_keys=True) if as_json
             else format_verified(result))  # fmt: skip
    good = sum(1 for r in results if r.as_asked)
    open_ = sum(1 for r in results if not r.journaled)
    untold = sum(1 for r in results if r.journaled and not r.as_asked and r.state is State.UNKNOWN)
    _err(f"verified {len(results)} interrupted calls: {good} as asked,"
         f" {len(results) - good - open_ - untold} not as asked,"
         f" {untold} cannot be told from the re-read (check them at the venue),"
         f" {open_} could not be re-read (still open)")  # fmt: skip
    return EXIT_OK if good == len(results) else EXIT_UNCERTAIN


def verified_json(v: Verified) -> dict[str, Any]:
    e = v.entry
    return {
        "op_id": e.op_id,
        "venue": e.venue,
        "target_id": e.target_id,
        "target_name": e.target_name,
        "action": e.action,
        "interrupted_at": iso_ms(e.ts_ms),
        "state": v.state.value,
        "as_asked": v.as_asked,
        "journaled": v.journaled,
        "note": v.note,
    }


def format_verified(v: Verified) -> str:
    e = v.entry
    if not v.journaled:
        verdict = "NOT VERIFIED (still open)"
    elif v.state is State.UNKNOWN:  # read, but the answer does not say (Joyride's pause)
        verdict = "cannot tell from the re-read, check it at the venue"
    else:
        verdict = "as asked" if v.as_asked else "NOT as asked"
    return printable(f"{iso_ms(e.ts_ms)} {e.venue} {e.target_name} ({e.target_id}) {e.action}:"
                     f" {v.state.value.upper()} — {verdict}: {v.note}")  # fmt: skip


def format_entry(e: Entry) -> str:
    if e.outcome:
        result = e.outcome
    elif e.kind == "verify":
        result = "→ " + (e.state or "?")
    else:  # an intent, a note (a decision that sent nothing), or a kind unknown to us
        result = (e.kind or "?").upper()
    meta = []
    if e.http_status is not None:
        meta.append(f"HTTP {e.http_status}")
    if e.latency_ms is not None:
        meta.append(f"{e.latency_ms:.0f} ms")
    reason = (
        f" reason={e.reason!r}" if e.reason and e.kind != "outcome" and e.kind != "verify" else ""
    )
    text = f" {e.message}" if e.message else ""
    extra = f" ({', '.join(meta)})" if meta else ""
    return printable(f"{iso_ms(e.ts_ms)} {e.operator}@{e.host} [{e.profile}] {e.venue}"
                     f" {e.target_name} ({e.target_id}) {e.action} {e.kind}: {result}{extra}"
                     f"{text}{reason}")  # fmt: skip


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    print(f"trading-console: {printable(line)}", file=sys.stderr)
