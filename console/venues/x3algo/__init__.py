"""x3algo: algorithms watched by polling, stopped and started one by one.

``client`` is the VenueClient; ``wire`` the documented JSON shapes; ``mapping`` the
algorithms as Targets (and a page of the list read into rows); ``outcomes`` the answers
in the console's words; ``auth`` the login session (one login, refresh, kept across
processes). docs/venues/x3algo.md tells the vendor's story.
"""
