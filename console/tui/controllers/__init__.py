"""The app's helpers, each a plain object the app builds and hands its dependencies to.

:class:`~console.tui.controllers.control.ControlController` (a control key to outcomes:
plan, confirm, dispatch, retry), :class:`~console.tui.controllers.kill.KillController`
(the emergency stop, its report and sticky watch) and
:class:`~console.tui.controllers.audit.AuditController` (the journal on screen, calls cut
short). The app keeps Textual's side (bindings, actions, workers' events) and calls them.
"""
