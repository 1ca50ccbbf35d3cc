"""How an answer that is not the documented shape is said: one phrasing for five venues.

Each venue validates its answers with pydantic and names the first thing refused as
``where: what``. Four venues wrote that four ways, and pydantic's own words leaked our
class names into an operator's message: a list where FinRadar's page object belongs read
"Input should be a valid dictionary or instance of ListPage". Here the place keeps
pydantic's path (``body`` for the answer itself), and an object expected where something
else came says what came ("an object was expected, not a list"). The value refused is
never quoted: it is whatever the venue sent. Callers scrub (a place may name a key the
venue sent), then cut.

And a body that is an HTML page — a proxy's or a load balancer's error page where the
venue's JSON belongs — is named by its title or its text (:func:`html_words`), never
quoted as markup: an nginx 409 page read "PipAI answered 409 \"<!DOCTYPE html><html><head>
<title>409 Bad Gateway</title>…\"", 200 characters of tags.
"""

from __future__ import annotations

import html
import re

from pydantic import ValidationError

from console.core.scrub import printable

# pydantic's error types for "an object (a model, a dict) was expected here"
_OBJECT_EXPECTED = frozenset({"model_type", "dict_type", "model_attributes_type"})


def shape_problem(exc: ValidationError) -> str:
    """The first thing pydantic refused, as ``where: what``."""
    errors = exc.errors(include_url=False, include_context=False)
    if not errors:
        return "body: not the documented shape"
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] in _OBJECT_EXPECTED:
        return f"{where}: an object was expected, not {json_kind(first.get('input'))}"
    return f"{where}: {first['msg']}"


def json_kind(value: object) -> str:
    """What kind of JSON value ``value`` is, in words ("a list", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "another kind of value"


_TITLE = re.compile(r"<title[^>]*>([^<]{1,200})", re.IGNORECASE)
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")


def html_words(text: str) -> str | None:
    """``an HTML page: 502 Bad Gateway`` (its title, else its text without tags) for a
    body that is markup; None for any other body. Not quoted: venues quote it."""
    if text.lstrip()[:1] != "<":
        return None
    head = text[:8192]
    title = _TITLE.search(head)
    raw = title.group(1) if title else _TAG.sub(" ", _HIDDEN.sub(" ", head))
    words = " ".join(printable(html.unescape(raw)).split())[:120]
    return f"an HTML page: {words}" if words else "an HTML page"
