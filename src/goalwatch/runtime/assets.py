"""The Airflow Asset of each metric: the ingest DAG updates it, the evaluate DAG is scheduled on it.

External systems announce new data for a metric by posting an event for the same asset
(``POST /api/v2/assets/events``).
"""

from __future__ import annotations

from airflow.sdk import Asset

__all__ = ["metric_asset"]


def metric_asset(metric: str) -> Asset:
    return Asset(name=f"goalwatch.metric.{metric}", uri=f"goalwatch://metrics/{metric}", group="goalwatch")
