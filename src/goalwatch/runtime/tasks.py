"""What each DAG task runs: one function per task, called with the task's Airflow context.

The only code that reads an Airflow context. Each function turns the context into plain values
(the run's as-of day and instant, its run id, the XCom it was given), calls one step of
``pipeline`` or ``alerting``, and returns small JSON-ready values for XCom (numbers and names,
never a credential). The DAG files stay wiring only; this module stays light at import (config
and core only), so they may import it at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from goalwatch.config import Config, load_config
from goalwatch.errors import GoalwatchError
from goalwatch.runtime.runs import (
    NothingAnnounced,
    announced,
    goal_as_of,
    resolve_as_of,
    run_as_of,
    run_moment,
    sweep,
)

__all__ = [
    "NothingAnnounced",
    "announced",
    "catch_up",
    "check_data",
    "check_metric",
    "decide",
    "digest",
    "goal_as_of",
    "ingest",
    "judge",
    "notify",
    "on_failure",
    "publish",
    "resolve_as_of",
    "run_as_of",
    "run_moment",
    "sweep",
    "unhealthy",
    "watchdog",
]

log = logging.getLogger(__name__)


def _days(as_of: Mapping[str, str]) -> dict[str, date]:
    return {goal: date.fromisoformat(day) for goal, day in as_of.items()}


# -- goalwatch_ingest ----------------------------------------------------------------------------


def ingest(metric: str, context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """Pull one metric from its source into the store."""
    from goalwatch.data.sources import read_metric
    from goalwatch.data.store import Store
    from goalwatch.runtime.connections import read_sql

    config = config or load_config()
    as_of = run_as_of(context, config.timezone)
    rows = Store().replace_metric(
        metric, read_metric(config, metric, query=read_sql), as_of=as_of, run_id=context.get("run_id")
    )
    log.info("Stored %d rows of %s (as of %s)", rows, metric, as_of)
    return {"metric": metric, "as_of": as_of.isoformat(), "moment": run_moment(context).isoformat(), "rows": rows}


def publish(summaries: list[Mapping[str, Any]], context: Mapping[str, Any]) -> None:
    """Put each ingest's summary (its as-of day and row count) on its metric's asset event."""
    from goalwatch.runtime.assets import metric_asset

    for summary in summaries:
        context["outlet_events"][metric_asset(summary["metric"])].extra = dict(summary)


# -- goalwatch_evaluate --------------------------------------------------------------------------


def check_data(
    as_of: Mapping[str, str], *, config: Config | None = None, moment: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Each metric's data-quality suite on the stored data as of the run's day; a day that has not
    arrived is late once ``moment`` (the run's instant) is past its deadline."""
    from goalwatch.pipeline import check_stored

    reports = check_stored(config or load_config(), _days(as_of), moment=moment)
    return {m: r.to_dict() for m, r in reports.items()}


def check_metric(metric: str, context: Mapping[str, Any], *, config: Config) -> dict[str, Any]:
    """One metric's data checks, for the evaluate DAG's check_data (mapped: one per metric, so
    Celery workers share them). Each resolves the run's days itself; the first one says what
    the run's events announce, and which were bad."""
    from goalwatch.pipeline import check_stored

    ti = context.get("ti") or context.get("task_instance")
    quiet = getattr(ti, "map_index", 0) not in (0, -1, None)
    as_of = resolve_as_of(context, config, quiet=quiet)
    reports = check_stored(config, _days(as_of), moment=run_moment(context), metrics=[metric])
    return reports[metric].to_dict()


def decide(reports: list[Mapping[str, Any]], context: Mapping[str, Any], *, config: Config) -> dict[str, Any]:
    """judge, catch_up and notify in one task, so an event reaches Slack in as few task starts as
    can be: every goal's numbers and status, the periods that never got their final verdict,
    then what is new sent to Slack. Each step says what it did in the task log."""
    as_of = resolve_as_of(context, config, quiet=True)
    by_metric = {r["metric"]: r for r in reports}
    moment = run_moment(context)
    verdicts = judge(as_of, by_metric, config=config)
    caught_up = catch_up(verdicts, config=config, moment=moment)
    return notify(verdicts, by_metric, config=config, caught_up=caught_up, run_id=context["run_id"], moment=moment)


def judge(
    as_of: Mapping[str, str], reports: Mapping[str, Mapping[str, Any]], *, config: Config | None = None
) -> list[dict[str, Any]]:
    """Every goal's (and segment's) numbers for its period, then the GX goal checks on its days so
    far, which decide each status (one step: the day-by-day numbers the checks validate stay in
    memory, and the log says what each goal came to)."""
    from goalwatch.core.findings import QualityReport
    from goalwatch.pipeline import pace_stored, statuses

    config = config or load_config()
    parsed = {m: QualityReport.from_dict(r) for m, r in reports.items()}
    decided = statuses(pace_stored(config, _days(as_of), parsed), config)
    for v in decided:
        log.info(
            "%s: %s (%.1f%% of pace, forecast %.1f%% of target, %.0f%% chance of missing; %s pacing)",
            v.key,
            v.status,
            100 * v.pace_ratio,
            100 * v.forecast_ratio,
            100 * v.miss_probability,
            v.paced_on,
        )
    return [v.to_dict() for v in decided]


def catch_up(
    verdicts: list[Mapping[str, Any]], *, config: Config | None = None, moment: datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The periods before the run's (``verdicts``, from ``judge``) that goalwatch watched and that
    never got their final verdict, judged as of their last days on the stored data (see
    ``alerting.catch_up``): their verdicts, and the data checks that failed."""
    from goalwatch.alerting.catch_up import judge
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.core.verdicts import Verdict
    from goalwatch.pipeline import stored_frames

    config = config or load_config()
    parsed = [Verdict.from_dict(v) for v in verdicts]
    judged, failed = judge(config, Ledger(), parsed, lambda days: stored_frames(config, days), moment=moment)
    return {"verdicts": [v.to_dict() for v in judged], "reports": [r.to_dict() for r in failed]}


def notify(
    verdicts: list[Mapping[str, Any]],
    reports: Mapping[str, Mapping[str, Any]],
    *,
    config: Config | None = None,
    caught_up: Mapping[str, list[Mapping[str, Any]]] | None = None,
    run_id: str | None = None,
    moment: datetime | None = None,
) -> dict[str, Any]:
    """Plan what is new in the alert ledger (first the final verdicts ``caught_up`` gives, from
    :func:`catch_up`), then send every pending Slack call. Fails, after recording everything, if
    a call could not be made."""
    from goalwatch.alerting import notify as alerting
    from goalwatch.alerting.catch_up import plan_catch_up
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.uploads import later
    from goalwatch.core.findings import QualityReport
    from goalwatch.core.verdicts import Verdict
    from goalwatch.pipeline import stored_frames
    from goalwatch.runtime.slack import choose_delivery

    config = config or load_config()
    ledger = Ledger()
    parsed = [Verdict.from_dict(v) for v in verdicts]
    checked = [QualityReport.from_dict(r) for r in reports.values()]
    closing = [Verdict.from_dict(v) for v in (caught_up or {}).get("verdicts", [])]
    finals = {}
    if closing:
        finals = plan_catch_up(
            closing,
            [QualityReport.from_dict(r) for r in (caught_up or {}).get("reports", [])],
            config=config,
            ledger=ledger,
            run_id=run_id,
            chart=later,  # drawn after the posts, as the run's own (below)
            already=checked,
        )
    days = {v.goal: v.as_of for v in parsed}
    run_chart = alerting.chart_maker(config, lambda: stored_frames(config, days))

    def chart(v: Verdict) -> bytes | None:
        """A chart from this run's data, or, for a chart a newer run left pending, from its own day's."""
        if v.as_of <= max(days.values(), default=v.as_of):
            return run_chart(v)
        return alerting.chart_maker(config, lambda: stored_frames(config, {v.goal: v.as_of}))(v)

    outcome = alerting.notify(
        parsed,
        checked,
        config=config,
        ledger=ledger,
        delivery=choose_delivery(),
        chart=chart,
        run_id=run_id,
        moment=moment,
    )
    return {"caught_up": finals, **outcome} if finals else outcome


# -- goalwatch_watchdog and goalwatch_digest -----------------------------------------------------


def watchdog(context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """Dead-man's switch: alert when no evaluation has succeeded within ``watchdog_hours`` of this
    run's moment, once per day; and say "data late" for a metric whose stored data stops before
    a day past its deadline, once per metric and day (as the evaluate run would)."""
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.notices import plan_late_data, plan_watchdog, watchdog_due
    from goalwatch.alerting.notify import send_pending
    from goalwatch.pipeline import check_stored, latest_day
    from goalwatch.runtime.slack import choose_delivery

    config = config or load_config()
    moment = run_moment(context)
    ledger = Ledger()
    # The days the evaluate run would check the data as of.
    days = _days(goal_as_of({"logical_date": moment}, config))
    try:
        late = plan_late_data(ledger, config, check_stored(config, days, moment=moment), day=latest_day(days))
    except Exception:  # e.g. a suite file GX cannot read: the switch below must still work
        log.exception("Could not check the stored data for late days")
        late = []
    reason = watchdog_due(ledger, config, moment=moment)
    if reason is None:
        outcome = send_pending(ledger, choose_delivery(), config=config) if late else {}
        last = ledger.last_beat("evaluate")
        return {"healthy": True, "last_evaluation": last.isoformat() if last else None, "late": late, **outcome}
    plan_watchdog(ledger, config, moment=moment, reason=reason)
    return {"healthy": False, "reason": reason, "late": late, **send_pending(ledger, choose_delivery(), config=config)}


def digest(context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """The weekly digest: every goal's status, pace and forecast to each channel, with the chart of
    its goal furthest behind; once per channel and day (a rerun sends nothing new)."""
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.notices import plan_digest
    from goalwatch.alerting.notify import chart_maker, send_pending
    from goalwatch.pipeline import evaluate, stored_frames
    from goalwatch.runtime.slack import choose_delivery

    config = config or load_config()
    days = _days(goal_as_of(context, config))
    frames = stored_frames(config, days)
    verdicts = evaluate(config, frames, days, moment=run_moment(context))
    ledger = Ledger()
    planned = plan_digest(ledger, verdicts, chart=chart_maker(config, lambda: frames))
    return {"digests": planned, **send_pending(ledger, choose_delivery(), config=config)}


# -- failures ------------------------------------------------------------------------------------


def unhealthy(context: Mapping[str, Any], *, config: Config | None = None) -> None:
    """A task failed for good (after its retries): tell the data owners the monitor is unhealthy,
    once per task and day. Called as the ingest and evaluate tasks' ``on_failure_callback``;
    never raises, so a Slack outage cannot hide the task's own error."""
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.notices import plan_unhealthy
    from goalwatch.alerting.notify import send_pending
    from goalwatch.runtime.slack import choose_delivery

    try:
        config = config or load_config()
        ti = context["task_instance"]
        ledger = Ledger()
        if plan_unhealthy(
            ledger,
            config,
            dag_id=ti.dag_id,
            task_id=_task_label(context),
            reason=_failure(context),
            tries=ti.try_number,
            day=run_as_of(context, config.timezone),
        ):
            send_pending(ledger, choose_delivery(), config=config)  # refusals said as after a run
    except Exception:  # the task's own failure is what Airflow must show
        log.exception("Could not send the 'monitor unhealthy' alert")


def _task_label(context: Mapping[str, Any]) -> str:
    """The task's id, and for a mapped task its metric: ``check_data[revenue]``."""
    ti = context["task_instance"]
    if getattr(ti, "map_index", -1) in (-1, None):
        return ti.task_id
    task = context.get("task") or getattr(ti, "task", None)
    metric = getattr(ti, "rendered_map_index", None) or (getattr(task, "op_kwargs", None) or {}).get("metric")
    return f"{ti.task_id}[{metric or ti.map_index}]"


def _failure(context: Mapping[str, Any]) -> str:
    """Why a task failed, in words: goalwatch's own message, a timeout's limit, or the error's class."""
    error = context.get("exception")
    if type(error).__name__ == "AirflowTaskTimeout":
        task = context.get("task") or getattr(context.get("task_instance"), "task", None)
        limit = getattr(task, "execution_timeout", None)
        return f"timed out after {limit.total_seconds():.0f} s" if limit else "timed out"
    if isinstance(error, GoalwatchError):
        return str(error)
    return type(error).__name__ if error else "failed"


def on_failure(config: Config) -> Callable[[Mapping[str, Any]], None]:
    """The ``on_failure_callback`` of the DAGs' tasks: "monitor unhealthy" (see :func:`unhealthy`)."""

    def callback(context: Mapping[str, Any]) -> None:
        unhealthy(context, config=config)

    return callback
