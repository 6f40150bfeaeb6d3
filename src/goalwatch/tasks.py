"""What each DAG task runs: one function per task, called with the task's Airflow context.

The DAG files stay wiring only; everything they do happens here, and returns small JSON-ready
values for XCom (numbers and names, never a credential).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from goalwatch.config import Config, load_config
from goalwatch.periods import as_of_for

__all__ = ["check_data", "check_goals", "ingest", "notify", "pace", "publish", "run_as_of"]

log = logging.getLogger(__name__)



def run_as_of(context: Mapping[str, Any], timezone: str) -> date:
    """The day a run is about, from the run itself, never from the wall clock.

    In order: the run's logical date; for an asset-triggered run, the newest ``as_of`` carried by
    the triggering asset events; else the run's ``run_after``. Each instant becomes the last day
    that had fully ended at that instant in the config's time zone.
    """
    logical = context.get("logical_date")
    if logical is not None:
        return as_of_for(logical, timezone)
    announced = [
        date.fromisoformat(str(event.extra["as_of"]))
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
        if (event.extra or {}).get("as_of")
    ]
    if announced:
        return max(announced)
    return as_of_for(context["dag_run"].run_after, timezone)


def ingest(metric: str, context: Mapping[str, Any], config: Config | None = None) -> dict[str, Any]:
    """Pull one metric from its source into the store."""
    from goalwatch.sources import read_metric
    from goalwatch.store import Store

    config = config or load_config()
    as_of = run_as_of(context, config.timezone)
    frame = read_metric(config, metric)
    rows = Store().replace_metric(
        metric, frame, config.metric(metric).dimensions, as_of=as_of, run_id=context.get("run_id")
    )
    log.info("Stored %d rows of %s (as of %s)", rows, metric, as_of)
    return {"metric": metric, "as_of": as_of.isoformat(), "rows": rows}


def publish(summaries: list[Mapping[str, Any]], context: Mapping[str, Any]) -> None:
    """Put each ingest's summary (its as-of day and row count) on its metric's asset event."""
    from goalwatch.assets import metric_asset

    for summary in summaries:
        context["outlet_events"][metric_asset(summary["metric"])].extra = dict(summary)


def _frames(config: Config, as_of: date) -> dict[str, Any]:
    from goalwatch.evaluation import until
    from goalwatch.store import Store

    store = Store()
    used = sorted({goal.metric for goal in config.goals})
    return {m: until(store.metric_frame(m, config.metric(m).dimensions), as_of) for m in used}


def check_data(as_of: str, config: Config | None = None) -> dict[str, dict[str, Any]]:
    """Run each metric's data-quality suite on the stored data; reports by metric."""
    from goalwatch.evaluation import check_data as check

    config = config or load_config()
    frames = _frames(config, date.fromisoformat(as_of))
    reports = {m: check(config, m, frame) for m, frame in frames.items()}
    for report in reports.values():
        if not report.success:
            log.warning("Data for %s failed: %s", report.metric, "; ".join(f.describe() for f in report.findings))
    return {m: r.to_dict() for m, r in reports.items()}


def pace(as_of: str, reports: Mapping[str, Mapping[str, Any]], config: Config | None = None) -> list[dict[str, Any]]:
    """Actual, expected-to-date and forecast for every goal's current period."""
    from goalwatch.evaluation import pace_goals
    from goalwatch.validation import QualityReport

    config = config or load_config()
    day = date.fromisoformat(as_of)
    parsed = {m: QualityReport.from_dict(r) for m, r in reports.items()}
    return [v.to_dict() for v in pace_goals(config, _frames(config, day), day, parsed)]


def check_goals(verdicts: list[Mapping[str, Any]], config: Config | None = None) -> list[dict[str, Any]]:
    """Validate pace and forecast with the GX goal checks and decide each status."""
    from goalwatch.evaluation import statuses
    from goalwatch.pacing import Verdict

    config = config or load_config()
    decided = statuses([Verdict.from_dict(v) for v in verdicts], config)
    for v in decided:
        log.info("%s: %s (%.1f%% of pace, forecast %.1f%% of target)", v.goal, v.status,
                 100 * v.pace_ratio, 100 * v.forecast_ratio)
    return [v.to_dict() for v in decided]


def notify(
    verdicts: list[Mapping[str, Any]],
    reports: Mapping[str, Mapping[str, Any]],
    config: Config | None = None,
) -> dict[str, Any]:
    """Send what is new: one alert per goal, period and status, and one per data issue."""
    from goalwatch.alerts import send_alerts
    from goalwatch.delivery import choose_delivery
    from goalwatch.pacing import Verdict
    from goalwatch.store import Store
    from goalwatch.validation import QualityReport

    config = config or load_config()
    return send_alerts(
        [Verdict.from_dict(v) for v in verdicts],
        [QualityReport.from_dict(r) for r in reports.values()],
        config=config,
        store=Store(),
        delivery=choose_delivery(),
    )
