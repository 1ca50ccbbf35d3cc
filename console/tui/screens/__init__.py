"""Whole screens of the console that are not the kill's: the journal's audit view and the
verification of calls cut short (they read the record; the kill package sends)."""
