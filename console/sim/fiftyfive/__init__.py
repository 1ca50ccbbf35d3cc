"""The simulated 55-tech API: routes (api), engines and flags (world), order feed (ws)."""
