"""
### goalwatch · ingest

Pulls each metric in `config/goals.yml` from its source (SQL through an Airflow connection, or a
CSV/Parquet file) into the goalwatch store, one mapped task per metric (so Celery workers share
them, each retried on its own); then `publish` updates every metric's Asset
(`goalwatch://metrics/<metric>`) with the run's as-of day. The evaluate DAG runs on those assets.

Runs hourly at a quarter past (`GOALWATCH_INGEST_SCHEDULE` changes the cron, in the config's time
zone, or `none` turns it off), so a day's data is picked up within the hour it lands and a day that
has not landed is reported late within the hour after its deadline; trigger it by hand, or through
the REST API, when new data lands. A source that still fails after its retries (with backoff)
sends a "monitor unhealthy" alert.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from goalwatch.config import config_for_dags
from goalwatch.config.settings import settings
from goalwatch.runtime import tasks
from goalwatch.runtime.assets import metric_asset
from goalwatch.runtime.schedules import cron_schedule

config = config_for_dags(__file__)
env = settings()


@dag(
    dag_id="goalwatch_ingest",
    schedule=cron_schedule(env.ingest_schedule, timezone=config.timezone),
    start_date=pendulum.datetime(2024, 1, 1, tz=config.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["goalwatch", "ingest"],
    default_args={
        "retries": env.ingest_retries,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(seconds=env.ingest_timeout),
        "on_failure_callback": tasks.on_failure(config),
    },
    doc_md=__doc__,
)
def goalwatch_ingest():
    @task(map_index_template="{{ task.op_kwargs['metric'] }}")
    def ingest(metric: str, **context) -> dict:
        return tasks.ingest(metric, context, config=config)

    # One task announces every metric at once, after all are stored, so the evaluate run they
    # start never sees one metric fresh and another half-loaded.
    @task(outlets=[metric_asset(name) for name in config.metrics])
    def publish(summaries: list, **context) -> None:
        tasks.publish(list(summaries), context)

    publish(ingest.expand(metric=list(config.metrics)))


dag = goalwatch_ingest()

if __name__ == "__main__":
    dag.test()
