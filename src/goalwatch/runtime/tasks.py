"""What each DAG task runs: one function per task, called with the task's Airflow context.

The only code that reads an Airflow context. Each function turns the context into plain values
(the run's as-of day and instant, its run id, the XCom it was given), calls one step of
``pipeline`` or ``alerting``, and returns small JSON-ready values for XCom (numbers and names,
never a credential). The DAG files stay wiring only; this module stays light at import (config
and core only), so they may import it at parse time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any

from goalwatch.config import Config, load_config
from goalwatch.core.periods import as_of_for
from goalwatch.errors import GoalwatchError
from goalwatch.runtime.events import Announcement, BadEvent, announcement, stranded

__all__ = [
    "announced",
    "catch_up",
    "check_data",
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


def run_as_of(context: Mapping[str, Any], timezone: str, *, metrics: Collection[str] | None = None) -> date:
    """The day a run is about in ``timezone``, from the run itself, never from the wall clock.

    In order: the run's logical date; for an asset-triggered run, the newest day its good events
    announce (see :func:`announced`), each by its ``moment`` (the producing run's logical date) or
    else its ``as_of``; else the run's ``run_after``. An instant becomes the last day that had
    fully ended at that instant in ``timezone``. NothingAnnounced if every event was bad.
    """
    logical = context.get("logical_date")
    if logical is not None:
        return as_of_for(logical, timezone)
    return _announced_day(context, announced(context, metrics), timezone)


def announced(context: Mapping[str, Any], metrics: Collection[str] | None = None) -> list[Announcement]:
    """What the run's triggering asset events announce, however they came (ingest, REST, a Redis
    message). A bad event is one warning naming what was wrong, and is left out; when every event
    was bad there is nothing to judge: NothingAnnounced."""
    found: list[Announcement] = []
    bad = nudges = 0
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        for event in events:
            uri = getattr(getattr(event, "asset", None), "uri", None) or getattr(asset, "uri", None) or str(asset)
            if stranded(event.extra) is not None:
                nudges += 1  # the events it is about are in this run too
                continue
            try:
                found.append(announcement(uri, event.extra, metrics))
            except BadEvent as exc:
                bad += 1
                log.warning("Ignored: %s", exc)
    if (bad or nudges) and not found:
        raise NothingAnnounced(
            f"no verdict: the run's {bad} event(s) announced nothing goalwatch can judge"
            if bad
            else "nothing to judge: the events a sweep re-queued were judged by another run already"
        )
    return found


class NothingAnnounced(GoalwatchError):
    """Every event of an asset-triggered run was bad: the run judges nothing."""


def _announced_day(context: Mapping[str, Any], found: list[Announcement], timezone: str) -> date:
    """The newest day announced: an instant's last ended day in ``timezone``, or the day given."""
    days = [as_of_for(a.moment, timezone) if a.moment is not None else a.as_of for a in found]
    known = [day for day in days if day is not None]
    return max(known) if known else as_of_for(context["dag_run"].run_after, timezone)


def run_moment(context: Mapping[str, Any]) -> datetime:
    """The instant a run stands for: its logical date, else its ``run_after``."""
    return context.get("logical_date") or context["dag_run"].run_after


def goal_as_of(context: Mapping[str, Any], config: Config) -> dict[str, str]:
    """Each goal's as-of day (goals may live in different time zones), as ISO dates for XCom.
    The run's events are read once: a bad one is one warning, not one per goal."""
    logical = context.get("logical_date")
    found = [] if logical is not None else announced(context, config.metrics)
    if found:
        log.info(
            "Announced: %s", "; ".join(f"{a.metric} as of {a.moment or a.as_of or 'the run'} ({a.via})" for a in found)
        )
    return {
        g.name: (
            as_of_for(logical, config.timezone_of(g))
            if logical is not None
            else _announced_day(context, found, config.timezone_of(g))
        ).isoformat()
        for g in config.goals
    }


def resolve_as_of(context: Mapping[str, Any], config: Config) -> dict[str, str]:
    """``goal_as_of`` for the evaluate DAG's first task: a run whose every event was bad is
    skipped (each bad event was one warning), so no task after it gives a verdict."""
    from airflow.sdk.exceptions import AirflowSkipException

    try:
        return goal_as_of(context, config)
    except NothingAnnounced as exc:
        raise AirflowSkipException(str(exc)) from None


def sweep(context: Mapping[str, Any], assets: list[Any], messages: Any) -> int:
    """Put the events Airflow's scheduler left without a run back on the ``messages`` asset.

    An event that lands while the scheduler creates a run for the events before it is neither in
    that run nor queued for the next one (the queue row it joined is deleted with the run's): it
    would wait for some later event. Such events landed after this run's newest event and before
    the run started, and no evaluate run consumed them; this task, the DAG's last, looks for them
    on every asset and, when there are any, emits one event on ``messages`` naming them
    (``runtime.events.stranded``): the run it starts carries them, as the scheduler gives a new run
    every event since its last. None: skipped, no event."""
    from airflow.sdk.exceptions import AirflowSkipException

    dag_run = context["dag_run"]
    mine = [e for events in (context.get("triggering_asset_events") or {}).values() for e in events]
    if not mine or dag_run.start_date is None:
        raise AirflowSkipException("not an asset-triggered run: nothing to sweep")
    since, until = max(e.timestamp for e in mine), dag_run.start_date
    left: list[int] = []
    for asset in assets:
        for event in context["inlet_events"][asset].after(since.isoformat()).before(until.isoformat()):
            if any(run.dag_id == dag_run.dag_id for run in event.created_dagruns):
                continue
            left.append(event.id)
    if not left:
        raise AirflowSkipException("no event was left without a run")
    log.warning(
        "%d event(s) landed while Airflow created this run and were queued for none (ids %s): starting a run for them",
        len(left),
        ", ".join(map(str, left)),
    )
    context["outlet_events"][messages].extra = {"stranded": left}
    return len(left)


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
    """Plan what is new in the alert ledger (first the final verdicts ``caught_up`` gives, from the
    ``catch_up`` task), then send every pending Slack call. Fails, after recording everything, if
    a call could not be made."""
    from goalwatch.alerting import notify as alerting
    from goalwatch.alerting.catch_up import plan_catch_up
    from goalwatch.alerting.ledger import Ledger
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
        ends = {v.goal: v.as_of for v in closing}
        finals = plan_catch_up(
            closing,
            [QualityReport.from_dict(r) for r in (caught_up or {}).get("reports", [])],
            config=config,
            ledger=ledger,
            run_id=run_id,
            chart=alerting.chart_maker(config, lambda: stored_frames(config, ends)),
            already=checked,
        )
    days = {v.goal: v.as_of for v in parsed}
    chart = alerting.chart_maker(config, lambda: stored_frames(config, days))
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
            task_id=ti.task_id,
            reason=_failure(context),
            tries=ti.try_number,
            day=run_as_of(context, config.timezone),
        ):
            send_pending(ledger, choose_delivery(), config=config)  # refusals said as after a run
    except Exception:  # the task's own failure is what Airflow must show
        log.exception("Could not send the 'monitor unhealthy' alert")


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
