"""55-tech MM: one ENGINE target per client API key, paused/stopped by REST, watched by
REST polling plus one WebSocket per key (``client``, ``wire``, ``mapping``,
``outcomes``, ``feed``)."""
