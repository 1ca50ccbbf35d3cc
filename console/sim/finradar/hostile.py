"""FinRadar's list-paging hostile knobs: a list that contradicts itself or moves while read.

Each reproduces an answer a hostile venue gave the kill (issue 11, docs/venues/
finradar.md "Hostile answers"); the others (``endless_pages``, ``echo_secret``,
``bad_row``, ``dot_ids``, ``escape_names``) live in :mod:`console.sim.finradar.api`, the
generic ones in :mod:`console.sim.kit.faults`.

* ``empty_total``: every list answer holds no rows, while ``meta.total`` still counts the
  targets that match (``{"targets": [], "meta": {"total": 12, ...}}``).
* ``duplicate_id``: the newest ACTIVE target's row is followed by its twin — the same
  ``target_id``, always ACTIVE (a stop by id reaches the target the world knows, never
  the twin).
* ``page_cap``: > 0, a page holds at most this many rows whatever ``limit`` asks (the
  venue's own page size); ``meta.total`` stays right.
* ``vanish_mid_read``: any page past offset 0 is cut from a list without its newest
  target (and ``meta.total`` one less), as if it vanished between two page reads: offset
  paging then skips the target at the first page's boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.sim.finradar.world import ACTIVE, Account, FinRadarWorld, Sniper
from console.sim.kit.knobs import Knobs


@dataclass
class ListQuirks:
    """What the list knobs do to one list answer; holds the twin once it is made."""

    world: FinRadarWorld
    twins: dict[str, Sniper] = field(default_factory=dict)

    def twin_of(self, account: Account, now: float) -> Sniper | None:
        """The twin the ``duplicate_id`` knob lists (made once, from no random draw)."""
        if not self.twins:
            newest = next((s for s in account.newest_first() if s.status == ACTIVE), None)
            if newest is None:
                return None
            twin = self.world.detached(newest.target_id, newest.ticker, now, seq=-100)
            self.twins[newest.target_id] = twin
        return next(iter(self.twins.values()))

    def listed(
        self, knobs: Knobs, listed: list[Sniper], account: Account, now: float
    ) -> list[Sniper]:
        """``listed`` (newest first) with the twin after its original under ``duplicate_id``."""
        twin = self.twin_of(account, now) if knobs.duplicate_id else None
        if twin is None:
            return listed
        out: list[Sniper] = []
        for sniper in listed:
            out.append(sniper)
            if sniper.target_id == twin.target_id and sniper is not twin:
                out.append(twin)
        return out


def page_of(
    knobs: Knobs, matches: list[Sniper], offset: int, limit: int
) -> tuple[list[Sniper], int]:
    """The rows of one page and ``meta.total``, as the paging knobs make them."""
    if knobs.vanish_mid_read and offset > 0:
        matches = matches[1:]
    if knobs.page_cap > 0:
        limit = min(limit, knobs.page_cap)
    rows = matches[offset : offset + limit]
    return ([] if knobs.empty_total else rows), len(matches)
