"""The evaluate path, step by step: data quality, pacing, goal checks, status.

The evaluate DAG calls one step per task; ``goalwatch evaluate`` calls ``evaluate`` which runs
them in the same order. Nothing here reads the clock: the as-of day is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from goalwatch.config import Config
from goalwatch.pacing import Verdict, decide_status, pace
from goalwatch.validation import (
    QualityReport,
    check_goals,
    data_quality_suite,
    goal_checks_suite,
    load_suite,
    validate_data,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_data", "evaluate", "expectations_dir", "pace_goals", "statuses", "until"]


def expectations_dir(config: Config) -> Path:
    """``expectations/`` beside the folder that holds goals.yml (``config/../expectations``)."""
    return config.base_dir.parent / "expectations"


def check_data(config: Config, metric: str, frame: pd.DataFrame) -> QualityReport:
    suite = load_suite(
        expectations_dir(config),
        f"data_quality/{metric}.json",
        data_quality_suite(metric, config.metric(metric)),
    )
    return validate_data(metric, frame, suite)


def pace_goals(
    config: Config,
    frames: Mapping[str, pd.DataFrame],
    as_of: date,
    reports: Mapping[str, QualityReport],
) -> list[Verdict]:
    """Numbers for every goal; a goal whose metric failed its data checks gets ``data_issue``."""
    totals = {name: _daily_totals(frame, as_of) for name, frame in frames.items()}
    verdicts = []
    for goal in config.goals:
        metric = config.metric(goal.metric)
        verdict = pace(
            goal=goal.name,
            label=goal.label,
            metric=goal.metric,
            unit=metric.unit,
            period=goal.period,
            target=goal.target,
            warn_below=goal.warn_below,
            critical_below=goal.critical_below,
            channel=config.channel_for(goal),
            daily=totals[goal.metric],
            as_of=as_of,
        )
        report = reports[goal.metric]
        if not report.success:
            failed = "; ".join(f.describe() for f in report.findings)
            verdict = verdict.with_status("data_issue", note=f"data checks failed: {failed}")
        verdicts.append(verdict)
    return verdicts


def statuses(verdicts: list[Verdict], config: Config) -> list[Verdict]:
    """Run the goal checks (GX) on the verdicts still pending and decide their status."""
    suite = load_suite(expectations_dir(config), "goal_checks.json", goal_checks_suite())
    pending = [v for v in verdicts if v.status == "pending"]
    flags = check_goals(pending, suite) if pending else {}
    out = []
    for verdict in verdicts:
        if verdict.status == "pending":
            f = flags[verdict.goal]
            verdict = decide_status(
                verdict,
                below_critical=f.below_critical,
                below_warning=f.below_warning,
                forecast_short=f.forecast_short,
            )
        out.append(verdict)
    return out


def evaluate(config: Config, frames: Mapping[str, pd.DataFrame], as_of: date) -> list[Verdict]:
    """Every goal as of ``as_of``: data checks, pacing, goal checks, status."""
    used = {goal.metric for goal in config.goals}
    # Data after the as-of day does not exist yet from the run's point of view.
    visible = {m: until(frames[m], as_of) for m in used}
    reports = {m: check_data(config, m, visible[m]) for m in used}
    return statuses(pace_goals(config, visible, as_of, reports), config)


def until(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    import pandas as pd

    # Rows without a day stay: the data checks must see them.
    return frame[frame["day"].map(lambda d: pd.isna(d) or d <= as_of).astype(bool)]


def _daily_totals(frame: pd.DataFrame, as_of: date) -> dict[date, float]:
    rows = frame.dropna(subset=["day", "value"])
    rows = rows[rows["day"] <= as_of]
    return {d: float(v) for d, v in rows.groupby("day")["value"].sum().items()}
