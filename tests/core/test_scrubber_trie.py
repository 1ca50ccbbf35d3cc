"""The scrubber finds secret values with a trie (console/core/scrub.py): it must mask
exactly what the longest-first alternation of every value masks, for any values and text
(the heads and tails of the values, masked after, the same way for both)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.scrub import MASK, Scrubber, alternation_pattern, scrub_shapes

# Few letters, so values share prefixes, nest in one another and sit side by side in text.
_LETTERS = "ab%=+/_-"
_bases = st.lists(st.text(_LETTERS, min_size=6, max_size=14), min_size=1, max_size=8)
# ... and values that extend one of them (random values of 6+ characters seldom nest)
_values = _bases.flatmap(
    lambda bases: st.lists(st.text(_LETTERS, min_size=1, max_size=6), max_size=len(bases)).map(
        lambda tails: bases + [base + tail for base, tail in zip(bases, tails, strict=False)]
    )
)


@settings(max_examples=300, deadline=None)
@given(_values, st.lists(st.text(_LETTERS + " '—", max_size=20), max_size=6), st.data())
def test_the_trie_masks_what_the_alternation_masks(
    secrets: list[str], pieces: list[str], data: st.DataObject
) -> None:
    venue = Scrubber(secrets)
    alternation = alternation_pattern(venue._values)  # the same forms of each secret

    held = venue._held
    assert held is not None

    class Core:  # the scrubber as it was: the alternation, then the shapes (then the ends)
        @staticmethod
        def scrub(text: str) -> str:
            return held.mask_pieces(scrub_shapes(alternation.sub(MASK, text)))

    core = Core
    # text made of noise, whole values, and values' heads and tails
    text = ""
    for piece in pieces:
        secret = data.draw(st.sampled_from(secrets))
        cut = data.draw(st.integers(0, len(secret)))
        text += piece + data.draw(st.sampled_from([secret, secret[:cut], secret[cut:], ""]))
    assert venue.scrub(text) == core.scrub(text)


def test_a_value_learnt_later_is_masked_too() -> None:
    venue = Scrubber(["first-secret-value"])
    venue.add("token-minted-at-login")
    said = "first-secret-value and token-minted-at-login and token-minted-at"
    assert venue.scrub(said) == "*** and *** and ***"  # its head too


def test_values_too_long_for_a_trie_keep_the_alternation() -> None:
    long_one = "x" * 300  # longer than the trie takes: core's pattern is kept
    venue = Scrubber([long_one, "short-secret"])
    assert venue.scrub(f"a {long_one} b short-secret") == "a *** b ***"
