"""Which target each 55-tech API key's engine is: one target per key, never per slug.

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
  verifies by the same ids) unless the key starts answering with another slug.

Pure bookkeeping, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping


class KeyIds:
    """Target ids of the engines behind ``count`` API keys, learnt from their answers."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._slug: dict[int, str] = {}  # key index -> the slug it last answered
        self._id: dict[int, str] = {}  # key index -> its target id
        self._id_slug: dict[int, str] = {}  # key index -> the slug its id was made from
        self._index: dict[str, int] = {}  # target id -> key index

    def learn(self, answers: Mapping[int, str]) -> None:
        """The slugs some keys answered with in one read (key index -> slug)."""
        self._slug.update(answers)
        for index in sorted(answers):
            slug = answers[index]
            if self._id_slug.get(index) == slug:
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
        return self._index.get(target_id)

    def row_id(self, index: int) -> str:
        """How a skipped row names a key's engine: its id once known, else its position."""
        return self._id.get(index) or f"key #{index + 1}"

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
