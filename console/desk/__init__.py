"""The desk (issue 15): one hub per profile on NATS, shared by many consoles.

Its protocol reference is the docstring of ``subjects.py``.
"""
