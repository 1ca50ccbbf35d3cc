"""``trading-console automate``: the runner without a terminal, for a server.

systemd-friendly: logs go to stderr (one line each, no colour), SIGTERM and SIGINT end
it cleanly (the tick in progress finishes, the runner lock is released, the session's
feeds and clients are closed), and the exit status says how it ended. The console runs
the same :class:`~console.automation.runner.AutomationRunner` while it is open.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from console.automation.runner import AutomationRunner
from console.core.session import Session

log = logging.getLogger("console.automation")


def log_to_stderr(level: int = logging.INFO) -> None:
    """One plain line per record on stderr (journald adds the time)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (call inside the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run_headless(
    session: Session, runner: AutomationRunner, stop: asyncio.Event, *, interval_s: float = 1.0
) -> int:
    """Read every venue once (for ``FIRST_READS_S`` at most: a venue whose list hangs
    held the schedules, guards and dead-man timer for its whole read), start the feeds,
    tick until ``stop``; 0 on a clean stop."""
    await session.first_reads()
    session.start_feeds()
    if not runner.claim():
        log.warning("another runner acts for profile %s (%s): standing by",
                    runner.profile, runner.holder)  # fmt: skip
    for name in runner.schedules.states:
        at = runner.status()["schedules"]
        log.info("schedule %s: next run %s", name,
                 next((s["next_run"] for s in at if s["name"] == name), None))  # fmt: skip
    try:
        await runner.run_forever(stop, interval_s)
    finally:
        await session.stop_feeds()
    log.info("automation of %s stopped", runner.profile)
    return 0
