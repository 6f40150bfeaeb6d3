"""
### goalwatch · watchdog

A dead-man's switch: every hour (`GOALWATCH_WATCHDOG_SCHEDULE`) it checks when an evaluation last
succeeded; if none did within `watchdog_hours` of the run (goals.yml, default 30), it sends a
"monitor unhealthy" alert to the default channel, once a day. Silence from goalwatch then means
"nothing to report", never "goalwatch stopped". It also sends "data late" for a metric whose
stored data stops before a day past its deadline (`late_after_hours`), as the evaluate run would
(once per metric and day, whichever finds it first): a source that stopped sending starts no run.
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
    dag_id="goalwatch_watchdog",
    schedule=cron_schedule(settings().watchdog_schedule, timezone=config.timezone),
    start_date=pendulum.datetime(2024, 1, 1, tz=config.timezone),
    catchup=False,
    max_active_runs=1,
    tags=["goalwatch", "watchdog"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    doc_md=__doc__,
)
def goalwatch_watchdog():
    @task
    def watchdog(**context) -> dict:
        return tasks.watchdog(context, config=config)

    watchdog()


dag = goalwatch_watchdog()

if __name__ == "__main__":
    dag.test()
