"""The console side of the emergency stop.

The kill modal, the progress and report view, the sticky watch, the plan in words, the
scope and the run as the screen follows it. The app reaches them through one controller
(:class:`~console.tui.controllers.kill.KillController`). The heavy lifting (plan,
dispatch, verification, journal) is core's; this package decides what the operator sees
and what each key does.
"""
