"""Imported once by a long-lived Airflow process before it forks its task processes (the Celery
worker's ``imports``; LocalExecutor's forkserver preload), so a task finds Great Expectations,
pandas, matplotlib, the pipeline and Slack's client already in memory instead of importing them (about 2 s
per task on a 2-core machine)."""

from __future__ import annotations

import pandas  # noqa: F401
import slack_sdk  # noqa: F401

import goalwatch.alerting.notify
import goalwatch.alerting.render.charts
import goalwatch.checks.goals
import goalwatch.checks.quality
import goalwatch.pipeline
import goalwatch.runtime.slack  # noqa: F401
from goalwatch.checks.suites import preload

preload()
