"""What every venue package is built from: the HTTP send path, pacing, feeds, settings.

A venue package (``console/venues/<vendor>/``) holds only its vendor's facts: the wire
format, the mapping to targets, the translation of answers into outcomes. Everything
the five share lives here, written once.
"""
