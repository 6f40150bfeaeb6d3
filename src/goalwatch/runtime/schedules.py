"""The DAGs' schedules: a cron expression from the settings, in the config's time zone, or none."""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable

__all__ = ["cron_schedule"]


def cron_schedule(expression: str | None, *, timezone: str) -> CronTriggerTimetable | None:
    """A cron timetable in ``timezone`` (so "09:00" is 09:00 there all year), or None: the DAG runs
    only when triggered (``none`` in the environment variable)."""
    return CronTriggerTimetable(expression, timezone=timezone) if expression else None
