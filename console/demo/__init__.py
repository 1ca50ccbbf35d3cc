"""The demo: a fixed world of every venue's targets and the in-memory venue that serves it.

It lives apart from ``console/tui`` because it is a sixth venue, not part of the screen:
the TUI never imports it. Its users are the ones that launch or draw the demo
(``console/cli/screenshots.py`` and its world) and the TUI tests (``tests/tui/fakes.py``).
"""
