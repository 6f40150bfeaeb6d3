"""
### goalwatch · evaluate

Runs whenever a metric's Asset is updated (by the ingest DAG, a REST asset event or
`goalwatch announce`), or a JSON message such as `{"metric": "new_users", "as_of": "2026-11-15"}`
lands on the Redis channel `goalwatch` (the triggerer listens through the connection
`redis_default`), and checks, in order:

1. **check_data**, one task per metric (so Celery workers share them): each metric's Great
   Expectations data-quality suite (`expectations/data_quality/`): schema, nulls, duplicates,
   allowed values, freshness against each metric's deadline, missing days, row counts and spikes
   against the trailing baseline. Goals on data that fails get no verdict; the data's owners get
   a data-issue (or data-late) alert instead. The first one's log says what the run's events
   announced;
2. **decide**, in one task so the alert goes out without more task starts, each step in its log:
   - *judge*: actual-to-date, expected-to-date and the end-of-period forecast of every goal, then
     the GX goal checks (`expectations/goal_checks.json`) on each of the period's days so far,
     which decide each status with its history;
   - *catch up*: a goal's previous period that goalwatch watched and never closed is judged as of
     its last day;
   - *notify*: what is new goes to Slack (`slack_api_default`), or to the local outbox, the
     caught-up final verdicts first;
3. **sweep**, beside the others: events that landed while Airflow created this run are queued
   for no run (the scheduler drops them); this starts a run for them.

The as-of day comes from the run (logical date, the newest day its events announce, or
`run_after`), never the clock. A bad event or message (not JSON, an unknown metric, a day that is
not a date) is one warning in the first check_data's log; a run whose every event was bad is
skipped.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetAny, dag, task

from goalwatch.config import config_for_dags
from goalwatch.runtime import tasks
from goalwatch.runtime.assets import messages_asset, metric_asset

config = config_for_dags(__file__)
messages = messages_asset()
assets = [*(metric_asset(name) for name in config.metrics), messages]


@dag(
    dag_id="goalwatch_evaluate",
    schedule=AssetAny(*assets),
    catchup=False,
    max_active_runs=1,
    tags=["goalwatch", "evaluate"],
    # A step that still fails after its retries (a suite file GX cannot read, Slack down) tells
    # the default channel the monitor is unhealthy, as the ingest tasks do.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "on_failure_callback": tasks.on_failure(config)},
    doc_md=__doc__,
)
def goalwatch_evaluate():
    @task(map_index_template="{{ task.op_kwargs['metric'] }}")
    def check_data(metric: str, **context) -> dict:
        return tasks.check_metric(metric, context, config=config)

    @task
    def decide(reports: list, **context) -> dict:
        return tasks.decide(list(reports), context, config=config)

    # No task waits for it, and it waits for none: it looks at what landed before the run began.
    @task(inlets=assets, outlets=[messages])
    def sweep(**context) -> int:
        return tasks.sweep(context, assets, messages)

    decide(check_data.expand(metric=list(config.metrics)))
    sweep()


dag = goalwatch_evaluate()

if __name__ == "__main__":
    dag.test()
