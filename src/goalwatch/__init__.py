"""goalwatch: an event-driven monitor for business goals.

Airflow DAGs pull user and revenue metrics into the goalwatch store; Great Expectations checks
the data and each goal's pace; Slack (or a local outbox) hears when a goal is at risk, off track,
missed or achieved. The public surface is below; the modules hold the rest.
"""

from __future__ import annotations

from goalwatch.config import Config, Goal, Metric, load_config
from goalwatch.errors import ConfigError, DataQualityError, DeliveryError, GoalwatchError, SourceError
from goalwatch.core.verdicts import Verdict

__version__ = "0.1.0"
__all__ = [
    "Config",
    "ConfigError",
    "DataQualityError",
    "DeliveryError",
    "Goal",
    "GoalwatchError",
    "Metric",
    "SourceError",
    "Verdict",
    "__version__",
    "load_config",
]
