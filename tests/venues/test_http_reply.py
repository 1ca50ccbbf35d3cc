"""Reply: one parse-and-validate step that reads a body exactly as json() + model_validate."""

from __future__ import annotations

import json

import httpx
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel, ConfigDict, ValidationError

from console.venues.kit.http import Reply


class Body(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    id: str
    status: str = ""
    count: int | None = None
    tags: list[str] = []


def reply(content: bytes) -> Reply:
    return Reply(200, httpx.Headers({"content-type": "application/json"}), content, 1.0)


@pytest.mark.parametrize(
    "content",
    [
        b'{"id": "a1", "status": "stopped", "count": 3, "tags": ["x"], "extra": {"k": [1, 2.5]}}',
        b'{"id": 42}',
        '{"id": "é€", "status": "\\u00e9"}'.encode(),
    ],
)
def test_validated_reads_what_json_then_model_validate_reads(content: bytes) -> None:
    assert reply(content).validated(Body) == Body.model_validate(json.loads(content))


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe"])
def test_a_body_that_is_not_json_is_malformed_json(content: bytes) -> None:
    with pytest.raises(ValueError, match="malformed JSON from venue") as caught:
        reply(content).validated(Body)
    assert not isinstance(caught.value, ValidationError)


@pytest.mark.parametrize("content", [b"[]", b'{"status": "x"}', b'{"id": "a", "count": "many"}'])
def test_json_of_the_wrong_shape_is_a_validation_error(content: bytes) -> None:
    with pytest.raises(ValidationError):
        reply(content).validated(Body)


def test_header_list_gives_every_value_of_a_repeated_header_on_both_paths() -> None:
    pairs = [("set-cookie", "a=1"), ("Set-Cookie", "b=2"), ("Retry-After", "3")]
    for headers in (httpx.Headers(pairs), CIMultiDictProxy(CIMultiDict(pairs))):  # httpx, aiohttp
        answer = Reply(200, headers, b"", 1.0)
        assert answer.header_list("Set-Cookie") == ["a=1", "b=2"]
        assert answer.headers.get("retry-after") == "3"
        assert answer.header_list("x-missing") == []


@pytest.mark.parametrize(
    "page", [b"<html><body>502 Bad Gateway</body></html>", b"\n  <!DOCTYPE html>"]
)
def test_an_html_page_is_called_one(page: bytes) -> None:
    """A proxy's error page read as "malformed JSON (Expecting value at byte 0)"."""
    with pytest.raises(ValueError, match="an HTML page from venue, not JSON"):
        Reply(200, {}, page, 1.0).json()
    with pytest.raises(ValueError, match="an HTML page from venue, not JSON") as caught:
        reply(page).validated(Body)  # the fast path says the same
    assert not isinstance(caught.value, ValidationError)


NGINX = (b"<!DOCTYPE html><html><head><title>409 Bad Gateway</title></head><body><center>"
         b"<h1>409 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")  # fmt: skip


@pytest.mark.parametrize(
    ("page", "words"),
    [
        (NGINX, "an HTML page: 409 Bad Gateway"),
        (b"<html><body><h1>500</h1>Internal Server Error</body></html>",
         "an HTML page: 500 Internal Server Error"),
        (b"<html><script>var key='x';</script><style>p{}</style><p>Down &amp; out</p></html>",
         "an HTML page: Down & out"),
        (b"<html><title>\x1b]0;pwned\x07Busy</title></html>", "an HTML page: Busy"),
        (b"<html></html>", "an HTML page"),
    ],
)  # fmt: skip
def test_an_error_page_is_named_by_its_title_or_text_never_quoted_as_markup(
    page: bytes, words: str
) -> None:
    """An independent PipAI behind a gateway read 'PipAI answered 409 "<!DOCTYPE html>
    <html><head><title>409 Bad Gateway</title>…"' (session 23; fails on the code before)."""
    assert Reply(409, {}, page, 1.0).text(scrub=None) == words
    assert Reply(409, {}, b'{"error": "<b>"}', 1.0).text(scrub=None) == '{"error": "<b>"}'
