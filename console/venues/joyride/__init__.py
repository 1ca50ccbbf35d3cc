"""Joyride exchange admin kill switch: one target per option expiration, listed by REST
(polled) and paused/resumed a whole round at a time (``client``, ``wire``, ``mapping``,
``outcomes``)."""
