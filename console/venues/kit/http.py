"""The HTTP layer every venue module shares, and its one send path: aiohttp's session.

A venue client is an ``httpx.AsyncClient`` made by
:func:`~console.venues.kit.http_client.make_http_client` (its base URL, fixed headers and
timeouts; httpx's URL type for the few modules that read them), but every request goes
out the same way: :func:`send` hands it straight to the aiohttp
session of the client's ``httpx-aiohttp`` transport. That is the path production runs,
measured in ``benchmarks/kill_fanout.py``: httpx's per-request URL merging, request
building and cookie-jar extraction cost more CPU than aiohttp itself did, which made an
emergency stop of 2,000 targets several times slower than the raw floor. Nothing keeps
cookies (a venue that needs one, x3algo's refresh token, keeps it itself).

One path, on purpose: unit tests used to send through httpx's ``MockTransport`` — code
production never ran (its own timeout mapping, body cap and URL building). Now a test
reaches a venue of its own *below* this code, at the socket: a
:class:`~console.venues.kit.http_client.Seam` given as
``transport=`` supplies the client's aiohttp connector, identical to production's but
for where a host name resolves (``tests/venues/loopback.py``: a real aiohttp server on
127.0.0.1 answering with the test's handler). Request building, headers, timeouts, the
body cap, the error mapping and the aiohttp session are the production ones; a
refused connection and a venue that never answers are real ones. The screenshots' world
(``console/cli/screenshot_world.py``) and the kill benchmark's rehearsal
(``benchmarks/kill_fanout.py``) reach their venues the same way. A seam sees only host
names: aiohttp connects to an IP address without asking the resolver. Nothing sends
through httpx itself: the client's httpx transport only holds the aiohttp session.

Requests come back as a :class:`Reply` (any HTTP status, body kept as bytes) or raise
:class:`CallError` when there was no answer, telling whether the request may have
reached the venue (a timeout after sending) or surely did not (connection refused).
Never re-sent here — but for one case a caller opts into: a halting call (stop, pause)
whose kept-alive connection broke before any byte of an answer is sent once more, on a
fresh connection (``send(..., resend_on_stale=True)``; ``console/venues/kit/stale.py``
says when and why).

Bounds against a hostile venue: a body larger than the venue's ``max_body_bytes`` is not
read (a :class:`CallError`: no usable answer, the request may have landed) — counted as
inflated, whatever ``Content-Encoding`` the venue sent (a gzip bomb is 1 MB on the wire and
1 GB read); a JSON object that names one key twice is a malformed answer, never "the last
one wins", and JSON nested deeper than Python's parser can follow is a malformed answer,
never a RecursionError (:meth:`Reply.validated`, ``console/venues/kit/json_screen.py``);
an id is only ever sent as one percent-encoded path segment (:func:`segment`), and
``.``/``..``, which a normalising proxy would route elsewhere, are refused unsent.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp
import httpx
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel, ValidationError
from yarl import URL

from console.core.input_first import INPUT_FIRST
from console.core.scrub import Scrub, cut_scrubbed, printable
from console.core.turns import waiting_turn
from console.venues.kit import stale
from console.venues.kit.http_client import DEFAULT_MAX_BODY, fresh_connector
from console.venues.kit.json_screen import check_unique_keys, parse_json
from console.venues.kit.pacing import Pacer, VendorAskedWait
from console.venues.kit.shape import html_words

JSON = dict[str, "JSON"] | list["JSON"] | str | int | float | bool | None
QueryValue = str | int | float | bool


class UnsafeId(ValueError):
    """A target id that cannot be sent as a path segment (``.``, ``..``, empty)."""


def segment(value: str) -> str:
    """``value`` as exactly one path segment: every reserved character percent-encoded
    (``/``, ``?``, ``#``, ``%`` …). Raises :class:`UnsafeId` for ``.``, ``..`` and the
    empty id: encoded or not, a normalising proxy may resolve them as dot segments."""
    if value in ("", ".", "..") or value.strip(".") == "" or "\x00" in value:
        raise UnsafeId(f"target id {value!r} cannot be sent safely as a URL path segment")
    return quote(value, safe="-._~")


M = TypeVar("M", bound=BaseModel)

UTF8_BOM = b"\xef\xbb\xbf"
"""Dropped from the front of every answer: RFC 8259 lets a reader ignore it and some
servers (.NET's) send it, but pydantic's JSON reader refuses it where Python's skips it,
so three venues read such answers as malformed and two did not."""


class CallError(Exception):
    """No HTTP answer. ``maybe_sent`` is True when the venue may have acted on it;
    ``transient`` is False when the same request would surely meet the same (an answer
    past the body cap: a huge list, a decompression bomb), True for no connection, no
    answer in time, a connection that broke (the venue may be restarting)."""

    def __init__(
        self,
        kind: Literal["timeout", "connect", "protocol"],
        message: str,
        *,
        maybe_sent: bool,
        transient: bool = True,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.maybe_sent = maybe_sent
        self.transient = transient
        self.latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, whatever its status.

    ``headers`` is case-insensitive: the headers aiohttp has already parsed (not copied
    again for every answer), or a plain mapping for an answer made up here.
    """

    status: int
    headers: Mapping[str, str]
    content: bytes
    latency_ms: float
    # False for the 429 made up here, unsent, while the vendor's too-long wait is in
    # force (:class:`console.venues.kit.pacing.VendorAskedWait`): nothing reached the venue.
    sent: bool = True
    # Not empty when a halting call's first request broke before any answer and this is
    # the answer to the second, sent on a fresh connection: the words saying so.
    resent: str = ""
    # Not empty for an error answer (4xx, 5xx) whose body was too large to read: why
    # (``content`` is then empty). Its status still says what happened: a 403 is a
    # refusal, a 429 goes again, whatever words the venue padded it with.
    unread: str = ""

    def header_list(self, name: str) -> list[str]:
        """Every value of a header that may repeat (``Set-Cookie``)."""
        headers = self.headers
        if isinstance(headers, httpx.Headers):
            return headers.get_list(name)
        if isinstance(headers, CIMultiDictProxy | CIMultiDict):
            return headers.getall(name, [])
        value = headers.get(name)
        return [] if value is None else [value]

    def json(self) -> JSON:
        """The body as JSON; raises ``ValueError`` with a short description when it is not."""
        return parse_json(self.content)  # type: ignore[no-any-return]

    def validated(self, model: type[M]) -> M:
        """The body parsed and validated as ``model`` in one step, by pydantic's own JSON
        parser: about three times faster than :meth:`json` + ``model_validate``, which
        counts on a kill's 2,000 answers. Raises ``ValueError`` ("malformed JSON ...")
        when the body is not JSON (RFC 8259: UTF-8) or an object in it names a key twice
        (checked after: one regular-expression pass when its keys are all distinct), and
        pydantic's ``ValidationError`` (a ``ValueError`` too) when its shape is wrong — as
        the two steps do."""
        try:
            parsed = model.model_validate_json(self.content)
            check_unique_keys(self.content)  # pydantic's reader keeps a repeated key's last
            return parsed
        except RecursionError:
            raise ValueError("malformed JSON from venue (nested too deeply)") from None
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            if first["type"] == "json_invalid":
                if self.content.lstrip()[:1] == b"<":  # an error page, not JSON
                    raise ValueError("an HTML page from venue, not JSON") from None
                detail = (first.get("ctx") or {}).get("error", first["msg"])
                raise ValueError(f"malformed JSON from venue ({detail})") from None
            raise

    def json_or_none(self) -> JSON:
        try:
            return self.json()
        except ValueError:
            return None

    def text(self, limit: int = 200, *, scrub: Scrub | None) -> str:
        """The body as short text for messages, ``scrub`` (the venue's scrubber) applied
        before it is cut (up to ``SCRUB_MARGIN`` past it, never a huge body whole): cut
        first, a credential the venue echoed across the cut would lose its end and no
        longer be recognised whole. With no ``scrub`` (a caller that scrubs the whole
        message itself) it is not cut."""
        if self.unread and not self.content:
            return f"({self.unread})"
        if 300 <= self.status < 400:  # its body is a "Moved" page: where it points says more
            return cut_scrubbed(redirect_words(self.headers.get("Location")), limit, scrub)
        text = self.content.decode("utf-8", "replace").strip()
        return cut_scrubbed(html_words(text) or text, limit, scrub)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def redirect_words(location: str | None) -> str:
    """What a redirect answer says, for a message: a redirect is never followed (a call
    goes to the profile's base URL only), and the usual cause is a base URL that names the
    wrong scheme or path. Only the Location's scheme, host and port are quoted — its path
    and query may carry a token."""
    words = "a redirect, not followed: check this venue's base_url (http or https, its path)"
    if not location:
        return f"{words}; it named no Location"
    try:
        url = URL(location.strip())
    except ValueError:
        return f"{words}; its Location is not a URL"
    if not url.is_absolute():
        return f"{words}; it points to another path of the same address"
    if url.scheme not in ("http", "https") or not url.host:
        return f"{words}; it points elsewhere"
    return f"{words}; it points to {url.scheme}://{printable(url.host)[:100]}:{url.port}"


async def send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    params: Mapping[str, QueryValue] | None = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float | None = None,
    pacer: Pacer | None = None,
    weight: int = 1,
    resend_on_stale: bool = False,
    resend_pacer: Pacer | None = None,
    fresh: aiohttp.ClientSession | None = None,
) -> Reply:
    """Send one request (paced when ``pacer`` is given) and return its :class:`Reply`.

    The whole exchange is bounded by ``timeout_s`` (default: the client's read timeout
    plus its connect timeout). Raises :class:`CallError` when no answer came.

    ``resend_on_stale``: the call halts trading (a stop, a pause: a second one answers
    "already"). When its connection breaks before any byte of an answer, it is sent
    once more on a fresh connection (``console/venues/kit/stale.py``), after a slot of
    ``resend_pacer`` (default ``pacer``: a caller that paces its first request itself,
    PipAI signing after its turn, names its pacer there). A read (GET) is sent again the
    same way, always: it changes nothing at the venue (a kill's re-read after a quiet
    spell can meet the same race). Never for anything else.
    ``fresh`` is that second request's one-shot session (this function's own use).

    The request goes straight to the aiohttp session of the client's transport, in this
    one coroutine: every await of a call in flight resumes through each frame between
    the dispatcher and aiohttp, so the path keeps as few as it can.
    """
    try:
        with waiting_turn():  # past the dispatch deadline, a call still here was never sent
            slot = (
                await pacer.acquire(weight, urgent=method != "GET")  # a control call first
                if pacer is not None
                else None
            )
    except VendorAskedWait as refused:
        return unsent_429(refused)
    transport = getattr(client, "aiohttp_transport", None)
    if transport is None:
        raise TypeError("send() takes a client made by make_http_client")
    fixed: CIMultiDict[str] = client.fixed_headers  # type: ignore[attr-defined]
    limit = timeout_s if timeout_s is not None else client.total_timeout_s  # type: ignore[attr-defined]
    all_headers = fixed.copy()
    if headers:
        all_headers.update(headers)
    # aiohttp labels a body-less POST "application/octet-stream"; a request without a
    # body carries no Content-Type at all (as httpx sends it).
    skip = None
    if content is None:
        skip = _NO_CONTENT_TYPE
    elif "Content-Type" not in all_headers:
        all_headers["Content-Type"] = "application/json"
    session = transport.client if fresh is None else fresh
    if not isinstance(session, aiohttp.ClientSession):
        session = transport.client = transport.get_client()
    if params:
        url = URL(_url(client, path, params), encoded=True)
    else:
        url = URL(client.base + (path if path[:1] == "/" else "/" + path), encoded=True)  # type: ignore[attr-defined]
    started = time.perf_counter()
    begun: int | None = None  # the answer's status, once its status line and headers are read
    broke: BaseException | None = None  # before any answer, on a call that may go again
    try:
        async with session.request(
            method, url, data=content,
            headers=all_headers, timeout=_aiohttp_timeout(limit), allow_redirects=False,
            skip_auto_headers=skip, ssl=transport.ssl_context,
        ) as response:  # fmt: skip
            begun = response.status
            unread = ""
            try:
                body = await _read_capped_aiohttp(response, *_cap_of(client, method))
            except CallError as too_large:  # (its only CallError: the body past the cap)
                if response.status < 400:  # a success is read by its body: no answer
                    raise
                body, unread = b"", f"its body, {too_large.message.removeprefix('answer ')}"
            if body[:3] == UTF8_BOM:
                body = body[3:]
            status, response_headers = response.status, response.headers
        latency_ms = (time.perf_counter() - started) * 1000
    except aiohttp.ConnectionTimeoutError:
        # The connection never opened: the request surely did not reach the venue.
        raise CallError("timeout", f"cannot connect within {limit:g} s", maybe_sent=False) from None
    except aiohttp.ClientConnectorError as exc:
        raise CallError(
            "connect", f"cannot connect: {_short(exc, client)}", maybe_sent=False
        ) from None
    except (TimeoutError, aiohttp.ServerTimeoutError):
        # An answer begun and never finished (a body trickling in) is not "no answer":
        # its status is said, though nothing of it can be read.
        words = (
            f"its answer (HTTP {begun}) did not finish within {limit:g} s; not read"
            if begun is not None
            else f"no answer within {limit:g} s"
        )
        err = CallError("timeout", words, maybe_sent=True)
        err.latency_ms = (time.perf_counter() - started) * 1000
        raise err from None
    except (aiohttp.ClientError, OSError) as exc:
        garbled = _not_http(exc, client)
        if garbled is not None:  # the same request would meet the same: not tried again
            raise CallError("protocol", garbled, maybe_sent=True, transient=False) from None
        # once, on the first request only; a read (GET) changes nothing at the venue
        again_ok = fresh is None and (resend_on_stale or method == "GET")
        if begun is not None or not again_ok or not stale.broke_unanswered(exc):
            raise CallError(
                "protocol", f"connection broke: {_short(exc, client)}", maybe_sent=True
            ) from None
        broke = exc
    finally:
        if pacer is not None and slot is not None:
            pacer.settle(slot)
    if broke is not None:
        again = dict(params=params, content=content, headers=headers, timeout_s=timeout_s)
        return await _resend(client, method, path, again, resend_pacer or pacer, weight, broke)
    if pacer is not None:
        pacer.observe(status, response_headers)
    if INPUT_FIRST.holding and method == "GET":  # a key being answered before the parse
        await INPUT_FIRST.turn()
    if unread:
        return Reply(status, response_headers, body, latency_ms, unread=unread)
    return Reply(status, response_headers, body, latency_ms)


async def _resend(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    again: dict[str, Any],
    pacer: Pacer | None,
    weight: int,
    broke: BaseException,
) -> Reply:
    """A halting call's (or a read's) second request, its first having broken before
    any answer (``broke``): on a one-shot session of a fresh connection, after a pacer
    slot. The answer says it was sent again; no answer says it was sent twice."""
    first = stale.first_words(broke, _scrub_of(client))
    one_shot = aiohttp.ClientSession(
        connector=fresh_connector(client), cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    )
    try:
        reply = await send(
            client, method, path, **again, pacer=pacer, weight=weight, fresh=one_shot
        )
    except CallError as second:
        err = CallError(
            "protocol" if second.kind == "connect" else second.kind,
            stale.sent_twice(first, second.message),
            maybe_sent=True,  # the first may have landed, whatever the second met
        )
        err.latency_ms = second.latency_ms
        raise err from None
    finally:
        await one_shot.close()
    if not reply.sent:  # the vendor's too-long wait, in force: the second never left
        why = f"the vendor asked to wait {reply.headers.get('retry-after', '?')} s"
        raise CallError("protocol", stale.not_resent(first, why), maybe_sent=True)
    return dataclasses.replace(reply, resent=stale.resent_note(first))


def unsent_429(refused: VendorAskedWait) -> Reply:
    """The answer the vendor would give while its too-long wait is in force, made up
    here without sending: a 429 whose ``Retry-After`` is what is left of that wait."""
    left = refused.asked_s
    value = "inf" if left == float("inf") else f"{left:.0f}"
    return Reply(429, {"retry-after": value}, b"", 0.0, sent=False)


def _url(client: httpx.AsyncClient, path: str, params: Mapping[str, QueryValue] | None) -> str:
    """The request URL as httpx builds it from ``base_url`` + ``path`` (+ ``params``)."""
    base = getattr(client, "base", "") or str(client.base_url).rstrip("/")
    url = base + (path if path.startswith("/") else "/" + path)
    if params:
        query = str(httpx.QueryParams({k: _query_value(v) for k, v in params.items()}))
        url += ("&" if "?" in path else "?") + query
    return url


def _query_value(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_NO_CONTENT_TYPE = ("Content-Type",)


ACTION_BODY_CAP = 1_048_576
"""The most read of an answer to anything but a GET (a stop, a pause, a login): one small
object, which a kill reads hundreds of at once. Capped at ``max_body_bytes`` alone, six
x3algo stops answered with gzip bombs held 6 × 64 MB (460 MB RSS); 64 at once would
hold 4 GB. At 1 MB they hold 64 MB at most."""


def _cap_of(client: httpx.AsyncClient, method: str) -> tuple[int, str]:
    """The body cap of an answer to ``method`` and its name for messages."""
    cap = getattr(client, "max_body_bytes", DEFAULT_MAX_BODY)
    if method != "GET" and cap > ACTION_BODY_CAP:
        return ACTION_BODY_CAP, "the cap on an action's answer"
    return cap, "max_body_bytes"


def _too_large(cap: int, named: str) -> CallError:
    return CallError(
        "protocol",
        f"answer larger than {cap / 1_048_576:g} MB ({named}); not read",
        maybe_sent=True,
        transient=False,
    )


async def _read_capped_aiohttp(
    response: aiohttp.ClientResponse, cap: int, named: str = "max_body_bytes"
) -> bytes:
    """The body, refused past ``cap`` bytes (declared or streamed) without reading it all.

    A declared length is what crosses the wire: with a ``Content-Encoding`` it says
    nothing of what the body inflates to (1 MB of gzip inflated to 1 GB, 2–3.7 GB of
    memory, the loop held). Such a body is streamed like one of unknown length: aiohttp
    inflates it piece by piece as it is read (``response.content``, a few hundred KB at a
    time), and the inflated bytes are counted against ``cap``."""
    declared = response.content_length
    if declared is not None and declared > cap:
        response.close()
        raise _too_large(cap, named)
    encoded = response.headers.get("Content-Encoding")
    if declared is not None and (not encoded or encoded.strip().lower() == "identity"):
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > cap:
            response.close()
            raise _too_large(cap, named)
        chunks.append(chunk)
    return b"".join(chunks)


@functools.lru_cache(maxsize=64)
def _aiohttp_timeout(limit: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=limit, connect=min(limit, 5.0))


def _scrub_of(client: httpx.AsyncClient) -> Scrub:
    scrub: Scrub = getattr(client, "scrub", str)
    return scrub


def _not_http(exc: BaseException, client: httpx.AsyncClient) -> str | None:
    """The words for an answer aiohttp could not parse as HTTP (a status line that is
    not one, a header line past 8,190 bytes, a broken chunk), else None.

    aiohttp raises these as ``ClientResponseError`` with *its own* code 400, and its
    words began "400, message=…": read in a kill's line as "the venue answered HTTP
    400", which it never did. Something at the venue's address answers, but not in HTTP
    a client can read (a port of another service, a proxy mangling the answer): said
    so, with the parser's first words, scrubbed (the line may echo a header) and cut."""
    if isinstance(exc, aiohttp.ClientResponseError) and isinstance(
        exc.__cause__, HttpProcessingError
    ):
        why = " ".join(str(exc.message).split()) or type(exc.__cause__).__name__
        said = cut_scrubbed(why, 120, _scrub_of(client))
        return f"the answer was not HTTP this console can read ({said})"
    return None


def _short(exc: BaseException, client: httpx.AsyncClient) -> str:
    """A network error's words, scrubbed with the client's scrubber, then cut (cut first,
    a secret the venue echoed in a broken status line could be cut past recognition).

    An answer cut short reads as such: aiohttp's words for it quote an exception whose
    own code (400) read like an HTTP status ("<ContentLengthError: 400, message='Not
    enough data…'>", an independent venue resetting mid-answer)."""
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut short (its body ended before the length it announced)"
    if isinstance(exc, aiohttp.ClientConnectorError):  # its own words quote ssl=<object …>
        os_error = exc.os_error
        why = ("connection refused" if isinstance(os_error, ConnectionRefusedError)
               else os_error.strerror or type(os_error).__name__)  # fmt: skip
        return cut_scrubbed(f"{exc.host}:{exc.port}: {why}", 160, _scrub_of(client))
    return cut_scrubbed(str(exc) or type(exc).__name__, 160, _scrub_of(client))


_COMPACT = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps's, made once


def dumps(body: JSON) -> bytes:
    """Serialise a request body once, compactly, so that what is signed is what is sent."""
    return _COMPACT(body).encode()
