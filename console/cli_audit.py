"""``trading-console audit``: what was done, read from the journal."""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from console.core.journal import Entry, iso_ms
from console.core.model import OutcomeKind
from console.core.session import Session

EXIT_OK, EXIT_USAGE = 0, 2


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    audit = sub.add_parser("audit", parents=[common], help="what was done, from the journal")
    audit.add_argument("--since", help="e.g. 30m, 1h, 2d, or an ISO-8601 time")
    audit.add_argument("--venue")
    audit.add_argument("--operator")
    audit.add_argument("--outcome", choices=[k.value for k in OutcomeKind])
    audit.add_argument("--interrupted", action="store_true", help="only calls cut short")
    audit.add_argument("--all-profiles", action="store_true")
    audit.add_argument("--json", action="store_true", help="JSON lines")


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


def audit(session: Session, args: argparse.Namespace) -> int:
    journal = session.journal
    try:
        since = parse_since(args.since, int(time.time() * 1000))
    except ValueError:
        _err(f"--since {args.since!r}: use 30m, 1h, 2d or an ISO-8601 time")
        return EXIT_USAGE
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
        print("trading-console: no journal entries match", file=sys.stderr)
    return EXIT_OK


def format_entry(e: Entry) -> str:
    result = e.outcome or ("→ " + (e.state or "?") if e.kind == "verify" else "INTENT")
    meta = []
    if e.http_status is not None:
        meta.append(f"HTTP {e.http_status}")
    if e.latency_ms is not None:
        meta.append(f"{e.latency_ms:.0f} ms")
    reason = f" reason={e.reason!r}" if e.reason and e.kind == "intent" else ""
    text = f" {e.message}" if e.message else ""
    extra = f" ({', '.join(meta)})" if meta else ""
    return (f"{iso_ms(e.ts_ms)} {e.operator}@{e.host} [{e.profile}] {e.venue} {e.target_name}"
            f" ({e.target_id}) {e.action} {e.kind}: {result}{extra}{text}{reason}")  # fmt: skip


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    print(f"trading-console: {line}", file=sys.stderr)
