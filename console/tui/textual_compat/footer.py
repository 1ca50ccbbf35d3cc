"""Whether Textual's ``Footer`` has read its screen's bindings yet, and its key widget.

Why private: ``Footer`` keeps it in ``_bindings_ready`` (set once its screen published
its bindings) and composes nothing before; the console's steady footer must not
compare keys before then either. ``FooterKey`` (one key of the footer, clickable, styled
by the footer's CSS) lives in the private ``textual.widgets._footer`` and is not
exported: the footer's extra key (the emergency stop) is one of them so it looks and
clicks like the rest. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/widgets/_footer.py
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["FooterKey", "bindings_ready"]


def bindings_ready(footer: Footer) -> bool:
    """``footer`` has read its screen's bindings (what it shows is known)."""
    return bool(footer._bindings_ready)
