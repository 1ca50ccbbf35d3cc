"""The simulated x3algo API: routes (api), algorithms (world), JWTs (tokens), hostile answers."""
