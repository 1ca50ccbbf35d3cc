"""One scrubber for every venue: no credential ever leaves in text we write.

Venues echo what they were sent. An error detail quoting the ``X-API-Key`` header, a
token in a URL, a signature in a log line: any of it would reach the outcome, the
journal, the feed's health text and the screen. Every piece of venue text passes
through :meth:`Scrubber.scrub` before it is kept, and the journal scrubs again on the
way in (the last line of defence).

Two nets, both needed:

* **the values themselves** — every secret this process holds (and the derived forms a
  venue may echo: URL-encoded, base64 of ``user:password`` for Basic auth), replaced by
  ``***`` wherever they appear, whatever the venue wrapped them in;
* **the places secrets live** — ``X-API-Key: …``, ``Authorization: Bearer …``,
  ``token=…``, ``"signature": "…"``, ``Cookie: …`` and their kin — whose values are
  masked even when they are not ours (a refresh token the venue just minted, a
  signature computed from our secret).

Also here: :func:`printable`, which strips terminal control sequences from venue text
before a terminal shows it (a target named ``\\x1b]0;pwned\\x07`` must not retitle the
operator's terminal, nor clear the screen in the middle of a kill report).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import threading
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import replace

from console.core.model import Outcome

MASK = "***"

# Shortest credential value we mask by value: shorter ones ("1", "ab") would shred
# ordinary text, and are caught by the key-based patterns where they matter.
_MIN_SECRET_LEN = 6

_KEY_NAMES = (
    r"x[-_]?api[-_]?key|api[-_]?key|api[-_]?secret|apikey|access[-_]?token|refresh[-_]?token"
    r"|id[-_]?token|auth[-_]?token|admin[-_]?token|token|secret|password|passwd|pwd"
    r"|signature|x[-_]?signature|x[-_]?pipai[-_]?signature|sig|session[-_]?id|client[-_]?secret"
)
# "key": "value" / 'key': 'value' (JSON and Python reprs)
_QUOTED = re.compile(
    rf"""(?P<pre>["']?(?:{_KEY_NAMES})["']?\s*[:=]\s*)(?P<q>["'])(?P<val>[^"']*)(?P=q)""",
    re.IGNORECASE,
)
# key=value, key: value (headers, query strings, log lines) up to a delimiter
_BARE = re.compile(
    rf"""(?P<pre>\b(?:{_KEY_NAMES})\b\s*[:=]\s*)(?P<val>(?!\*\*\*)[^\s"',;&)}}\]]+)""",
    re.IGNORECASE,
)
_AUTH = re.compile(r"(?P<pre>\b(?:bearer|basic|token)\s+)(?P<val>[A-Za-z0-9._~+/=-]{6,})", re.I)
_COOKIE = re.compile(r"(?P<pre>\b(?:set-)?cookie\s*[:=]\s*)(?P<val>[^\r\n]+)", re.IGNORECASE)


def _mask(match: re.Match[str]) -> str:
    quote = match.groupdict().get("q") or ""
    return f"{match.group('pre')}{quote}{MASK}{quote}"


_Trie = dict[str, "_Trie"]
_TRIE_MAX_LEN = 256  # longer values (a token) keep the alternation: building and
# compiling the trie's pattern recurses once per character and per nested group


def alternation_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """Every value, longest first (a secret containing another is masked whole)."""
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered))


def trie_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """A pattern that matches exactly what :func:`alternation_pattern` matches — at each
    position the longest value found there — as a trie: one branch per next character
    instead of one try per value (``re`` tries an alternation value by value at each
    character: a 55-tech profile's 136 keys, 272 forms, cost ~20 µs a text; this, a few)."""
    root: _Trie = {}
    for value in values:
        node = root
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}  # a value ends here

    def build(node: _Trie) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body  # greedy: the longer value first

    return re.compile(build(root))


@functools.lru_cache(maxsize=64)
def values_pattern(values: frozenset[str]) -> re.Pattern[str]:
    """The trie when it can be built, else the alternation (the same matches). Kept for
    the same values: every client of a venue, each session's scrubber and the tests'
    thousands of clients mask the same few secrets, and a trie of a 55-tech profile's
    272 forms takes ~2 ms to build."""
    if max(map(len, values)) <= _TRIE_MAX_LEN:
        with contextlib.suppress(RecursionError, re.error):
            return trie_pattern(values)
    return alternation_pattern(values)


class Scrubber:
    """Masks known secret values and anything in a credential-shaped place."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._listed: tuple[str, ...] = ()  # the same, for readers in any thread
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Learn more values to mask (a token minted at login, a session cookie)."""
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LEN:
                continue
            forms.add(secret)
            quoted = urllib.parse.quote(secret, safe="")
            forms.add(quoted)
            forms.add(urllib.parse.quote_plus(secret))
            forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
        with self._lock:
            before = len(self._values)
            self._values |= {f for f in forms if len(f) >= _MIN_SECRET_LEN}
            if len(self._values) != before:
                self._pattern = values_pattern(frozenset(self._values))
                self._listed = tuple(self._values)

    def add_basic(self, user: str, password: str) -> None:
        """Mask the Basic-auth form of a user and password (``base64(user:password)``)."""
        self.add(password, base64.b64encode(f"{user}:{password}".encode()).decode())

    def scrub(self, text: str) -> str:
        """``text`` with every known secret and credential-shaped value masked."""
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return scrub_shapes(text)

    def holds_a_secret(self, text: str) -> bool:
        """Whether a known secret value (any of its forms) is in ``text``: one substring
        search a value, ~4 ms for the 1.5 MB of 50,000 target names joined (a regular
        expression over the same text: ~13 ms)."""
        return any(value in text for value in self._listed)

    def __call__(self, text: str) -> str:
        return self.scrub(text)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._values)} values)"


def scrub_outcome(outcome: Outcome, scrub: Callable[[str], str]) -> Outcome:
    """``outcome`` with its message, warning and vendor code through ``scrub`` (the same
    object back when nothing changed: a kill's thousands of clean answers cost nothing)."""
    message = scrub(outcome.message)
    warning = scrub(outcome.warning) if outcome.warning else outcome.warning
    code = scrub(outcome.vendor_code) if outcome.vendor_code else outcome.vendor_code
    if (message, warning, code) == (outcome.message, outcome.warning, outcome.vendor_code):
        return outcome
    return replace(outcome, message=message, warning=warning, vendor_code=code)


# Every shape holds one of these words, in any case: each key name of _QUOTED and _BARE
# contains one of the first seven, _AUTH needs bearer, basic or token, _COOKIE cookie.
_STEMS = ("key", "secret", "token", "pass", "pwd", "sig", "session", "bearer", "basic", "cookie")
# The four non-ASCII letters re.IGNORECASE matches to ASCII ones (the re module's docs:
# "İ", "ı", "ſ" and the Kelvin sign), each folded to that letter, one character for one.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


_STEM = re.compile("|".join(_STEMS))
"""Any of :data:`_STEMS`, searched for in folded text: one pass in C rather than a
Python-level try of each word (0.4–0.6 µs less for an outcome's message)."""


def _may_hold_a_credential(text: str) -> bool:
    """False only when no shape can match ``text``: none of :data:`_STEMS` in it, in any
    case re.IGNORECASE would match (about 1 µs for an outcome, against 20–30 µs for
    the four searches)."""
    folded = text.lower()
    if not text.isascii() and (
        "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text
    ):
        folded = text.translate(_TO_ASCII).lower()
    return _STEM.search(folded) is not None


_CLEAN: set[str] = set()
"""Texts seen lately in which no shape can match (bounded: emptied at
:data:`_CLEAN_MAX`; none longer than :data:`_CLEAN_LEN`). An outcome's message is scrubbed by its venue and again by the
journal on the way in: the second time, the same text is known clean by one set lookup
(its hash already computed) instead of a second fold and search."""
_CLEAN_MAX = 4096
_CLEAN_LEN = 1024


def scrub_shapes(text: str) -> str:
    """Mask values sitting where credentials live, whoever's they are.

    Every shape needs a word such as ``token``, ``key``, ``secret``, ``sig`` or
    ``cookie`` (:data:`_STEMS`): a text with none of them (nearly all of a kill's
    thousands of answers: "x3algo: 'stopped' — algorithm 'X' is now stopped.") has
    nothing to mask, and is passed without the four searches.
    """
    if not text or text in _CLEAN:
        return text
    if not _may_hold_a_credential(text):
        if len(text) <= _CLEAN_LEN:
            if len(_CLEAN) >= _CLEAN_MAX:
                _CLEAN.clear()
            _CLEAN.add(text)
        return text
    text = _QUOTED.sub(_mask, text)
    text = _BARE.sub(_mask, text)
    text = _AUTH.sub(_mask, text)
    return _COOKIE.sub(_mask, text)


# C0 and C1 controls (tab kept as a space), DEL, the bidirectional overrides that make
# text read differently from what it is, and lone surrogates (JSON may carry "\ud823",
# which no terminal encoding can write).
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves, clear screen)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same, introduced by the 8-bit CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (window title, hyperlinks, clipboard)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b.?"  # any other escape
    r"|[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


Scrub = Callable[[str], str]
"""A venue's scrubber: text in, the same text with no secret out."""


SCRUB_MARGIN = 4096
"""How far past a cut a text is scrubbed (longer than any credential): a credential
across the cut is masked whole, and a huge text (a venue's 64 MB error body, an id of
2 MB) is never scrubbed whole — 2 MB of credential-shaped words took ~0.9 s."""


def scrub_head(text: str, limit: int, scrub: Scrub) -> str:
    """The first ``limit`` characters of ``text`` once scrubbed, scrubbing no more than
    :data:`SCRUB_MARGIN` past the cut."""
    return scrub(text[: limit + SCRUB_MARGIN])[:limit]


def cut_scrubbed(text: str, limit: int, scrub: Scrub | None) -> str:
    """Venue text for a message, at most ``limit`` characters: ``scrub`` (the venue's
    scrubber) applied before the cut, up to :data:`SCRUB_MARGIN` past it — cut first, a
    credential the venue echoed across the cut would lose its end and no longer be
    recognised whole. With no ``scrub`` (a caller that scrubs its whole message itself)
    it is not cut."""
    if scrub is None:
        return text
    clean = scrub(text[: limit + SCRUB_MARGIN])
    if len(clean) <= limit and len(text) <= limit + SCRUB_MARGIN:
        return clean
    return clean[: limit - 1] + "…"


def exception_line(exc: BaseException, scrub: Scrub, limit: int = 160) -> str:
    """An exception's first line (its kind when it says nothing), scrubbed, then cut."""
    text = str(exc)
    return cut_scrubbed(text.splitlines()[0] if text else type(exc).__name__, limit, scrub)


def printable(text: str) -> str:
    """Venue text made safe to put on a terminal: escape sequences and control
    characters removed, tabs as spaces. Ordinary text comes back as the same object."""
    if text.isprintable():
        return text
    text = _CONTROLS.sub("", text.replace("\t", " "))
    if text.isprintable():
        return text
    # What is left: other separators (shown as a space), format, private-use and
    # unassigned code points (dropped): nothing a terminal would draw as the venue meant.
    return "".join(
        c if c.isprintable() else (" " if unicodedata.category(c).startswith("Z") else "")
        for c in text
    )
