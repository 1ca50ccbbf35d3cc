"""The console side of the emergency stop and the audit trail.

Everything here reaches the app through one mixin (:class:`~console.tui.kill.mixin.KillMixin`):
the kill modal, the progress and report view, the sticky watch, the audit screen and the
recovery of calls cut short. The heavy lifting (plan, dispatch, verification, journal)
is core's; this package decides what the operator sees and what each key does.
"""
