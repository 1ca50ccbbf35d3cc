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


@pytest.mark.parametrize(
    "text",
    [
        'PipAI answered HTTP 401 INVALID_SIGNATURE: "Request signature did not match expected '
        'value" when listing strategies.',
        '401 INVALID_API_KEY: "Invalid API key"',
        "HTTP 401 invalid_token: 'the token has expired'",
    ],
)
def test_an_error_code_ending_in_a_credential_word_keeps_the_vendors_words(text: str) -> None:
    """A code whose name ends in a credential word, then the vendor's message: words with
    blanks, no credential — masked, the operator lost what the venue said was refused."""
    assert Scrubber([KEY]).scrub(text) == text


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ('"signature": "0f0f 0f0f"', "0f0f 0f0f"),  # the place itself: masked, whatever
        ('{"my_api_key": "sk-other-9999"}', "sk-other-9999"),  # a name ending in one, no blank
        ("INVALID_SIGNATURE: 'deadbeefcafe'", "deadbeefcafe"),
    ],
)
def test_a_name_ending_in_a_credential_word_still_masks_a_value(text: str, gone: str) -> None:
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
    assert printable("500 Internal Server Error\r\n\r\nServer got itself in trouble") == (
        "500 Internal Server Error Server got itself in trouble"
    )


@given(st.text())
def test_printable_output_is_always_printable(text: str) -> None:
    assert printable(text).isprintable()


def _four_searches(text: str) -> str:
    from console.core import scrub as module

    text = module._QUOTED.sub(module._mask_quoted, text)
    for pattern in (module._BARE, module._AUTH, module._COOKIE):
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


# ----- heads and tails of a secret (a vendor quoting part of a key "for identification")

PIPAI_SECRET = "sk_live_9f8e7d6c5b4a39281706f5e4"


@pytest.mark.parametrize(
    ("said", "shown"),
    [  # an independent vendor implementation quoted the first six characters of the secret
        (
            "invalid signature for key sk_liv… (request 7f3a)",
            "invalid signature for key ***… (request 7f3a)",
        ),
        ("invalid key test_s…", "invalid key ***…"),
        # ten: masked whole, not six of them and four left
        ("key sk_live_9f… not recognised", "key ***… not recognised"),
        ("key ending …1706f5e4 not recognised", "key ending …*** not recognised"),  # a tail
    ],
)
def test_a_quoted_head_or_tail_of_a_secret_is_masked_whole(said: str, shown: str) -> None:
    assert Scrubber([PIPAI_SECRET, "test_secret_0123456789"]).scrub(said) == shown


@pytest.mark.parametrize("after", ["…", "...", "***", "", " (truncated)"])
def test_a_head_next_to_an_ellipsis_or_a_mask_loses_the_head(after: str) -> None:
    said = f"bad signature, key {PIPAI_SECRET[:12]}{after} given"
    assert Scrubber([PIPAI_SECRET]).scrub(said) == f"bad signature, key ***{after} given"


def test_the_head_of_a_secret_added_later_is_masked_from_then_on() -> None:
    scrubber = Scrubber([PIPAI_SECRET])
    said = "login refused for tok_minted_ab…"
    assert scrubber.scrub(said) == said
    scrubber.add("tok_minted_abcdef123456")
    assert scrubber.scrub(said) == "login refused for ***…"


def test_five_characters_are_not_a_piece_but_six_are() -> None:
    scrubber = Scrubber([PIPAI_SECRET])
    said = "keys sk_li…, sk_liv…, …6f5e4, …06f5e4"
    assert scrubber.scrub(said) == "keys sk_li…, ***…, …6f5e4, …***"


def test_ordinary_text_and_a_run_from_the_middle_of_a_secret_are_left_alone() -> None:
    scrubber = Scrubber([PIPAI_SECRET, "x3-0123456789abcdef", "trader.1a2b3c@demo.test"])
    for text in (
        "Paused ETH grid 1d (strat_f2679c); 4 open position(s) stay open.",
        "x3algo answered 429: rate limited, 100 calls per minute; retry in 30 s",
        f"order ref {PIPAI_SECRET[8:20]} filled",  # middles are not quoted by vendors
    ):
        assert scrubber.scrub(text) is text


def test_a_secret_beginning_with_a_place_word_does_not_hide_the_place() -> None:
    """The heads are masked after the places: were "password" masked first as the head of
    this password, the hunter22 beside it would no longer sit in a place."""
    scrubber = Scrubber(["password-of-the-desk"])
    assert scrubber.scrub('{"password": "hunter22"}') == '{"***": "***"}'


def test_a_urls_head_is_not_a_piece_of_it() -> None:
    """An alert's Apprise URL is held whole, and its secret parts each on their own: its
    head, a scheme every link shares, is not masked."""
    scrubber = Scrubber(
        ["https://hooks.example/services/T0/B0/tok_abcdef123456", "tok_abcdef123456"]
    )
    assert scrubber.scrub("see https://status.example/x") == "see https://status.example/x"
    assert scrubber.scrub("hook tok_abcd… refused") == "hook ***… refused"


_LETTERS = "ab%=+/_-"  # few letters: heads, tails and noise overlap and repeat


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(_LETTERS, min_size=6, max_size=14), min_size=1, max_size=4),
    st.lists(st.text(_LETTERS + " …", max_size=10), min_size=1, max_size=5),
    st.data(),
)
def test_no_head_or_tail_of_six_or_more_is_ever_left(
    secrets: list[str], noise: list[str], data: st.DataObject
) -> None:
    text = ""
    for piece in noise:
        secret = data.draw(st.sampled_from(secrets))
        cut = data.draw(st.integers(0, len(secret)))
        text += piece + data.draw(st.sampled_from([secret[:cut], secret[cut:]]))
    scrubbed = Scrubber(secrets).scrub(text)
    for secret in secrets:
        for n in range(6, len(secret) + 1):
            assert secret[:n] not in scrubbed and secret[-n:] not in scrubbed


def test_an_email_is_masked_whole_but_its_pieces_are_words() -> None:
    scrubber = Scrubber(["trader.one@demo.x3algo.test"])
    assert scrubber.scrub("login trader.one@demo.x3algo.test refused") == "login *** refused"
    assert scrubber.scrub("the trader.one desk at demo.x3algo.test") == (
        "the trader.one desk at demo.x3algo.test"
    )
