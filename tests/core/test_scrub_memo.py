"""The scrubber's memory of clean texts: it only ever short-cuts a text that needs no
masking, stays bounded, and never keeps a long text alive."""

from __future__ import annotations

from console.core import scrub
from console.core.scrub import MASK, scrub_shapes


def test_a_text_seen_clean_comes_back_as_the_same_object_and_is_remembered() -> None:
    text = "x3algo: 'Algorithm stopped successfully' — algorithm 'Alpha' (a1) is now stopped."
    assert scrub_shapes(text) is text
    assert text in scrub._CLEAN
    assert scrub_shapes(text) is text


def test_a_text_holding_a_credential_is_masked_every_time_and_never_remembered() -> None:
    text = "venue said: Authorization: Bearer abcdef0123456789"
    for _ in range(2):
        assert "abcdef0123456789" not in scrub_shapes(text)
        assert MASK in scrub_shapes(text)
    assert text not in scrub._CLEAN


def test_the_memory_is_bounded_and_skips_long_texts() -> None:
    long = "ordinary words " * 100  # > _CLEAN_LEN characters
    assert scrub_shapes(long) is long
    assert long not in scrub._CLEAN
    for i in range(scrub._CLEAN_MAX + 10):
        scrub_shapes(f"algorithm {i} stopped")
    assert len(scrub._CLEAN) <= scrub._CLEAN_MAX
