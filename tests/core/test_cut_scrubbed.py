"""Venue text cut for a message is scrubbed before the cut, never scrubbed whole when huge.

A credential across the cut must be masked whole (scrub, then cut), but a hostile venue's
64 MB error body or a 2 MB id must not be run through the scrubber whole either: 2 MB of
credential-shaped words took ~0.9 s of the loop. The scrubber sees the text up to
``SCRUB_MARGIN`` past the cut.
"""

from __future__ import annotations

from console.core.scrub import SCRUB_MARGIN, Scrubber, cut_scrubbed, scrub_head

SECRET = "sk_live_" + "Z" * 40


def test_a_huge_text_is_scrubbed_only_up_to_the_margin_past_the_cut() -> None:
    seen: list[int] = []
    scrubber = Scrubber([SECRET])

    def scrub(text: str) -> str:
        seen.append(len(text))
        return scrubber.scrub(text)

    huge = "x" * 150 + SECRET + "password=hunter2 " * 500_000  # ~8.5 MB
    shown = cut_scrubbed(huge, 160, scrub)
    assert seen == [160 + SCRUB_MARGIN]
    assert len(shown) == 160 and shown.endswith("…")
    assert "sk_live" not in shown  # the secret across the cut, masked whole
    head = scrub_head(huge, 160, scrub)
    assert seen[-1] == 160 + SCRUB_MARGIN and len(head) == 160 and "sk_live" not in head


def test_a_short_text_is_scrubbed_whole_and_not_marked_cut() -> None:
    scrub = Scrubber([SECRET]).scrub
    assert cut_scrubbed(f"key {SECRET} refused", 160, scrub) == "key *** refused"
    assert cut_scrubbed("x" * 160, 160, scrub) == "x" * 160
    assert cut_scrubbed("x" * 161, 160, scrub) == "x" * 159 + "…"
    assert cut_scrubbed("x" * 5000, 160, None) == "x" * 5000  # the caller scrubs whole
