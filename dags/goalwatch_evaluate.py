"""
### goalwatch · evaluate

Runs whenever a metric's Asset is updated (by the ingest DAG, a REST asset event or
`goalwatch announce`), or a JSON message such as `{"metric": "new_users", "as_of": "2026-11-15"}`
lands on the Redis channel `goalwatch` (the triggerer listens through the connection
`redis_default`), and checks, in order:

1. **check_data**: each metric's Great Expectations data-quality suite (`expectations/data_quality/`):
   schema, nulls, duplicates, allowed values, freshness against each metric's deadline, missing
   days, row counts and spikes against the trailing baseline. Goals on data that fails get no
   verdict; the data's owners get a data-issue (or data-late) alert instead;
2. **judge**: actual-to-date, expected-to-date and the end-of-period forecast of every goal, then
   the GX goal checks (`expectations/goal_checks.json`) on each of the period's days so far, the
   goal's levels passed as suite parameters, which decide each status with its history;
3. **catch_up**: a goal's previous period that goalwatch watched and never closed (its last day
   never judged) is judged as of that day;
4. **notify**: sends what is new to Slack (`slack_api_default`), or to the local outbox, the
   caught-up final verdicts first;
5. **sweep**: events that landed while Airflow created this run are queued for no run (the
   scheduler drops them); this puts them back on the messages asset, so the next run judges them.

The as-of day comes from the run (logical date, the newest day its events announce, or
`run_after`), never the clock. A bad event or message (not JSON, an unknown metric, a day that is
not a date) is one warning in `resolve_as_of`'s log; a run whose every event was bad is skipped.
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
    @task
    def resolve_as_of(**context) -> dict:
        return tasks.resolve_as_of(context, config)

    @task
    def check_data(as_of: dict, **context) -> dict:
        return tasks.check_data(as_of, config=config, moment=tasks.run_moment(context))

    @task
    def judge(as_of: dict, reports: dict) -> list:
        return tasks.judge(as_of, reports, config=config)

    @task
    def catch_up(verdicts: list, **context) -> dict:
        return tasks.catch_up(verdicts, config=config, moment=tasks.run_moment(context))

    @task
    def notify(verdicts: list, reports: dict, caught_up: dict, **context) -> dict:
        moment = tasks.run_moment(context)
        return tasks.notify(
            verdicts, reports, config=config, caught_up=caught_up, run_id=context["run_id"], moment=moment
        )

    @task(inlets=assets, outlets=[messages], trigger_rule="all_done")
    def sweep(**context) -> int:
        return tasks.sweep(context, assets, messages)

    as_of = resolve_as_of()
    reports = check_data(as_of)
    judged = judge(as_of, reports)
    notify(judged, reports, catch_up(judged)) >> sweep()


dag = goalwatch_evaluate()

if __name__ == "__main__":
    dag.test()
