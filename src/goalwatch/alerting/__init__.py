"""What goalwatch says in Slack, and saying it once: the ledger, planning, delivery and rendering.

- ``ledger``: what was said (messages, their Slack ``ts``), what is still to say (intents), states,
  transitions, silences and heartbeats, in the store (``tables``);
- ``plan``: a goal's living message, its thread replies and updates, from each evaluation;
- ``notices``: messages said once per key (data issues, monitor unhealthy, watchdog, digest);
- ``notify``: plan, then send, after an evaluation (with the goals' charts);
- ``catch_up``: the final verdict of a period whose last day was never judged, said first;
- ``delivery``: what every transport promises, the outbox, and sending the pending intents;
- ``render``: Block Kit payloads and charts within Slack's limits.

The transports through Airflow's Slack connections live in ``runtime.slack``. Imports
``pipeline`` (for chart data), ``data``, ``config``, ``core`` and ``errors``; used by ``runtime``
and ``cli``.
"""

__all__ = [
    "catch_up",
    "delivery",
    "ledger",
    "notices",
    "notify",
    "plan",
    "render",
    "tables",
]  # its modules: import the one you need
