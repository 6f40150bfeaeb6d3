"""The evaluate path, step by step: data checks, pacing and forecast, goal checks, status.

The evaluate DAG's tasks (``runtime.tasks``) call one step each; ``goalwatch evaluate`` and
``replay`` call :func:`evaluate`, which runs them in the same order; :func:`judge_period_ends`
runs them as of the last days of periods whose final verdict catches up. Nothing here reads the
clock: the as-of day is passed in, per goal where goals live in different time zones. The numbers
come from ``core.pacing``, the checks from ``checks``; this module decides which data may be
judged and where the suites are read from.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalwatch.checks.goals import decide_statuses, load_goal_checks
from goalwatch.checks.quality import data_quality_suite, merge_suite, validate_data
from goalwatch.checks.suites import load_suite
from goalwatch.config import Config, Goal
from goalwatch.core.chart import ChartData
from goalwatch.core.findings import Finding, QualityReport
from goalwatch.core.pacing import Matrices, chart_series, pace_batch
from goalwatch.core.verdicts import Verdict
from goalwatch.data.store import Store

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AsOf",
    "as_of_of",
    "chart_data",
    "check_data",
    "check_stored",
    "deadline",
    "evaluate",
    "expectations_dir",
    "judge_period_ends",
    "latest_day",
    "pace_goals",
    "pace_stored",
    "replay",
    "statuses",
    "stored_frames",
    "until",
]

log = logging.getLogger(__name__)


def expectations_dir(config: Config) -> Path:
    """``expectations/`` beside the folder that holds goals.yml (``config/../expectations``)."""
    return config.base_dir.parent / "expectations"


def check_data(
    config: Config, metric: str, frame: pd.DataFrame, *, as_of: date | None = None, moment: datetime | None = None
) -> QualityReport:
    """Run the metric's data-quality suite on its rows as of the run's day; without a ``moment``
    (a replay, the CLI) a day missing at the end is late at once."""
    default = data_quality_suite(metric, config.metric(metric))
    # The file as edited, brought up to date with goals.yml (see quality.merge_suite).
    suite, _, _ = merge_suite(load_suite(expectations_dir(config), f"data_quality/{metric}.json", default), default)
    return validate_data(
        metric,
        frame,
        suite,
        as_of=as_of,
        moment=moment,
        timezone=config.timezone,
        deadline=lambda day: deadline(config, metric, day),
    )


def deadline(config: Config, metric: str, day: date) -> datetime:
    """When a day's data is late: ``late_after_hours`` after the day ended in the config's time zone."""
    _, ended = config.calendar.window("day", day, config.timezone)
    # Real hours, counted in UTC: on the night clocks change, wall-clock arithmetic is an hour off.
    return (ended.astimezone(UTC) + timedelta(hours=config.metric(metric).late_after_hours)).astimezone(ended.tzinfo)


AsOf = date | Mapping[str, date]


def as_of_of(as_of: AsOf, goal: Goal) -> date:
    return as_of if isinstance(as_of, date) else as_of[goal.name]


def pace_goals(
    config: Config, frames: Mapping[str, pd.DataFrame], as_of: AsOf, reports: Mapping[str, QualityReport]
) -> list[Verdict]:
    """Numbers for every goal and segment. A goal on data that failed its checks gets a
    ``data_issue`` verdict without numbers: nothing is computed from data that is not trusted. A
    goal whose data is complete only through an earlier day (the run's day not due yet) is
    judged as of that day."""
    days: dict[str, date] = {}
    trusted, untrusted = [], []
    for goal in config.goals:
        used = [reports[m] for m in goal.uses]
        day = min([as_of_of(as_of, goal), *(date.fromisoformat(r.through) for r in used if r.through)])
        days[goal.name] = day
        (trusted if all(r.success for r in used) else untrusted).append(goal)
    clean = config.metrics_for(trusted)
    matrices = Matrices({m: f for m, f in frames.items() if m in clean}, last=max(days.values()))
    batches: dict[tuple[Any, ...], list[Goal]] = {}
    for goal in trusted:
        batches.setdefault((goal.kind, goal.period, goal.pacing, days[goal.name]), []).append(goal)
    by_goal: dict[str, list[Verdict]] = {}
    for (kind, period, pacing, day), goals in batches.items():
        for verdict in pace_batch(
            goals,
            matrices,
            calendar=config.calendar,
            kind=kind,
            period=period,
            pacing=pacing,
            as_of=day,
            unit_of=config.unit_of,
            channel_of=config.channel_for,
        ):
            by_goal.setdefault(verdict.goal, []).append(verdict)
    for goal in untrusted:
        failed = [reports[m] for m in goal.uses if not reports[m].success]
        found = "; ".join(f.describe() for r in failed for f in r.findings)
        # The run's own day, not an earlier one its data is complete through: the day the alert is about.
        untrusted_verdict = _untrusted(config, goal, as_of_of(as_of, goal))
        by_goal[goal.name] = [untrusted_verdict.with_status("data_issue", note=f"data checks failed: {found}")]
    return [v for goal in config.goals for v in by_goal[goal.name]]


def _untrusted(config: Config, goal: Goal, as_of: date) -> Verdict:
    """A goal's verdict without numbers (its data failed its checks)."""
    start, end = config.calendar.bounds(goal.period, as_of)
    nan = float("nan")
    return Verdict(
        as_of=as_of,
        goal=goal.name,
        label=goal.label,
        metric=goal.metric,
        unit=config.unit_of(goal),
        period=goal.period,
        period_label=config.calendar.label(goal.period, start),
        period_start=start,
        period_end=end,
        target=goal.target_for(start),
        actual_to_date=nan,
        expected_to_date=nan,
        pace_ratio=nan,
        forecast=nan,
        forecast_low=nan,
        forecast_high=nan,
        miss_probability=nan,
        channel=config.channel_for(goal),
        kind=goal.kind,
        denominator=goal.denominator,
        pacing=goal.pacing,
        warn_below=goal.warn_below,
        critical_below=goal.critical_below,
        confidence=goal.confidence,
        interval=goal.interval,
        hysteresis=goal.hysteresis,
    )


def statuses(verdicts: list[Verdict], config: Config) -> list[Verdict]:
    """Run the goal checks (GX) on today's numbers and decide each pending verdict's status."""
    return decide_statuses(verdicts, load_goal_checks(expectations_dir(config)))


def evaluate(
    config: Config, frames: Mapping[str, pd.DataFrame], as_of: AsOf, *, moment: datetime | None = None
) -> list[Verdict]:
    """Every goal as of ``as_of``: data checks, pacing and forecast, goal checks, status.

    ``moment`` is the instant of the run, for the data's deadlines (see ``check_data``)."""
    return _judge(config, frames, as_of, moment=moment)[0]


def _judge(
    config: Config, frames: Mapping[str, pd.DataFrame], as_of: AsOf, *, moment: datetime | None
) -> tuple[list[Verdict], dict[str, QualityReport]]:
    """:func:`evaluate`'s verdicts with the data checks' reports they were judged on."""
    used = config.metrics_for()
    latest = as_of if isinstance(as_of, date) else max(as_of.values())
    # Data after the as-of day does not exist yet from the run's point of view.
    visible = {m: until(frames[m], latest) for m in used}
    reports = {m: check_data(config, m, visible[m], as_of=latest, moment=moment) for m in used}
    return statuses(pace_goals(config, visible, as_of, reports), config), reports


def judge_period_ends(
    config: Config,
    frames: Mapping[str, pd.DataFrame],
    ends: Mapping[str, date],
    *,
    moment: datetime | None = None,
) -> tuple[list[Verdict], list[QualityReport]]:
    """Each goal's period that ended on its day in ``ends``, judged as of that day exactly as a run
    of that day would (the data up to it, its data checks as of it and ``moment``), for the final
    verdicts that catch up (``alerting.catch_up``).

    A goal's verdicts (its segments' with its total's) are kept when its total closed: ``achieved``
    or ``missed``, or ``data_issue`` when its data failed its checks (no verdict on untrusted or
    missing data); with the reports that failed. A goal whose last days are still arriving (not
    past their deadline at ``moment``) is judged as of an earlier day, which closes nothing: it
    gives nothing here, and a later run judges it."""
    by_day: dict[date, list[str]] = {}
    for goal, day in ends.items():
        by_day.setdefault(day, []).append(goal)
    verdicts: list[Verdict] = []
    failed: list[QualityReport] = []
    for day in sorted(by_day):
        only = config.model_copy(update={"goals": tuple(config.goal(g) for g in by_day[day])})
        judged, reports = _judge(only, frames, day, moment=moment)
        closed = {v.goal for v in judged if v.segment is None and v.closed}
        verdicts += [v for v in judged if v.goal in closed]
        failed += [r for r in reports.values() if not r.success]
    return verdicts, failed


def replay(
    config: Config,
    frames: Mapping[str, pd.DataFrame],
    goal: str | None,
    first: date,
    last: date,
    *,
    each_day: Callable[[list[Verdict]], None] | None = None,
) -> list[Verdict]:
    """The goal's (or, with ``goal`` None, every goal's) verdict as of each day from ``first`` to
    ``last``, each from the data known that day: when did a miss first become predictable?
    ``each_day`` receives each day's verdicts (segments included), e.g. to send its alerts."""
    only = config if goal is None else config.model_copy(update={"goals": (config.goal(goal),)})
    out = []
    day = first
    while day <= last:
        verdicts = evaluate(only, frames, day)
        if each_day is not None:
            each_day(verdicts)
        out += [v for v in verdicts if v.segment is None]
        day += timedelta(days=1)
    return out


def chart_data(config: Config, frames: Mapping[str, pd.DataFrame], verdict: Verdict) -> ChartData | None:
    """What the chart of a goal's total shows on the verdict's day (None for ratio goals)."""
    return chart_series(config.goal(verdict.goal), frames, verdict, calendar=config.calendar)


def until(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    import pandas as pd

    # Rows without a day stay: the data checks must see them (so does a frame without the column).
    if "day" not in frame.columns:
        return frame
    return frame[frame["day"].map(lambda d: pd.isna(d) or d <= as_of).astype(bool)]


# -- the evaluate DAG's steps on the store -----------------------------------------------------

REINGESTED = "re-ingested after its data checks; the next evaluate run gives the verdict"


def latest_day(as_of: Mapping[str, date]) -> date:
    """The newest of the goals' days: what the data is checked as of."""
    return max(as_of.values())


def stored_frames(
    config: Config, as_of: Mapping[str, date], *, store: Store | None = None, metrics: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Each metric the goals use (or each of ``metrics``), from the store, up to the newest of the
    goals' days."""
    store = store or Store()
    last = latest_day(as_of)
    names = metrics if metrics is not None else config.metrics_for()
    return {m: until(store.metric_frame(m, config.metric(m).dimensions), last) for m in names}


def check_stored(
    config: Config,
    as_of: Mapping[str, date],
    *,
    moment: datetime | None = None,
    store: Store | None = None,
    metrics: list[str] | None = None,
) -> dict[str, QualityReport]:
    """Each metric's (or each of ``metrics``') data checks on the stored rows, each report naming
    the ingest it checked."""
    store = store or Store()
    metrics = metrics if metrics is not None else config.metrics_for()
    versions = store.versions(metrics)
    last = latest_day(as_of)
    reports = {
        m: dataclasses.replace(check_data(config, m, frame, as_of=last, moment=moment), version=versions[m])
        for m, frame in stored_frames(config, as_of, store=store, metrics=metrics).items()
    }
    for report in reports.values():
        if not report.success:
            log.warning("Data for %s failed: %s", report.metric, "; ".join(f.describe() for f in report.findings))
        elif report.through:
            log.info("Data for %s is complete through %s; later days are not due yet", report.metric, report.through)
    return reports


def pace_stored(
    config: Config, as_of: Mapping[str, date], reports: Mapping[str, QualityReport], *, store: Store | None = None
) -> list[Verdict]:
    """``pace_goals`` on the stored rows. An ingest that landed after the data checks replaced rows
    no check has seen: its goals get no verdict here; the evaluate run its asset event starts does."""
    store = store or Store()
    checked = dict(reports)
    for metric, version in store.versions(checked).items():
        if version != checked[metric].version:
            log.warning("%s was re-ingested after its data checks; its goals wait for the next run", metric)
            stale = Finding(expectation=REINGESTED, column=None, unexpected=0)
            checked[metric] = dataclasses.replace(checked[metric], findings=(stale,))
    return pace_goals(config, stored_frames(config, as_of, store=store), as_of, checked)
