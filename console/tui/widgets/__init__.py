"""The pieces screens are built of, other than the five panels (``tui/panels/``): the
header, banner, footer, outcome log, overview cards and the live line."""
