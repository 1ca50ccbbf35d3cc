"""FinRadar Sniper: sniper targets listed by REST (polled) and stopped one by one
(``client``, ``wire``, ``mapping``, ``outcomes``)."""
