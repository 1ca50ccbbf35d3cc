"""JSON from a venue, read so that an object naming one key twice is a malformed answer.

Python's reader (and pydantic's) keeps a repeated key's last value silently: a venue's
``{"data": [22 strategies], …, "data": []}`` read as no strategies at all (issue 11).
Here every answer is parsed refusing any repeated key (:func:`parse_json`), or, for a
page a fast reader already took apart, screened for one (:func:`screen_duplicate_keys`);
:meth:`console.venues.kit.http.Reply.validated` checks after pydantic's fast parse
(:func:`check_unique_keys`). JSON nested deeper than Python's parser can follow is a
malformed answer too, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from console.core.scrub import printable


class DuplicateKey(ValueError):
    """A JSON object that names one key twice: which value the venue meant is unknowable."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s object hook: the object, or :class:`DuplicateKey` for its first
    repeated key (Python's reader would keep the last value silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:  # (a long key is not quoted: cut, it could carry part of a
                # secret the scrubber no longer recognises whole)
                said = repr(printable(key)) if len(key) <= 30 else f"of {len(key)} characters"
                raise DuplicateKey(f"malformed JSON from venue (key {said} appears twice in "
                                   "one object)")  # fmt: skip
            seen.add(key)
    return obj


_UNIQUE = json.JSONDecoder(object_pairs_hook=_unique_pairs)
"""``json.loads(content, object_pairs_hook=_unique_pairs)``'s decoder, made once: loads
builds a new one on every call (a third of the check's cost for a control answer)."""


def _loads_unique(content: bytes) -> Any:
    """``json.loads(content, object_pairs_hook=_unique_pairs)``, step for step (the text
    encoding detected the same way) on the decoder made once."""
    if isinstance(content, str):
        return json.loads(content, object_pairs_hook=_unique_pairs)
    return _UNIQUE.decode(content.decode(json.detect_encoding(content), "surrogatepass"))


_STRING = re.compile(rb'("[^"]*")\s*:|"[^"]*"')
"""Every string of a JSON text with no backslash, in order; a key (a string a colon
follows) is captured with its quotes, a value is captured as ``b""``."""


def _keys_all_distinct(content: bytes) -> bool:
    """True when no key of ``content`` (valid JSON) is spelled twice anywhere in it, so
    no object can name one twice: exact, without parsing. A text with a backslash may
    spell a key two ways (``\\u0073tatus``) and is left to the parser (False).

    Outside its strings JSON holds no quote, and with no escape a string runs to the
    next quote, so the strings are found one after another as the parser reads them,
    and one a colon follows is a key."""
    if b"\\" in content:
        return False
    keys = [key for key in _STRING.findall(content) if key]
    return len(set(keys)) == len(keys)


def check_unique_keys(content: bytes) -> None:
    """``ValueError`` when an object in ``content`` (valid JSON) names a key twice.

    A text whose keys are all distinct anywhere in it passes on one regular-expression
    pass (:func:`_keys_all_distinct`: a control answer's usual shape, ~1 µs); otherwise
    exact, at ``json.loads``'s pace plus a Python call per object (~0.4 µs): cheap for
    one answer, too dear for every page of a long list (see :func:`screen_duplicate_keys`)."""
    if isinstance(content, bytes) and _keys_all_distinct(content):
        return
    try:
        _loads_unique(content)
    except DuplicateKey:
        raise
    except (ValueError, RecursionError):  # not JSON: whoever parsed it has said so
        return


def screen_duplicate_keys(content: bytes, expected: Mapping[bytes, int]) -> None:
    """``ValueError`` when an object in ``content`` names a key twice — as far as it
    matters to a reader that took ``content`` apart with pydantic's fast reader, which
    keeps a repeated key's last value.

    ``expected`` holds each key the reader relies on, quoted (``b'"status"'``), with how
    many objects it read holding it. Each of those objects spells the key at least once
    and one repeating it spells it twice, so a byte count equal to that number means no
    object repeats it. A ``\\u`` escape can spell a key without its bytes, and a value
    or an object the reader skipped can spell them too: then, or when a count differs,
    the exact check (:func:`check_unique_keys`) decides. Measured on a 100-row page
    (docs/venues/pipai.md and x3algo.md): +0.12–0.14 ms, against +0.35–0.47 ms for the
    exact check on every page."""
    # A body with no backslash at all (one memchr pass: 1 ms on Joyride's 22 MB list
    # against 19 ms for the two-byte search) holds no escape; only one that has a
    # backslash is searched for a backslash-u.
    if (b"\\" not in content or b"\\u" not in content) and all(
        content.count(k) == n for k, n in expected.items()
    ):
        return
    check_unique_keys(content)


def parse_json(content: bytes, **options: Any) -> Any:
    """``content`` parsed as JSON (``options`` go to :func:`json.loads`), or ``ValueError``
    saying in a few words why not: bad syntax (where), not UTF-8, nested deeper than the
    parser follows, a number too long to convert, an object naming a key twice (never
    "the last one wins"). Nothing else comes out of it."""
    try:
        if not options:
            return _loads_unique(content)
        options.setdefault("object_pairs_hook", _unique_pairs)
        return json.loads(content, **options)
    except DuplicateKey:
        raise
    except RecursionError:
        raise ValueError("malformed JSON from venue (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        if content.lstrip()[:1] == b"<":  # a proxy's or a server's error page, not JSON
            raise ValueError("an HTML page from venue, not JSON") from None
        raise ValueError(f"malformed JSON from venue ({exc.msg} at byte {exc.pos})") from None
    except UnicodeDecodeError:
        raise ValueError("malformed JSON from venue (not UTF-8)") from None
    except ValueError as exc:  # an integer too long to convert, and the like
        words = str(exc) if len(str(exc)) <= 120 else str(exc)[:119] + "…"
        raise ValueError(f"malformed JSON from venue ({words})") from None
