"""Every private Textual name the console still uses, in one place.

Textual is pinned to one exact version (pyproject.toml); on each upgrade this package is
the audit: read each function's source line against the new release. Nothing outside
this package imports ``textual._…`` or ``textual.widgets._…`` or touches an underscore
attribute of a Textual object.

* :func:`~.clock.event_time`: the clock Textual stamps events with.
* :func:`~.events.forward_event`: hand a key on to another widget as Textual does.
* :func:`~.styles.stylesheet_generation`: how many times the app's CSS was refreshed.
* :func:`~.app_state.queued_input`, :func:`~.app_state.exiting`,
  :func:`~.app_state.shutting_down`: the app's queue and shutdown flags.
* :mod:`~.strips`: ``Strip.divide`` / ``Strip.crop_extend`` without self-reference cycles.
* :mod:`~.styles_cache`: ``StylesCache.get_inner_outer`` cached on its colours, not on
  ``self`` (a dropped widget's line cache is freed with it; Textual issue #6665).
* :mod:`~.footer`: whether the footer has read its bindings; ``FooterKey`` for an extra key.
* :mod:`~.terminal_driver`: the terminal's driver, whose output never makes the loop
  wait (a stalled SSH link) and which outlives a terminal that hangs up (SIGHUP).
* :mod:`~.web_drivers`, :mod:`~.serve`, :mod:`~.notifications`: see each module.
"""
