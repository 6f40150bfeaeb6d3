"""The evaluate path, step by step: data quality, pacing and forecast, goal checks, status.

The evaluate DAG calls one step per task; ``goalwatch evaluate`` and ``replay`` call
:func:`evaluate`, which runs them in the same order. Nothing here reads the clock: the as-of day
is passed in, per goal where goals live in different time zones.

Goals that share kind, period, pacing and as-of day are evaluated together: each goal contributes
one row per segment (and, with segments, one row for its total, the sum of them) to one numpy
panel, so ten thousand series cost about as much as one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from goalwatch.config import Config, Goal
from goalwatch.core.forecast import Panel, Projection, project
from goalwatch.core.status import enter_levels, scan, stay_levels
from goalwatch.checks.quality import QualityReport, data_quality_suite, merge_suite, validate_data
from goalwatch.checks.suites import check_goals, goal_checks_suite, load_suite
from goalwatch.core.verdicts import Verdict

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["chart_data", "check_data", "deadline", "evaluate", "expectations_dir", "explain", "pace_goals", "replay", "statuses", "until"]

EXPLAIN_SHARE = 0.8  # name the segments that together explain this much of the gap
EXPLAIN_MAX = 3


def expectations_dir(config: Config) -> Path:
    """``expectations/`` beside the folder that holds goals.yml (``config/../expectations``)."""
    return config.base_dir.parent / "expectations"


def check_data(config: Config, metric: str, frame: pd.DataFrame, *, as_of: date | None = None,
               moment: datetime | None = None) -> QualityReport:
    """Run the metric's data-quality suite on its rows as of the run's day; without a ``moment``
    (a replay, the CLI) a day missing at the end is late at once."""
    default = data_quality_suite(metric, config.metric(metric))
    # The file as edited, brought up to date with goals.yml (see quality.merge_suite).
    suite, _, _ = merge_suite(load_suite(expectations_dir(config), f"data_quality/{metric}.json", default), default)
    return validate_data(metric, frame, suite, as_of=as_of, moment=moment, timezone=config.timezone,
                         deadline=lambda day: deadline(config, metric, day))


def deadline(config: Config, metric: str, day: date) -> datetime:
    """When a day's data is late: ``late_after_hours`` after the day ended in the config's time zone."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(config.timezone)
    ended = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(ZoneInfo("UTC"))
    # Real hours, counted in UTC: on the night clocks change, wall-clock arithmetic is an hour off.
    return (ended + timedelta(hours=config.metric(metric).late_after_hours)).astimezone(zone)


AsOf = date | Mapping[str, date]


def as_of_of(as_of: AsOf, goal: Goal) -> date:
    return as_of if isinstance(as_of, date) else as_of[goal.name]


def pace_goals(config: Config, frames: Mapping[str, pd.DataFrame], as_of: AsOf,
               reports: Mapping[str, QualityReport]) -> list[Verdict]:
    """Numbers for every goal and segment. A goal on data that failed its checks gets a
    ``data_issue`` verdict without numbers: nothing is computed from data that is not trusted. A
    goal whose data is complete only through an earlier day (the run's day not due yet) is
    judged as of that day."""
    days: dict[str, date] = {}
    trusted, untrusted = [], []
    for goal in config.goals:
        used = [reports[m] for m in (goal.metric, goal.denominator) if m]
        day = min([as_of_of(as_of, goal), *(date.fromisoformat(r.through) for r in used if r.through)])
        days[goal.name] = day
        (trusted if all(r.success for r in used) else untrusted).append(goal)
    clean = {m for g in trusted for m in (g.metric, g.denominator) if m}
    matrices = _Matrices({m: f for m, f in frames.items() if m in clean}, last=max(days.values()))
    batches: dict[tuple[Any, ...], list[Goal]] = {}
    for goal in trusted:
        batches.setdefault((goal.kind, goal.period, goal.pacing, days[goal.name]), []).append(goal)
    by_goal: dict[str, list[Verdict]] = {}
    for (kind, period, pacing, day), goals in batches.items():
        for verdict in _batch(config, matrices, goals, kind, period, pacing, day):
            by_goal.setdefault(verdict.goal, []).append(verdict)
    for goal in untrusted:
        failed = [reports[m] for m in (goal.metric, goal.denominator) if m and not reports[m].success]
        found = "; ".join(f.describe() for r in failed for f in r.findings)
        # The run's own day, not an earlier one its data is complete through: the day the alert is about.
        untrusted_verdict = _untrusted(config, goal, as_of_of(as_of, goal))
        by_goal[goal.name] = [untrusted_verdict.with_status("data_issue", note=f"data checks failed: {found}")]
    return [v for goal in config.goals for v in by_goal[goal.name]]


def _untrusted(config: Config, goal: Goal, as_of: date) -> Verdict:
    """A goal's verdict without numbers (its data failed its checks)."""
    start, end = config.calendar.bounds(goal.period, as_of)
    nan = float("nan")
    return Verdict(as_of=as_of, goal=goal.name, label=goal.label, metric=goal.metric,
                   unit=None if goal.kind == "ratio" else config.metric(goal.metric).unit, period=goal.period,
                   period_label=config.calendar.label(goal.period, start), period_start=start, period_end=end,
                   target=goal.target_for(start), actual_to_date=nan, expected_to_date=nan, pace_ratio=nan,
                   forecast=nan, forecast_low=nan, forecast_high=nan, miss_probability=nan,
                   channel=config.channel_for(goal), kind=goal.kind, denominator=goal.denominator,
                   pacing=goal.pacing, warn_below=goal.warn_below, critical_below=goal.critical_below,
                   confidence=goal.confidence, interval=goal.interval, hysteresis=goal.hysteresis)


def statuses(verdicts: list[Verdict], config: Config) -> list[Verdict]:
    """Run the goal checks (GX) on today's numbers and decide each pending verdict's status."""
    from goalwatch.core.status import LEVELS

    suite = load_suite(expectations_dir(config), "goal_checks.json", goal_checks_suite())
    pending = [v for v in verdicts if v.status == "pending"]
    flags = check_goals(pending, suite) if pending else {}
    out = []
    for v in verdicts:
        if v.status == "pending":
            if v.closed:
                v = v.with_status("achieved") if v.actual_to_date >= v.target else v.with_status("missed", "critical")
            else:
                f = flags[v.key]
                level = max(f.enter, min(v.prior_level, f.stay))
                v = v.with_status(LEVELS[level][0], f.severity(level))
        out.append(v)
    return out


def evaluate(config: Config, frames: Mapping[str, pd.DataFrame], as_of: AsOf, *,
             moment: datetime | None = None) -> list[Verdict]:
    """Every goal as of ``as_of``: data checks, pacing and forecast, goal checks, status.

    ``moment`` is the instant of the run, for the data's deadlines (see ``check_data``)."""
    used = sorted({m for g in config.goals for m in (g.metric, g.denominator) if m})
    latest = as_of if isinstance(as_of, date) else max(as_of.values())
    # Data after the as-of day does not exist yet from the run's point of view.
    visible = {m: until(frames[m], latest) for m in used}
    reports = {m: check_data(config, m, visible[m], as_of=latest, moment=moment) for m in used}
    return statuses(pace_goals(config, visible, as_of, reports), config)


def replay(config: Config, frames: Mapping[str, pd.DataFrame], goal: str | None, first: date, last: date,
           *, each_day: Callable[[list[Verdict]], None] | None = None) -> list[Verdict]:
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


def chart_data(config: Config, frames: Mapping[str, pd.DataFrame], verdict: Verdict) -> Any:
    """What the chart of a goal's total shows on the verdict's day: cumulative actual against the
    pace for every day of the period, the target and the forecast range. None for ratio goals."""
    from goalwatch.alerting.render.charts import ChartData

    goal = config.goal(verdict.goal)
    if goal.kind == "ratio":
        return None
    calendar = config.calendar
    start, end = verdict.period_start, verdict.period_end
    matrices = _Matrices(frames, last=verdict.as_of)
    rows, num, _, targets = _series(config, matrices, [goal], start, end, verdict.as_of)
    proj = project(Panel(num, matrices.first, "level" if goal.kind == "level" else "sum"), start, end, goal.pacing,
                   calendar, period=goal.period, groups=rows.groups)
    row = len(rows.owner) - 1 if rows.groups is not None else 0
    expected = proj.expected(targets[: rows.series] if rows.groups is not None else targets)[row]
    k = (verdict.as_of - start).days + 1
    days = tuple(start + timedelta(days=i) for i in range(proj.length))
    actual = tuple(float(proj.cum[row, i]) if i < k else None for i in range(proj.length))
    return ChartData(title=f"{verdict.label} — {verdict.period_label}", unit=verdict.unit, kind=verdict.kind,
                     period_start=start, period_end=end, as_of=min(verdict.as_of, end), days=days, actual=actual,
                     expected=tuple(float(x) for x in expected), target=verdict.target, forecast=verdict.forecast,
                     forecast_low=verdict.forecast_low, forecast_high=verdict.forecast_high)


def until(frame: pd.DataFrame, as_of: date) -> pd.DataFrame:
    import pandas as pd

    # Rows without a day stay: the data checks must see them (so does a frame without the column).
    if "day" not in frame.columns:
        return frame
    return frame[frame["day"].map(lambda d: pd.isna(d) or d <= as_of).astype(bool)]


def explain(gaps: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """The segments behind a shortfall: each segment's share of the summed shortfalls, largest
    first, until together they explain EXPLAIN_SHARE of it (at most EXPLAIN_MAX)."""
    behind = sorted(((s, g) for s, g in gaps.items() if g > 0), key=lambda item: -item[1])
    total = sum(g for _, g in behind)
    out: list[tuple[str, float]] = []
    covered = 0.0
    for segment, gap in behind[:EXPLAIN_MAX]:
        out.append((segment, gap / total))
        covered += gap
        if covered >= EXPLAIN_SHARE * total * (1 - 1e-9):
            break
    return tuple(out)


# -- building the panels ------------------------------------------------------------------------


class _Matrices:
    """Daily matrices of each metric split by a set of dimensions, built once and shared."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, last: date) -> None:
        self.frames = frames
        days = [d for f in frames.values() for d in (f["day"].dropna().min(), f["day"].dropna().max())
                if isinstance(d, date)]
        self.first = min(days) if days else last
        self.last = last
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[list[str], np.ndarray]] = {}

    def get(self, metric: str, by: tuple[str, ...]) -> tuple[list[str], np.ndarray]:
        key = (metric, by)
        if key not in self._cache:
            self._cache[key] = _pivot(self.frames[metric], by, self.first, self.last)
        return self._cache[key]


def _pivot(frame: pd.DataFrame, by: tuple[str, ...], first: date, last: date) -> tuple[list[str], np.ndarray]:
    """Rows: segments (values of ``by`` joined by '/'); columns: days; NaN where a day has no row."""
    import pandas as pd

    rows = frame.dropna(subset=["day"])
    stamps = pd.to_datetime(rows["day"]).to_numpy().astype("datetime64[D]")
    days = (stamps - np.datetime64(first, "D")).astype(np.int64)
    keep = (days >= 0) & (days <= (last - first).days)
    rows, days = rows[keep], days[keep]
    if by:
        labels = rows[by[0]].astype(str)
        if len(by) > 1:
            labels = labels.str.cat([rows[c].astype(str) for c in by[1:]], sep="/")
        codes, names = pd.factorize(labels, sort=True)
        names = list(names)
        # A row without a segment value belongs to no segment (the data checks report it).
        rows, days, codes = rows[codes >= 0], days[codes >= 0], codes[codes >= 0]
    else:
        codes, names = np.zeros(len(rows), dtype=np.int64), ["*"]
    width = (last - first).days + 1
    flat = codes * width + days
    size = len(names) * width
    values = np.nan_to_num(rows["value"].to_numpy(dtype=float))
    sums = np.bincount(flat, weights=values, minlength=size).reshape(len(names), width)
    counts = np.bincount(flat, minlength=size).reshape(len(names), width)
    return names, np.where(counts > 0, sums, np.nan)


@dataclass
class _Rows:
    """The rows one batch evaluates: each goal's series (one per segment), then, when any goal
    has segments, one total row per goal (the sum of its series). A goal without segments has
    one series, and its total row is the same numbers again: ``keep`` leaves it out."""

    goals: list[Goal]
    labels: list[str | None]
    owner: list[int]  # index into goals, per row
    series: int  # rows 0..series-1 are series; the rest are goal totals
    groups: np.ndarray | None
    keep: list[bool]


def _batch(config: Config, matrices: _Matrices, goals: list[Goal], kind: str, period: str,
           pacing: str, as_of: date) -> list[Verdict]:
    calendar = config.calendar
    start, end = calendar.bounds(period, as_of)
    rows, numerators, denominators, targets = _series(config, matrices, goals, start, end, as_of)
    panel_kind = "level" if kind == "level" else "sum"
    first = matrices.first
    proj = project(Panel(numerators, first, panel_kind), start, end, pacing, calendar, period=period,
                   groups=rows.groups)
    k = (as_of - start).days + 1
    if kind == "ratio":
        den = project(Panel(denominators, first, "sum"), start, end, pacing, calendar, period=period,
                      groups=rows.groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            proj = Projection(start=start, end=end, cum=proj.cum / den.cum, share=np.ones_like(proj.cum),
                              projected=proj.projected / den.projected, base=np.zeros(len(proj.base)),
                              mu=proj.mu - den.mu, sigma=np.hypot(proj.sigma, den.sigma),
                              dof=np.minimum(proj._dof, den._dof), notes=proj.notes + den.notes)
        expected = np.repeat(targets[:, None], proj.length, axis=1)
    else:
        expected = proj.expected(targets[: rows.series] if rows.groups is not None else targets)
    actual = proj.cum[:, :k]
    expected = expected[:, :k]
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = actual / expected
    forecast = proj.forecast()[:, :k]
    miss = proj.miss_probability(targets)[:, :k]
    thresholds = {name: np.array([getattr(rows.goals[o], name) for o in rows.owner])
                  for name in ("warn_below", "critical_below", "confidence", "hysteresis")}
    pace_safe, miss_safe = np.nan_to_num(pace, nan=np.inf), np.nan_to_num(miss, nan=0.0)
    enter = enter_levels(pace_safe, miss_safe, warn=thresholds["warn_below"],
                         critical=thresholds["critical_below"], confidence=thresholds["confidence"])
    stay = stay_levels(pace_safe, miss_safe, warn=thresholds["warn_below"], critical=thresholds["critical_below"],
                       confidence=thresholds["confidence"], margin=thresholds["hysteresis"])
    prior = scan(enter[:, : k - 1], stay[:, : k - 1])[:, -1] if k > 1 else np.zeros(len(rows.owner), dtype=int)
    low, high = {}, {}
    for level in sorted({g.interval for g in goals}):
        low[level], high[level] = (b[:, k - 1] for b in proj.bounds(level))
    label = calendar.label(period, start)
    notes = "; ".join(proj.notes)
    gaps = expected[:, -1] - actual[:, -1]
    verdicts = []
    for r, o in enumerate(rows.owner):
        if not rows.keep[r]:
            continue
        goal = rows.goals[o]
        metric = config.metric(goal.metric)
        explanation: tuple[tuple[str, float], ...] = ()
        if goal.segments is not None and rows.labels[r] is None and kind != "ratio":
            members = [i for i in range(rows.series) if rows.owner[i] == o]
            explanation = explain({rows.labels[i]: float(gaps[i]) for i in members}) if gaps[r] > 0 else ()
        verdicts.append(Verdict(
            as_of=as_of, goal=goal.name, label=goal.label, metric=goal.metric, unit=None if kind == "ratio" else metric.unit,
            period=period, period_label=label, period_start=start, period_end=end, target=float(targets[r]),
            actual_to_date=_num(actual[r, -1]), expected_to_date=_num(expected[r, -1]), pace_ratio=_num(pace[r, -1]),
            forecast=_num(forecast[r, -1]), forecast_low=_num(low[goal.interval][r]),
            forecast_high=_num(high[goal.interval][r]), miss_probability=_num(miss[r, -1]),
            channel=config.channel_for(goal), kind=kind, denominator=goal.denominator,
            segment=rows.labels[r], pacing=pacing,
            warn_below=goal.warn_below, critical_below=goal.critical_below, confidence=goal.confidence,
            interval=goal.interval, hysteresis=goal.hysteresis, prior_level=int(prior[r]),
            explanation=explanation, note=notes,
        ))
    return verdicts


def _series(config: Config, matrices: _Matrices, goals: list[Goal], start: date, end: date,
            as_of: date) -> tuple[_Rows, np.ndarray, np.ndarray, np.ndarray]:
    """Stack each goal's series (numerator, and denominator for ratios) and their targets."""
    width = (as_of - matrices.first).days + 1
    nums, dens, targets, labels, owner = [], [], [], [], []
    for o, goal in enumerate(goals):
        by = goal.segments.by if goal.segments else ()
        names, matrix = matrices.get(goal.metric, by)
        den_names, den_matrix = matrices.get(goal.denominator, by) if goal.denominator else (names, matrix)
        period_target = goal.target_for(start)
        if goal.segments:
            wanted = list(goal.segments.targets)
            # Per-period targets scale the segment targets in proportion.
            scale = period_target / goal.target if goal.kind in ("total", "level") else 1.0
            seg_targets = [goal.segments.targets[s] * scale for s in wanted]
        else:
            wanted, seg_targets = ["*"], [period_target]
        for segment, target in zip(wanted, seg_targets):
            nums.append(_row(names, matrix, segment, width))
            dens.append(_row(den_names, den_matrix, segment, width))
            if goal.kind == "growth":
                target = _growth_target(config, goal, nums[-1], matrices.first, start, target)
            targets.append(target)
            labels.append(None if segment == "*" else segment)
            owner.append(o)
    series = len(nums)
    keep = [True] * series
    groups = None
    if any(goal.segments for goal in goals):
        groups = np.array(owner)
        for o, goal in enumerate(goals):
            members = [t for t, own in zip(targets, owner) if own == o]
            targets.append(goal.target_for(start) if goal.kind == "ratio" else sum(members))
            labels.append(None)
            owner.append(o)
            keep.append(goal.segments is not None)
    rows = _Rows(goals, labels, owner, series, groups, keep)
    return rows, np.vstack(nums), np.vstack(dens), np.array(targets, dtype=float)


def _row(names: list[str], matrix: np.ndarray, segment: str, width: int) -> np.ndarray:
    if segment == "*":
        row = matrix[0]
    elif segment in names:
        row = matrix[names.index(segment)]
    else:
        row = np.full(matrix.shape[1], np.nan)
    return row[:width]


def _growth_target(config: Config, goal: Goal, row: np.ndarray, first: date, start: date, growth: float) -> float:
    calendar = config.calendar
    if goal.growth_vs == "previous_period":
        b_start, b_end = calendar.previous(goal.period, start)
    else:
        b_start, b_end = calendar.year_before(goal.period, start)
    lo, hi = (b_start - first).days, (b_end - first).days + 1
    if lo < 0 or hi > len(row):
        return float("nan")
    return float(np.nansum(row[lo:hi]) * (1 + growth))


def _num(value: Any) -> float:
    return float(value) if np.isfinite(value) else float("nan")
