"""PipAI Strategies: signed requests, a status stream, pause instead of stop.

``client`` is the VenueClient; ``wire`` the documented JSON shapes; ``mapping`` the
strategies as Targets (and a page of the list read into them); ``outcomes`` the answers
in the console's words; ``auth`` the HMAC request signing; ``feed`` the status stream.
docs/venues/pipai.md tells the vendor's story.
"""
