"""``trading-console``'s commands: one module per command, the parser and dispatch in ``main``.

``main`` builds the argument parser and sends each command to its module: ``control``
(status, stop, pause, resume, start), ``kill``, ``audit``, ``sim`` (sim and demo) and
``screenshots``; ``pipes`` keeps a command quiet when its reader leaves. The TUI is
imported only to run it. ``screenshot_world`` is the screenshots' world (the simulator's
seed-1 world served in process) and lives here beside the one command that draws it; the
fixed in-memory demo world the TUI tests drive is ``console/demo/``.
"""
