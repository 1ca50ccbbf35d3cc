"""The simulated Joyride API: routes (api) and daily option rounds (world)."""
