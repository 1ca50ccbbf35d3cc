"""The simulated FinRadar Sniper API: routes (api), accounts and snipers (world), name data."""
