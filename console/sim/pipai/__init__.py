"""The simulated PipAI API: routes (api), strategies (world), signing (auth), the event
stream (stream) and its hostile answers (hostile)."""
