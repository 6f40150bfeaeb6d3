"""
### goalwatch · digest

Once a week (Mondays at 09:00 in the config's time zone by default; `GOALWATCH_DIGEST_SCHEDULE`
changes the cron, `none` turns it off) every channel gets one summary message: each goal's status,
% of pace, forecast and range, worst first, with the chart of the goal furthest behind. It
evaluates the stored data as of the run (data checks and GX goal checks included); a rerun of the
same day sends nothing new.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from goalwatch.config import config_for_dags
from goalwatch.config.settings import settings
from goalwatch.runtime import tasks
from goalwatch.runtime.schedules import cron_schedule

config = config_for_dags(__file__)


@dag(
    dag_id="goalwatch_digest",
    schedule=cron_schedule(settings().digest_schedule, timezone=config.timezone),
    start_date=pendulum.datetime(2024, 1, 1, tz=config.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["goalwatch", "digest"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    doc_md=__doc__,
)
def goalwatch_digest():
    @task
    def digest(**context) -> dict:
        return tasks.digest(context, config=config)

    digest()


dag = goalwatch_digest()

if __name__ == "__main__":
    dag.test()
