"""What every venue package is built from: the HTTP send path, pacing, feeds, settings,
the control step and the scrubber.

A venue package (``console/venues/<vendor>/``) holds only its vendor's facts: the wire
format, the mapping to targets, the translation of answers into outcomes. Everything
the five share lives here, written once: ``base`` (the ports), ``http`` (one send
path), ``pacing``, ``feeds`` (polling, a reconnecting stream), ``health`` (poller and
streams folded into one mark), ``ws_log`` (the WebSocket library's scrubbing logger),
``control`` (send → settle by re-read → Outcome), ``scrubber`` (one way to keep
credentials out of text), ``paging`` and ``session_file``.
"""
