"""What each DAG task runs: one function per task, called with the task's Airflow context.

The DAG files stay wiring only; everything they do happens here, and returns small JSON-ready
values for XCom (numbers and names, never a credential).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from goalwatch.config import Config, load_config
from goalwatch.errors import GoalwatchError
from goalwatch.core.periods import as_of_for

__all__ = ["check_data", "check_goals", "digest", "goal_as_of", "ingest", "notify", "pace", "publish", "run_as_of",
           "run_moment", "unhealthy", "watchdog"]

log = logging.getLogger(__name__)


def run_as_of(context: Mapping[str, Any], timezone: str) -> date:
    """The day a run is about in ``timezone``, from the run itself, never from the wall clock.

    In order: the run's logical date; for an asset-triggered run, the newest ``moment`` (the
    producing run's logical date) or else ``as_of`` day carried by the triggering asset events;
    else the run's ``run_after``. An instant becomes the last day that had fully ended at that
    instant in ``timezone``.
    """
    logical = context.get("logical_date")
    if logical is not None:
        return as_of_for(logical, timezone)
    moments: list[datetime] = []
    announced: list[date] = []
    for asset, events in (context.get("triggering_asset_events") or {}).items():
        for event in events:
            extra = event.extra or {}
            if extra.get("moment"):
                moments.append(_parse(datetime.fromisoformat, extra["moment"], asset, "moment", "an ISO 8601 instant"))
            elif extra.get("as_of"):
                announced.append(_parse(date.fromisoformat, extra["as_of"], asset, "as_of", "a date (YYYY-MM-DD)"))
    if moments:
        return as_of_for(max(moments), timezone)
    if announced:
        return max(announced)
    return as_of_for(context["dag_run"].run_after, timezone)


def _parse(parse: Any, value: Any, asset: Any, key: str, what: str) -> Any:
    try:
        parsed = parse(str(value))
    except ValueError:
        name = getattr(asset, "name", None) or getattr(asset, "uri", None) or asset
        raise GoalwatchError(f"asset event for {name}: extra.{key}: {value!r} is not {what}") from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        name = getattr(asset, "name", None) or asset
        raise GoalwatchError(f"asset event for {name}: extra.{key}: {value!r} has no UTC offset")
    return parsed


def goal_as_of(context: Mapping[str, Any], config: Config) -> dict[str, str]:
    """Each goal's as-of day (goals may live in different time zones), as ISO dates for XCom."""
    return {g.name: run_as_of(context, config.timezone_of(g)).isoformat() for g in config.goals}


def ingest(metric: str, context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """Pull one metric from its source into the store."""
    from goalwatch.data.sources import read_metric
    from goalwatch.data.store import Store

    config = config or load_config()
    as_of = run_as_of(context, config.timezone)
    frame = read_metric(config, metric)
    rows = Store().replace_metric(metric, frame, as_of=as_of, run_id=context.get("run_id"))
    log.info("Stored %d rows of %s (as of %s)", rows, metric, as_of)
    moment = context.get("logical_date") or context["dag_run"].run_after
    return {"metric": metric, "as_of": as_of.isoformat(), "moment": moment.isoformat(), "rows": rows}


def publish(summaries: list[Mapping[str, Any]], context: Mapping[str, Any]) -> None:
    """Put each ingest's summary (its as-of day and row count) on its metric's asset event."""
    from goalwatch.runtime.assets import metric_asset

    for summary in summaries:
        context["outlet_events"][metric_asset(summary["metric"])].extra = dict(summary)


def _frames(config: Config, as_of: Mapping[str, str]) -> dict[str, Any]:
    from goalwatch.pipeline import until
    from goalwatch.data.store import Store

    store = Store()
    latest = max(date.fromisoformat(d) for d in as_of.values())
    return {m: until(store.metric_frame(m, config.metric(m).dimensions), latest) for m in _metrics(config)}


def _metrics(config: Config) -> list[str]:
    return sorted({m for g in config.goals for m in (g.metric, g.denominator) if m})


def _days(as_of: Mapping[str, str]) -> dict[str, date]:
    return {goal: date.fromisoformat(day) for goal, day in as_of.items()}


def check_data(as_of: Mapping[str, str], *, config: Config | None = None,
               moment: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Run each metric's data-quality suite on the stored data as of the run's day; a day that
    has not arrived is late once ``moment`` (the run's instant) is past its deadline."""
    from goalwatch.pipeline import check_data as check
    from goalwatch.data.store import Store

    config = config or load_config()
    versions = Store().versions(_metrics(config))
    frames = _frames(config, as_of)
    latest = max(date.fromisoformat(d) for d in as_of.values())
    reports = {m: dataclasses.replace(check(config, m, frame, as_of=latest, moment=moment), version=versions[m])
               for m, frame in frames.items()}
    for report in reports.values():
        if not report.success:
            log.warning("Data for %s failed: %s", report.metric, "; ".join(f.describe() for f in report.findings))
        elif report.through:
            log.info("Data for %s is complete through %s; later days are not due yet", report.metric, report.through)
    return {m: r.to_dict() for m, r in reports.items()}


def pace(as_of: Mapping[str, str], reports: Mapping[str, Mapping[str, Any]], *,
         config: Config | None = None) -> list[dict[str, Any]]:
    """Actual, expected-to-date, forecast and interval for every goal's (and segment's) period."""
    from goalwatch.pipeline import pace_goals
    from goalwatch.core.findings import Finding, QualityReport
    from goalwatch.data.store import Store

    config = config or load_config()
    parsed = {m: QualityReport.from_dict(r) for m, r in reports.items()}
    frames = _frames(config, as_of)
    # An ingest that landed after check_data replaced rows no check has seen: no verdict on them
    # here; the evaluate run that ingest's asset event starts gives it.
    for metric, version in Store().versions(parsed).items():
        if version != parsed[metric].version:
            log.warning("%s was re-ingested after its data checks; its goals wait for the next run", metric)
            stale = Finding(expectation="re-ingested after its data checks; the next evaluate run gives the verdict",
                            column=None, unexpected=0)
            parsed[metric] = dataclasses.replace(parsed[metric], findings=(stale,))
    return [v.to_dict() for v in pace_goals(config, frames, _days(as_of), parsed)]


def check_goals(verdicts: list[Mapping[str, Any]], *, config: Config | None = None) -> list[dict[str, Any]]:
    """Validate pace and forecast with the GX goal checks and decide each status."""
    from goalwatch.pipeline import statuses
    from goalwatch.core.verdicts import Verdict

    config = config or load_config()
    decided = statuses([Verdict.from_dict(v) for v in verdicts], config)
    for v in decided:
        log.info("%s: %s (%.1f%% of pace, forecast %.1f%% of target, %.0f%% chance of missing)", v.key,
                 v.status, 100 * v.pace_ratio, 100 * v.forecast_ratio, 100 * v.miss_probability)
    return [v.to_dict() for v in decided]


def charts_for(config: Config, frames: Any) -> Any:
    """A chart maker for ``alerts.plan``: PNG bytes of a verdict's chart; the frames are read once,
    on the first chart asked for."""
    from functools import cache

    from goalwatch.alerting.render.charts import render_chart
    from goalwatch.pipeline import chart_data

    read = cache(frames)

    def chart(verdict: Any) -> bytes | None:
        data = chart_data(config, read(), verdict)
        return None if data is None else render_chart(data)

    return chart


def notify(
    verdicts: list[Mapping[str, Any]],
    reports: Mapping[str, Mapping[str, Any]],
    *,
    config: Config | None = None,
    run_id: str | None = None,
    moment: datetime | None = None,
) -> dict[str, Any]:
    """Plan what is new in the alert ledger, then send every pending Slack call (this run's and any
    a failed run left behind). Fails, after recording everything, if a call could not be made."""
    from goalwatch.alerting.plan import plan
    from goalwatch.alerting.delivery import choose_delivery, deliver
    from goalwatch.errors import DeliveryError
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.core.findings import QualityReport
    from goalwatch.core.verdicts import Verdict

    config = config or load_config()
    ledger = Ledger()
    parsed = [Verdict.from_dict(v) for v in verdicts]
    days = {v.goal: v.as_of.isoformat() for v in parsed}
    planned = plan(parsed, [QualityReport.from_dict(r) for r in reports.values()], config=config, ledger=ledger,
                   run_id=run_id, chart=charts_for(config, lambda: _frames(config, days)))
    outcome = deliver(ledger, choose_delivery())
    log.info("Sent %d Slack call(s); %d waiting", len(outcome["sent"]), len(outcome["waiting"]))
    if outcome["failed"]:
        raise DeliveryError("; ".join(outcome["failed"]) + " (kept pending for the next attempt)")
    if moment is not None:
        ledger.beat("evaluate", moment=moment, run_id=run_id)
    return {"planned": planned, **outcome}


def run_moment(context: Mapping[str, Any]) -> datetime:
    """The instant a run stands for: its logical date, else its ``run_after``."""
    return context.get("logical_date") or context["dag_run"].run_after


def watchdog(context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """Dead-man's switch: alert when no evaluation has succeeded within ``watchdog_hours`` of this
    run's moment, once per day; and say "data late" for a metric whose stored data stops before
    a day past its deadline, once per metric and day (as the evaluate run would)."""
    from datetime import timedelta

    from goalwatch.alerting.delivery import choose_delivery, deliver
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.render.messages import render_unhealthy

    config = config or load_config()
    moment = run_moment(context)
    ledger = Ledger()
    last = ledger.last_beat("evaluate")
    try:
        late = _late_data(config, ledger, moment)
    except Exception:  # e.g. a suite file GX cannot read: the switch below must still work
        log.exception("Could not check the stored data for late days")
        late = []
    if last is not None and moment - last <= timedelta(hours=config.watchdog_hours):
        outcome = deliver(ledger, choose_delivery()) if late else {}
        return {"healthy": True, "last_evaluation": last.isoformat(), "late": late, **outcome}
    day = as_of_for(moment, config.timezone)
    key = f"watchdog.{day.isoformat()}"
    since = f"since {last.isoformat()}" if last else "yet"
    reason = f"no evaluation has succeeded {since} (the watchdog allows {config.watchdog_hours} hours)"
    payload = render_unhealthy(dag_id="goalwatch_evaluate", task_id="notify", reason=reason,
                               channel=config.default_channel, as_of=day.isoformat(), tries=0)
    with ledger.engine.begin() as conn:
        ledger.post_once(conn, key=key, channel=config.default_channel, payloads=[payload], as_of=day)
    outcome = deliver(ledger, choose_delivery())
    return {"healthy": False, "reason": reason, "late": late, **outcome}


def _late_data(config: Config, ledger: Any, moment: datetime) -> list[str]:
    """Data late, found from the store without waiting for an evaluate run: a source that stopped
    sending starts none. Plans the same alert (same key) the evaluate run would."""
    from goalwatch.alerting.plan import data_alert
    from goalwatch.pipeline import check_data as check

    # The day the evaluate run would check the data as of (the latest of the goals' days).
    as_of = goal_as_of({"logical_date": moment}, config)
    day = max(date.fromisoformat(d) for d in as_of.values())
    planned = []
    with ledger.engine.begin() as conn:
        for metric, frame in _frames(config, as_of).items():
            report = check(config, metric, frame, as_of=day, moment=moment)
            late = tuple(f for f in report.findings if f.late)
            if not late:
                continue
            goals = [g.name for g in config.goals if metric in (g.metric, g.denominator)]
            key = data_alert(conn, ledger, dataclasses.replace(report, findings=late), goals=goals, config=config,
                             as_of=day)
            if key is not None:
                planned.append(key)
    return planned


def digest(context: Mapping[str, Any], *, config: Config | None = None) -> dict[str, Any]:
    """The weekly digest: every goal's status, pace and forecast to each channel, with the chart of
    its goal furthest behind; once per channel and day (a rerun sends nothing new)."""
    import base64

    from goalwatch.alerting.render.charts import render_chart
    from goalwatch.alerting.delivery import choose_delivery, deliver
    from goalwatch.alerting.render.digest import render_digest
    from goalwatch.pipeline import chart_data, evaluate
    from goalwatch.alerting.ledger import Ledger

    config = config or load_config()
    as_of = goal_as_of(context, config)
    frames = _frames(config, as_of)
    verdicts = [v for v in evaluate(config, frames, _days(as_of), moment=run_moment(context)) if v.segment is None]
    ledger = Ledger()
    planned = []
    with ledger.engine.begin() as conn:
        for channel in sorted({v.channel for v in verdicts}):
            mine = [v for v in verdicts if v.channel == channel]
            day = max(v.as_of for v in mine)
            key = f"digest.{channel.strip('#')}.{day.isoformat()}"
            parent = ledger.post_once(conn, key=key, channel=channel, as_of=day,
                                      payloads=render_digest(mine, channel=channel, as_of=day))
            if parent is None:
                continue
            # The chart of the goal furthest behind; never one drawn from data that failed its checks.
            judged = [v for v in mine if v.status != "data_issue"]
            worst = min(judged, key=lambda v: (v.status not in ("missed", "off_track", "at_risk"), v.pace_ratio),
                        default=None)
            data = chart_data(config, frames, worst) if worst is not None else None
            if data is not None:
                png = render_chart(data)
                ledger.add_intent(conn, kind="upload", message_id=parent, key=f"{key}.chart", as_of=day,
                                  payload={"filename": f"digest-{channel.strip('#')}-{day.isoformat()}.png",
                                           "title": f"{worst.label} — {worst.period_label}",
                                           "content": base64.b64encode(png).decode()})
            planned.append(key)
    outcome = deliver(ledger, choose_delivery())
    if outcome["failed"]:
        from goalwatch.errors import DeliveryError

        raise DeliveryError("; ".join(outcome["failed"]) + " (kept pending for the next attempt)")
    return {"digests": planned, **outcome}


def unhealthy(context: Mapping[str, Any], *, config: Config | None = None) -> None:
    """A task failed for good (after its retries): tell the data owners the monitor is unhealthy,
    once per task and day (an ingest task's metric's owners, else the default channel). Called as
    the ingest and evaluate tasks' ``on_failure_callback``; never raises, so a Slack outage cannot
    hide the task's own error."""
    from goalwatch.alerting.delivery import choose_delivery, deliver
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.render.messages import render_unhealthy

    try:
        config = config or load_config()
        ti = context["task_instance"]
        error = context.get("exception")
        reason = str(error) if isinstance(error, GoalwatchError) else type(error).__name__ if error else "failed"
        if type(error).__name__ == "AirflowTaskTimeout":
            limit = getattr(context.get("task") or getattr(ti, "task", None), "execution_timeout", None)
            reason = f"timed out after {limit.total_seconds():.0f} s" if limit else "timed out"
        metric = ti.task_id.removeprefix("ingest_")
        channel = (config.metrics[metric].owner_channel if metric in config.metrics else None) or config.default_channel
        day = run_as_of(context, config.timezone)
        key = f"unhealthy.{ti.dag_id}.{ti.task_id}.{day.isoformat()}"
        ledger = Ledger()
        payload = render_unhealthy(dag_id=ti.dag_id, task_id=ti.task_id, reason=reason, channel=channel,
                                   as_of=day.isoformat(), tries=ti.try_number)
        with ledger.engine.begin() as conn:
            if ledger.post_once(conn, key=key, channel=channel, payloads=[payload], as_of=day) is None:
                return
        deliver(ledger, choose_delivery())
    except Exception:  # the task's own failure is what Airflow must show
        log.exception("Could not send the 'monitor unhealthy' alert")
