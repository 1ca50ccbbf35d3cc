"""55-tech engines as targets: which target each API key's engine is, its row, its actions.

One target per key, never per slug (:class:`KeyIds`); :func:`to_target` makes the row
(docs/ATTRIBUTES.md), :func:`action_specs` the actions its manual flags allow.

The venue names an engine by the ``client`` slug its status answer carries, and nothing
stops two keys from answering with the same slug (one client holding several keys, a
vendor bug, a copied config). Merging them by slug sends one stop where several engines
run and verifies the one it reached, so every key is its own target:

* a key whose slug no other key of the profile answers goes by the slug itself (what
  the operator knows the client by, and every existing journal row);
* a key that shares its slug with another goes by ``<slug>@key<N>``, ``N`` being its
  1-based position in ``api_keys`` (never the key, nor anything derived from it); when
  several keys first answer with one slug in the same read, each of them does;
* once given, a key's id stays for the life of the client (a kill plans, calls and
  verifies by the same ids) unless the key starts answering with another slug;
* a key whose engine is listed before it ever answered (its status reads fail, its
  stop may still land: :meth:`KeyIds.unread`) goes by ``key #N``, for the life of the
  client, answering or not: a kill planned with that id calls and verifies it by that
  id, and the panel's row of it is the same row once it answers.

Pure bookkeeping, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from console.core.model import ActionKind, ActionSpec, AttrValue, State, Target, TargetKind
from console.venues.fiftyfive.wire import TradingStatus, state_of, status_words


class KeyIds:
    """Target ids of the engines behind ``count`` API keys, learnt from their answers."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._slug: dict[int, str] = {}  # key index -> the slug it last answered
        self._id: dict[int, str] = {}  # key index -> its target id
        self._id_slug: dict[int, str] = {}  # key index -> the slug its id was made from
        self._index: dict[str, int] = {}  # target id -> key index
        self._unread: set[int] = set()  # keys named by position for good (see unread)

    def learn(self, answers: Mapping[int, str]) -> None:
        """The slugs some keys answered with in one read (key index -> slug)."""
        self._slug.update(answers)
        for index in sorted(answers):
            slug = answers[index]
            if self._id_slug.get(index) == slug or index in self._unread:
                continue
            old = self._id.pop(index, None)
            if old is not None:
                self._index.pop(old, None)
            shared = any(s == slug for i, s in self._slug.items() if i != index)
            target_id = slug if not shared and slug not in self._index else f"{slug}@key{index + 1}"
            while target_id in self._index:  # a slug that itself reads "x@key2": absurd
                target_id += "+"
            self._id[index] = target_id
            self._id_slug[index] = slug
            self._index[target_id] = index

    def id_of(self, index: int) -> str | None:
        return self._id.get(index)

    def slug_of(self, index: int) -> str | None:
        return self._slug.get(index)

    def index_of(self, target_id: str) -> int | None:
        """The key of ``target_id``; an engine named by its position (:meth:`unread`) is
        found by the slug its key has answered with too, when no other key answers so."""
        found = self._index.get(target_id)
        if found is None and self._unread:
            keys = self.sharing(target_id)
            if len(keys) == 1 and keys[0] in self._unread:
                return keys[0]
        return found

    def row_id(self, index: int) -> str:
        """How a skipped row names a key's engine: its id once known, else its position."""
        return self._id.get(index) or _by_position(index)

    def positional(self, index: int) -> bool:
        """Whether the key's engine goes by its position (:meth:`unread`)."""
        return index in self._unread

    def unread(self, index: int) -> str:
        """The id of the engine of a key that has not answered yet, listed all the same:
        ``key #N``, kept for good (a slug it answers with later does not rename it)."""
        if index not in self._id:
            target_id = _by_position(index)
            while target_id in self._index:  # a slug that itself reads "key #2": absurd
                target_id += "+"
            self._id[index] = target_id
            self._index[target_id] = index
            self._unread.add(index)
        return self._id[index]

    def sharing(self, slug: str) -> list[int]:
        """The keys (indexes) known to answer with ``slug``."""
        return sorted(i for i, s in self._slug.items() if s == slug)

    def duplicates(self) -> dict[str, list[int]]:
        """Slugs answered by more than one key, with those keys' indexes."""
        groups: dict[str, list[int]] = {}
        for index, slug in sorted(self._slug.items()):
            groups.setdefault(slug, []).append(index)
        return {slug: keys for slug, keys in groups.items() if len(keys) > 1}

    def warning(self, slug: str) -> str | None:
        """The words naming a shared slug, or None when one key answers with it."""
        keys = self.sharing(slug)
        if len(keys) < 2:
            return None
        numbers = ", ".join(f"#{i + 1}" for i in keys)
        return (
            f"{len(keys)} keys answer as client '{slug}' (api_keys {numbers}): each "
            "engine is addressed and verified on its own"
        )


STATE_NOW: dict[str, AttrValue] = dict.fromkeys(
    ("status_words", "trading_active", "manual_paused", "manual_stopped", "system_blocked",
     "emergency", "system_stopped", "soft_paused")
)  # fmt: skip
"""The attributes of an engine that say what it does now: all unknown (None) while its
key's status read fails, whatever an earlier read said."""


def _by_position(index: int) -> str:
    return f"key #{index + 1}"


def to_target(
    venue: str,
    status: TradingStatus,
    index: int,
    target_id: str,
    *,
    orders_seen: int,
    warning: str | None,
) -> Target:
    """Key ``index``'s engine as the console sees it (``warning``: already scrubbed)."""
    duration = status.system_duration_seconds
    attrs: dict[str, AttrValue] = {
        "client": status.client,
        "key_no": index + 1,
        "status_words": status_words(status.status),
        "trading_active": status.trading_active,
        "manual_paused": status.manual_paused,
        "manual_stopped": status.manual_stopped,
        "pause_reason": status.manual_pause_reason,
        "paused_at": status.manual_paused_at,
        "stop_reason": status.manual_stop_reason,
        "stopped_at": status.manual_stopped_at,
        "system_blocked": status.system_trading_blocked,
        "emergency": status.emergency_active,
        "system_stopped": status.system_stopped,
        "soft_paused": status.soft_paused,
        "system_reason": status.system_reason,
        "system_duration_s": (
            int(duration) if duration is not None and math.isfinite(duration) else None
        ),
        "orders_seen": orders_seen,
    }
    if status.odds_format is not None:
        attrs["odds_format"] = status.odds_format
    if warning is not None:
        attrs["warning"] = warning
    return Target(
        venue=venue,
        kind=TargetKind.ENGINE,
        id=target_id,
        name=status.client_name,
        state=state_of(status.status),
        raw_status=status.status,
        attrs=attrs,
    )


def unread_target(venue: str, index: int, target_id: str, keys: int, why: str) -> Target:
    """The engine of key ``index`` before it ever answered (``why``: its read's failure,
    scrubbed): UNKNOWN, its manual flags unknown, named by its key's position."""
    said = (f"its status has not been read since the console started ({why[:200]}); a "
            "stop is sent by its key all the same")  # fmt: skip
    attrs: dict[str, AttrValue] = {"key_no": index + 1, **STATE_NOW, "warning": said}
    return Target(
        venue=venue,
        kind=TargetKind.ENGINE,
        id=target_id,
        name=f"engine of API key #{index + 1} of {keys} (status unread)",
        state=State.UNKNOWN,
        raw_status="unread",
        attrs=attrs,
    )


def control_state(target: Target) -> State:
    """The engine's state as its manual flags have it — what pause, resume, stop and
    start set and lift — without the global blocks its status word folds in.

    Under a global emergency, system stop or soft pause the status word reads stopped or
    paused whatever the manual flags say, and the vendor lifts that block on its own: a
    stop whose manual flag never came up is not done, one whose flag is up is. A row
    without its flags (never made by :func:`to_target`) falls back to the word."""
    paused, stopped = target.attrs.get("manual_paused"), target.attrs.get("manual_stopped")
    if not isinstance(paused, bool) or not isinstance(stopped, bool):
        return target.state
    if stopped:
        return State.STOPPED
    return State.PAUSED if paused else State.RUNNING


def action_specs(attrs: Mapping[str, AttrValue]) -> list[ActionSpec]:
    """The manual flags decide: pause or resume, stop or start, each with a reason."""
    paused = attrs.get("manual_paused") is True
    stopped = attrs.get("manual_stopped") is True
    still = global_block_note(attrs)
    specs: list[ActionSpec] = []
    if not paused:
        specs.append(
            ActionSpec(
                ActionKind.PAUSE,
                "Pause engine",
                "Orders and bets already on the exchanges stay there (55-tech does not "
                "say a pause cancels them); the engine stays paused until resumed.",
                accepts_reason=True,
            )
        )
    else:
        behind = "Trading restarts for this client."
        if stopped:
            behind = "Lifts the pause only: the engine stays stopped until started."
        specs.append(
            ActionSpec(ActionKind.RESUME, "Resume engine", behind + still, accepts_reason=True)
        )
    if not stopped:
        specs.append(
            ActionSpec(
                ActionKind.STOP,
                "Stop engine",
                "Orders and bets already on the exchanges stay there (55-tech does not "
                "say a stop cancels them); the engine stays stopped until started — "
                "resume cannot lift a stop.",
                accepts_reason=True,
            )
        )
    else:
        behind = "Trading restarts for this client."
        if paused:
            behind = "Lifts the stop only: the engine stays paused until resumed."
        specs.append(
            ActionSpec(ActionKind.START, "Start engine", behind + still, accepts_reason=True)
        )
    return specs


def global_block_note(attrs: Mapping[str, AttrValue]) -> str:
    if attrs.get("system_blocked") is True:
        return f" A global {attrs.get('status_words', 'block')} still blocks all clients."
    return ""
