"""Airflow's side: the only code that sees an Airflow context, connection or hook.

- ``tasks``: one function per DAG task, from the task's context to one call into ``pipeline`` or
  ``alerting``;
- ``assets``: each metric's Asset; ``schedules``: the DAGs' cron timetables;
- ``connections``: SQL sources read read-only through their Airflow connection, and what a
  command needs to see the connections a task would;
- ``slack``: delivery through the Slack provider's hooks (bot token, webhook), or the outbox.

``tasks``, ``assets`` and ``schedules`` are light at import (DAG files import them at parse
time); everything heavy is imported inside the functions. Imports every package below it; used
by the DAG files and ``cli``.
"""

__all__ = ["assets", "connections", "schedules", "slack", "tasks"]  # its modules: import the one you need
