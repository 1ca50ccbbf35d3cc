"""What a kill reaches: everything, one venue, or the selection; and its frozen plan.

The modal offers the scopes the operator can mean from where they stand (the whole
profile, the venue of the panel on screen, the rows they selected) and freezes a plan
for the chosen one. Planning reads the store only — never the network — so the modal
opens at once even with a venue down: a venue that never answered is *unreachable*
(named in the modal and the report, never silently skipped) and one whose data is old is
planned from what was last seen, with its age shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from console.core.kill import KillPlan, KillScope, build_kill_plan
from console.core.ports import VenueClient
from console.core.session import Session
from console.core.store import Store
from console.venues.registry import API_LABELS


@dataclass(frozen=True)
class ScopeChoice:
    """One radio button of the modal: what it says and the scope it stands for."""

    key: str  # "all" | "venue" | "selection"
    label: str
    scope: KillScope


def venue_name(venue: str, clients: Mapping[str, VenueClient]) -> str:
    """``55-tech MM``, or ``x3algo (x3-desk2)`` when the profile renamed the venue."""
    client = clients.get(venue)
    api = client.settings.api if client is not None else venue
    label = API_LABELS.get(api, api)
    return label if venue in (api, label) else f"{label} ({venue})"


def scope_choices(
    clients: Mapping[str, VenueClient],
    panel_venue: str | None,
    selected: Iterable[tuple[str, str]],
) -> list[ScopeChoice]:
    """Everything first (the default), then the panel's venue, then the selection."""
    choices = [ScopeChoice("all", "Everything in this profile", KillScope())]
    if panel_venue is not None and panel_venue in clients and len(clients) > 1:
        name = venue_name(panel_venue, clients)
        choices.append(ScopeChoice("venue", f"Only {name}", KillScope(venue=panel_venue)))
    keys = frozenset(selected)
    if keys:
        choices.append(
            ScopeChoice("selection", f"Only the {len(keys)} selected rows", KillScope(keys=keys))
        )
    return choices


def panel_scope(main: object) -> tuple[str | None, set[tuple[str, str]]]:
    """The venue of the panel on screen (its cursor row's first) and its selected rows.

    ``main`` is the main screen; anything without an ``active_panel`` means "no panel".
    """
    panel = getattr(main, "active_panel", None)
    if panel is None:
        return None, set()
    cursor = panel.cursor_target()
    venues: list[str] = list(panel.venues)
    venue = cursor.venue if cursor is not None else (venues[0] if venues else None)
    selected = {t.key for k in panel.selected if (t := panel.targets.get(k)) is not None}
    return venue, selected


def unreachable(store: Store, venues: Sequence[str]) -> dict[str, str]:
    """Venues that never delivered any data this session, with the feed's last words."""
    missing: dict[str, str] = {}
    for venue in venues:
        if store.age(venue) is None:
            health = store.venue_health(venue)
            why = health.detail or f"no data yet (feed {health.status.value})"
            missing[venue] = why
    return missing


def incomplete(store: Store, venues: Sequence[str]) -> dict[str, str]:
    """Venues whose feed could read only part of their list last time, with its words
    (the part read is in the store and is halted; the rest is named, not claimed)."""
    partial: dict[str, str] = {}
    for venue in venues:
        health = store.venue_health(venue)
        if store.age(venue) is not None and health.detail.startswith("INCOMPLETE"):
            partial[venue] = health.detail
    return partial


def freeze(session: Session, scope: KillScope, *, close_positions: bool) -> KillPlan:
    """The kill plan for ``scope`` from what the store holds now."""
    return build_kill_plan(
        session.store,
        session.clients,
        scope=scope,
        close_positions=close_positions,
        unreachable=unreachable(session.store, session.venues),
        incomplete=incomplete(session.store, session.venues),
    )
