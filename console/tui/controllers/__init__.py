"""The app's helpers, each a plain object the app builds and hands its dependencies to.

:class:`~console.tui.controllers.redraw.RedrawController` (the tick: the store's changes
to the panels, header and banner; the first paint; the held heap),
:class:`~console.tui.controllers.control.ControlController` (a control key to outcomes:
plan, confirm, dispatch, retry), :class:`~console.tui.controllers.kill.KillController`
(the emergency stop, its report and sticky watch),
:class:`~console.tui.controllers.audit.AuditController` (the journal on screen, calls cut
short), :class:`~console.tui.controllers.automation.AutomationController`,
:class:`~console.tui.controllers.rows.RowController` (the row under the cursor: details,
its id copied) and :class:`~console.tui.controllers.notices.NoticeController` (the
start-up warnings, at most three toasts). The app keeps Textual's side (bindings,
actions, workers' events) and calls them.
"""
