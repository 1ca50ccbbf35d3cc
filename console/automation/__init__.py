"""Automation: scheduled stops, guard rules, a dead-man timer and alerts (issue 14).

One core implementation that the console runs while it is open and
``trading-console automate`` runs headless. Everything it does to a venue goes through
the same core functions as a key press (``console.core.kill`` plans, the session's
dispatcher, the journal, verification); this package only decides *when*.

- :mod:`.config` — the profile's ``schedules``, ``guards``, ``deadman`` and ``alerts``;
- :mod:`.scope` — which targets a rule addresses;
- :mod:`.schedules` — next runs (DST-correct), skip-next, the pre-expiry rule;
- :mod:`.guards` — thresholds with hysteresis, once per crossing;
- :mod:`.deadman` — check-ins (a file beside the kill lock) and the timer;
- :mod:`.alerts` — Apprise, rate-limited, de-duplicated, scrubbed;
- :mod:`.eventlog` — what automation decided without sending anything;
- :mod:`.runner` — the engine on an injected clock, and :mod:`.runner_lock`: one acts per profile;
- :mod:`.messages`, :mod:`.status`, :mod:`.headless` — its words, its picture, `automate`.
"""
