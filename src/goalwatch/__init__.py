"""goalwatch: an event-driven monitor for business goals.

Airflow DAGs pull user and revenue metrics into the goalwatch store; Great Expectations checks
the data and each goal's pace; Slack (or a local outbox) hears when a goal is at risk, off track,
missed or achieved. The public surface is below; the subpackages hold the rest, each importing
only those below it (``lint-imports`` checks it):

    cli         the ``goalwatch`` command
    runtime     Airflow's side: the tasks, assets, schedules, connections, Slack hooks
    dev         the demo warehouse and Airflow as local processes
    alerting    the ledger, what to say and saying it once, rendering (Slack's limits, charts)
    pipeline    the evaluate path step by step: data checks, pacing, goal checks, statuses
    checks      Great Expectations: data quality, a metric's days, the goal checks
    data        metric sources and the store
    config      goals.yml's models and loading, the GOALWATCH_* settings
    core        pure: periods, forecasts, pacing, statuses, verdicts, findings
    errors      the one error family
"""

from __future__ import annotations

from goalwatch.config import Config, Goal, Metric, load_config
from goalwatch.core.verdicts import Verdict
from goalwatch.errors import ConfigError, DeliveryError, GoalwatchError, SourceError

__version__ = "0.1.0"
__all__ = [
    "Config",
    "ConfigError",
    "DeliveryError",
    "Goal",
    "GoalwatchError",
    "Metric",
    "SourceError",
    "Verdict",
    "__version__",
    "load_config",
]
