"""The hub's slower verbs: re-verify, verify interrupted calls, skip a run, check in.

Unlike a plan (answered with its batch id at once, its results streamed), these are
answered when they are done, with what they found in ``CommandReply.data``. Each acts
through the session's control port or the profile's automation, as the console's keys
do, for the operator whose subject carried the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from console.automation.deadman import CheckIns, checkin_path
from console.automation.runner import AutomationRunner
from console.core.operator import Operator
from console.core.session import Session
from console.desk import messages
from console.desk.takeover import summary

Activity = Callable[[Operator, str], None]


async def answer(
    session: Session,
    op: Operator,
    request: messages.Request,
    *,
    runner: AutomationRunner | None,
    checkins: CheckIns | None,
    activity: Activity,
) -> messages.CommandReply:
    """Do ``request`` for ``op`` and say what came of it (or why it was refused)."""
    control = session.control
    if isinstance(request, messages.ReverifyRequest):
        recheck = await control.reverify(
            request.venue, [r.result() for r in request.doubtful], request.batch_ids,
            at=request.at,
        )  # fmt: skip
        results = [messages.ResultMsg.of(r).model_dump(mode="json") for r in recheck.results]
        data = {"venue": recheck.venue, "at": recheck.at, "problem": recheck.problem,
                "results": results}  # fmt: skip
        return messages.CommandReply(data={"recheck": data})
    if isinstance(request, messages.VerifyInterruptedRequest):
        entries = session.journal.interrupted()
        if request.seqs:
            entries = [e for e in entries if e.seq in set(request.seqs)]
        verified = await control.verify_interrupted(entries)
        activity(op, summary(verified))  # as asked / not / unreadable: never more
        return messages.CommandReply(data={"verified": [
            {"entry": messages.JournalRowMsg.of(v.entry).model_dump(mode="json"),
             "state": v.state.value, "as_asked": v.as_asked, "note": v.note,
             "journaled": v.journaled} for v in verified]})  # fmt: skip
    if isinstance(request, messages.SkipRequest):
        if runner is None:
            return messages.CommandReply(refused="this desk runs no automation")
        skip = runner.skip_next(request.schedule, str(op), request.why)
        if skip is None:
            return messages.CommandReply(refused=f"schedule {request.schedule!r} has no next run")
        activity(op, f"skipped the next run of {request.schedule}")
        return messages.CommandReply(data={"at": skip.at})
    if isinstance(request, messages.CheckinRequest):
        if checkins is None:
            return messages.CommandReply(refused="this desk keeps no dead-man check-ins")
        at = time.time()
        checkins.record(at, str(op), "desk")
        return messages.CommandReply(data={"at": at})
    return messages.CommandReply(refused="unknown command")


def checkins_for(journal_path: Path | str, profile: str) -> CheckIns:
    """The profile's dead-man check-ins, where ``heartbeat`` and the console record them."""
    return CheckIns(checkin_path(journal_path, profile))
