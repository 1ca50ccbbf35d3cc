"""Whether Textual's ``Footer`` has read its screen's bindings yet.

Why private: ``Footer`` keeps it in ``_bindings_ready`` (set once its screen published
its bindings) and composes nothing before; the console's steady footer must not
compare keys before then either. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/widgets/_footer.py
"""

from __future__ import annotations

from textual.widgets import Footer


def bindings_ready(footer: Footer) -> bool:
    """``footer`` has read its screen's bindings (what it shows is known)."""
    return bool(footer._bindings_ready)
