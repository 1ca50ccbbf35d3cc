"""The console in a browser: ``trading-console serve`` (textual-serve), docs/SERVE.md.

One process serves the page and, per browser connection, starts
``python -m console.web.session``: a login screen, then the desk console as the NATS
user who logged in, read-only until armed.
"""
