"""Rendering: Slack Block Kit payloads (goal alerts, data issues, replies, the digest) and charts.

- ``limits``: Slack's limits and the blocks built within them, shared by every renderer;
- ``messages``: alerts, thread replies, data issues, monitor unhealthy;
- ``digest``: the weekly digest of a channel;
- ``charts``: the PNG chart of a goal's period (matplotlib, imported inside the functions).

Pure: builds dicts and bytes, sends nothing. Used by ``alerting`` and the CLI.
"""

__all__ = ["charts", "digest", "limits", "messages"]  # its modules: import the one you need
