"""The one scrubber and printable(): what they mask and strip, and what they leave alone."""

from __future__ import annotations

import base64
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.model import Outcome, OutcomeKind
from console.core.scrub import MASK, Scrubber, printable, scrub_outcome, scrub_shapes

KEY = "sk-live-abcdef123456"


@pytest.mark.parametrize(
    "echo",
    [
        f"invalid key {KEY} given",
        f"key={urllib.parse.quote(KEY, safe='')}",
        f"auth {base64.b64encode(KEY.encode()).decode().rstrip('=')}",
        f'{{"detail": "bad X-API-Key: {KEY}"}}',
    ],
)
def test_a_known_secret_is_masked_in_any_form_a_venue_echoes(echo: str) -> None:
    scrubbed = Scrubber([KEY]).scrub(echo)
    assert KEY not in scrubbed and "abcdef123456" not in scrubbed
    assert MASK in scrubbed


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ('{"detail":"bad X-API-Key: sk-other-9999"}', "sk-other-9999"),
        ("token=abc123def&x=1", "abc123def"),
        ('"password": "hunter22"', "hunter22"),
        ("Authorization: Bearer eyJhbGciOi.xx", "eyJhbGciOi.xx"),
        ("Cookie: sid=1234567; other=2", "sid=1234567"),
        ('{"signature": "0f0f0f0f"}', "0f0f0f0f"),
    ],
)
def test_whatever_sits_where_credentials_live_is_masked_even_if_not_ours(
    text: str, gone: str
) -> None:
    assert gone not in Scrubber().scrub(text)


def test_ordinary_words_are_left_alone() -> None:
    text = "x3algo answered 429: rate limited, 100 calls per minute; retry in 30 s"
    assert Scrubber([KEY]).scrub(text) == text


def test_a_token_learned_later_is_masked_from_then_on() -> None:
    scrubber = Scrubber()
    assert "tok-123456789" in scrubber.scrub("session tok-123456789")
    scrubber.add("tok-123456789")
    assert "tok-123456789" not in scrubber.scrub("session tok-123456789")


def test_an_outcome_is_scrubbed_whole_and_kept_when_clean() -> None:
    scrub = Scrubber([KEY]).scrub
    clean = Outcome(OutcomeKind.APPLIED, "stopped")
    assert scrub_outcome(clean, scrub) is clean
    dirty = Outcome(OutcomeKind.REJECTED, f"bad {KEY}", 401, warning=KEY, vendor_code=KEY)
    out = scrub_outcome(dirty, scrub)
    assert KEY not in out.message + (out.warning or "") + (out.vendor_code or "")


@pytest.mark.parametrize(
    "hostile",
    [
        "evil\x1b]0;pwned\x07name",  # OSC: retitles the terminal
        "evil\x1b[2J\x1b[Hname",  # clear screen, cursor home
        "evil\x9b31mname",  # 8-bit CSI
        "evil\x1bP1$r\x1b\\name",  # DCS
        "evil\u202ename",  # right-to-left override
        "evil\ud823name",  # a lone surrogate from JSON
        "evil\U00018cd6name",  # unassigned
        "evil\x08\x08\rname",  # backspace, carriage return
    ],
)
def test_printable_leaves_nothing_a_terminal_would_act_on(hostile: str) -> None:
    shown = printable(hostile)
    assert shown.isprintable()
    assert shown.startswith("evil") and shown.endswith("name")


def test_printable_returns_ordinary_text_as_the_same_object() -> None:
    text = "ADX Position — Asianpaint 12.5%"
    assert printable(text) is text
    assert printable("a\tb") == "a b"


@given(st.text())
def test_printable_output_is_always_printable(text: str) -> None:
    assert printable(text).isprintable()


def _four_searches(text: str) -> str:
    from console.core import scrub as module

    for pattern in (module._QUOTED, module._BARE, module._AUTH, module._COOKIE):
        text = pattern.sub(module._mask, text)
    return text


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "token ",
                "Bearer ",
                "baſic ",
                "TOKEN",
                "password",
                "=",
                ":",
                "abcdef12",
                " ",
                "'",
                '"',
                "cookie",
                "x-api-key",
                "K",
                "é",
                "\u0130",
                "\u0131",
                "s\u0130g=",
                "ba\u0131ic ",
                "\u017fecret:",
                "api_\u212aey=",
                "pwd",
                "SESSION_ID",
                "Set-Cookie:",
                "signature",
                "—",
            ]
        )
        | st.text(max_size=8),
        max_size=12,
    ).map("".join)
)
def test_the_quick_pass_masks_exactly_what_the_four_searches_mask(text: str) -> None:
    """A text passed without searching (none of the words a shape needs, in any case
    re.IGNORECASE matches, the four non-ASCII letters it folds included) is one the
    searches would not have changed."""
    assert scrub_shapes(text) == _four_searches(text)
