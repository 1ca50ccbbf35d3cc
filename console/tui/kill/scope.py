"""What a kill reaches: everything, one venue, or the selection.

The modal offers the scopes the operator can mean from where they stand (the whole
profile, the venue of the panel on screen, the rows they selected); the control port
freezes a plan for the chosen one (``core.kill.plan_from_store`` for the local
session). Planning reads the store only — never the network — so the modal
opens at once even with a venue down: a venue that never answered is *unreachable*
(named in the modal and the report, never silently skipped) and one whose data is old is
planned from what was last seen, with its age shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.core.kill import KillScope
from console.core.ports import VenueView
from console.venues.registry import API_LABELS


@dataclass(frozen=True)
class ScopeChoice:
    """One radio button of the modal: what it says and the scope it stands for."""

    key: str  # "all" | "venue" | "selection"
    label: str
    scope: KillScope


def venue_name(venue: str, clients: Mapping[str, VenueView]) -> str:
    """``55-tech MM``, or ``x3algo (x3-desk2)`` when the profile renamed the venue."""
    client = clients.get(venue)
    api = client.api if client is not None else venue
    label = API_LABELS.get(api, api)
    return label if venue in (api, label) else f"{label} ({venue})"


def scope_choices(
    clients: Mapping[str, VenueView],
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
