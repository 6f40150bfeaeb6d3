"""Pacing many goals at once: daily matrices, projections, expected-to-date and the status history.

Pure: numpy and pandas, no Airflow, GX, Slack, SQLAlchemy or file I/O. ``pipeline.pace_goals``
groups the goals that share kind, period, pacing and as-of day and calls :func:`pace_batch` once
per group: each goal contributes one row per segment (and, with segments, one row for its total,
the sum of them) to one numpy panel, so ten thousand series cost about as much as one call.
:func:`chart_series` gives what a goal's chart shows from the same numbers.

A goal is anything with the attributes of :class:`PacedGoal` (``goalwatch.config.Goal`` is one):
the core does not import the config.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from goalwatch.core.chart import ChartData
from goalwatch.core.forecast import Panel, Projection, project
from goalwatch.core.periods import Calendar
from goalwatch.core.rates import explain, rates
from goalwatch.core.verdicts import NO_BASELINE, Verdict

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Matrices", "PacedGoal", "chart_series", "pace_batch"]


class PacedSegments(Protocol):
    @property
    def by(self) -> tuple[str, ...]: ...
    @property
    def targets(self) -> Mapping[str, float]: ...


class PacedGoal(Protocol):
    """What pacing reads of a goal."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def denominator(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def pacing(self) -> str: ...
    @property
    def target(self) -> float: ...
    @property
    def growth_vs(self) -> str: ...
    @property
    def segments(self) -> PacedSegments | None: ...
    @property
    def warn_below(self) -> float: ...
    @property
    def critical_below(self) -> float: ...
    @property
    def confidence(self) -> float: ...
    @property
    def interval(self) -> float: ...
    @property
    def hysteresis(self) -> float: ...
    @property
    def evidence(self) -> float: ...
    @property
    def swing(self) -> float: ...
    def target_for(self, period_start: date) -> float: ...


def chart_series(
    goal: PacedGoal, frames: Mapping[str, pd.DataFrame], verdict: Verdict, *, calendar: Calendar
) -> ChartData | None:
    """What the chart of a goal's total shows on the verdict's day: cumulative actual against the
    pace for every day of the period, the target and the forecast range. None for ratio goals."""
    if goal.kind == "ratio":
        return None
    start, end = verdict.period_start, verdict.period_end
    matrices = Matrices(frames, last=verdict.as_of)
    rows, num, _, targets = _series(calendar, matrices, [goal], start, end, verdict.as_of)
    proj = project(
        Panel(num, matrices.first, "level" if goal.kind == "level" else "sum"),
        start,
        end,
        goal.pacing,
        calendar,
        period=goal.period,
        groups=rows.groups,
    )
    row = len(rows.owner) - 1 if rows.groups is not None else 0
    expected = proj.expected(targets[: rows.series] if rows.groups is not None else targets)[row]
    k = (verdict.as_of - start).days + 1
    days = tuple(start + timedelta(days=i) for i in range(proj.length))
    actual = tuple(float(proj.cum[row, i]) if i < k else None for i in range(proj.length))
    return ChartData(
        title=f"{verdict.label} — {verdict.period_label}",
        unit=verdict.unit,
        kind=verdict.kind,
        period_start=start,
        period_end=end,
        as_of=min(verdict.as_of, end),
        days=days,
        actual=actual,
        expected=tuple(float(x) for x in expected),
        target=verdict.target,
        forecast=verdict.forecast,
        # A closed period's outcome is known: no range to draw (the chart draws none).
        forecast_low=verdict.forecast if verdict.closed else verdict.forecast_low,
        forecast_high=verdict.forecast if verdict.closed else verdict.forecast_high,
    )


# -- building the panels ------------------------------------------------------------------------


class Matrices:
    """Daily matrices of each metric split by a set of dimensions, built once and shared."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, last: date) -> None:
        self.frames = frames
        days = [
            d
            for f in frames.values()
            for d in (f["day"].dropna().min(), f["day"].dropna().max())
            if isinstance(d, date)
        ]
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

    goals: Sequence[PacedGoal]
    labels: list[str | None]
    owner: list[int]  # index into goals, per row
    series: int  # rows 0..series-1 are series; the rest are goal totals
    groups: np.ndarray | None
    keep: list[bool]


def pace_batch(
    goals: Sequence[PacedGoal],
    matrices: Matrices,
    *,
    calendar: Calendar,
    kind: str,
    period: str,
    pacing: str,
    as_of: date,
    unit_of: Callable[[Any], str | None],
    channel_of: Callable[[Any], str],
) -> list[Verdict]:
    """Verdicts (status ``pending``) of goals that share kind, period, pacing and as-of day, with
    one row per segment and one per goal total; ``unit_of`` and ``channel_of`` name each goal's."""
    start, end = calendar.bounds(period, as_of)
    rows, numerators, denominators, targets = _series(calendar, matrices, goals, start, end, as_of)
    proj, expected, evidence, swings = _project(
        rows,
        numerators,
        denominators,
        targets,
        matrices.first,
        start,
        end,
        kind=kind,
        pacing=pacing,
        calendar=calendar,
        period=period,
    )
    k = (as_of - start).days + 1
    actual, expected = proj.cum[:, :k], expected[:, :k]
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = actual / expected
    forecast = proj.forecast()[:, :k]
    miss = proj.miss_probability(targets)[:, :k]
    history = np.stack([pace, miss, evidence[:, :k], swings[:, :k]], axis=1)
    low, high = {}, {}
    for level in sorted({g.interval for g in goals}):
        low[level], high[level] = (b[:, k - 1] for b in proj.bounds(level))
        if k >= proj.length:  # closed: the outcome is known, there is no range
            low[level], high[level] = np.full_like(low[level], np.nan), np.full_like(high[level], np.nan)
    label = calendar.label(period, start)
    required, recent = rates(
        rows, Panel(numerators, matrices.first), targets, actual[:, -1], kind=kind, days_left=proj.length - k
    )
    gaps = expected[:, -1] - actual[:, -1]
    verdicts = []
    for r, o in enumerate(rows.owner):
        if not rows.keep[r]:
            continue
        goal = rows.goals[o]
        explanation: tuple[tuple[str, float], ...] = ()
        if goal.segments is not None and rows.labels[r] is None and kind != "ratio":
            members = [i for i in range(rows.series) if rows.owner[i] == o]
            explanation = explain({rows.labels[i]: float(gaps[i]) for i in members}) if gaps[r] > 0 else ()
        verdict = Verdict(
            as_of=as_of, goal=goal.name, label=goal.label, metric=goal.metric, unit=unit_of(goal), period=period,
            period_label=label, period_start=start, period_end=end, target=float(targets[r]),
            actual_to_date=_num(actual[r, -1]), expected_to_date=_num(expected[r, -1]), pace_ratio=_num(pace[r, -1]),
            forecast=_num(forecast[r, -1]), forecast_low=_num(low[goal.interval][r]),
            forecast_high=_num(high[goal.interval][r]), miss_probability=_num(miss[r, -1]), channel=channel_of(goal),
            kind=kind, denominator=goal.denominator, segment=rows.labels[r], pacing=pacing,
            warn_below=goal.warn_below, critical_below=goal.critical_below, confidence=goal.confidence,
            interval=goal.interval, hysteresis=goal.hysteresis, explanation=explanation,
            curve=proj.used[r] if proj.used else pacing, evidence=_num(evidence[r, k - 1]), min_evidence=goal.evidence,
            swings=_num(swings[r, k - 1]), min_swings=goal.swing, required_rate=_num(required[r]),
            recent_rate=_num(recent[r]), note="; ".join(proj.row_notes[r]) if proj.row_notes else "", history=history[r],
        )  # fmt: skip
        if kind == "growth" and not np.isfinite(targets[r]):
            # The only thing to say: the range's notes are about a target there is none of.
            verdict = replace(verdict, note="").with_status("data_issue", note=_no_baseline(goal))
        verdicts.append(verdict)
    return verdicts


def _no_baseline(goal: PacedGoal) -> str:
    compared = "the previous period" if goal.growth_vs == "previous_period" else "the same period a year earlier"
    return f"{NO_BASELINE}: {compared} has no data, so growth against it cannot be judged"


def _project(
    rows: _Rows,
    numerators: np.ndarray,
    denominators: np.ndarray,
    targets: np.ndarray,
    first: date,
    start: date,
    end: date,
    *,
    kind: str,
    pacing: str,
    calendar: Calendar,
    period: str,
) -> tuple[Projection, np.ndarray, np.ndarray, np.ndarray]:
    """The period's projection of every row; each row's expected-to-date on every day; the share
    of its pace due by each day (its evidence); and its deficit to pace in usual swings (0 while
    the swing is unknown: a deficit nobody can weigh does not stand out). A ratio's projection
    divides the numerator's by the denominator's; it is expected at its target all period."""
    panel_kind = "level" if kind == "level" else "sum"
    series = targets[: rows.series] if rows.groups is not None else targets
    proj = project(Panel(numerators, first, panel_kind), start, end, pacing, calendar, period=period,
                   groups=rows.groups)  # fmt: skip
    if kind != "ratio":
        expected = proj.expected(series)
        with np.errstate(divide="ignore", invalid="ignore"):
            evidence = proj.evidence(series)
            swings = (expected - proj.cum) / proj.noise(series)
        return proj, expected, evidence, np.where(np.isnan(swings), 0.0, swings)
    den = project(Panel(denominators, first, "sum"), start, end, pacing, calendar, period=period, groups=rows.groups)
    notes = tuple(tuple(dict.fromkeys((*a, *b))) for a, b in zip(proj.row_notes, den.row_notes))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = Projection(
            start=start, end=end, cum=proj.cum / den.cum, share=np.ones_like(proj.cum),
            projected=proj.projected / den.projected, base=np.zeros(len(proj.base)), mu=proj.mu - den.mu,
            sigma=np.hypot(proj.sigma, den.sigma), dof=np.minimum(proj._dof, den._dof), row_notes=notes,
            used=proj.used,
        )  # fmt: skip
        members = np.ones(rows.series) if rows.groups is None else np.ones(len(rows.groups))
        counts = den.expected(np.ones(len(members)))[:, -1:]
        # No denominator expected in the period at all: no evidence either (0, never unknown).
        evidence = np.nan_to_num(den.expected(np.ones(len(members))) / counts)
        expected = np.repeat(targets[:, None], ratio.length, axis=1)
        swings = (1 - ratio.cum / expected) / np.hypot(proj.relative_noise(), den.relative_noise())
    return ratio, expected, evidence, np.where(np.isnan(swings), 0.0, swings)


def _series(
    calendar: Calendar, matrices: Matrices, goals: Sequence[PacedGoal], start: date, end: date, as_of: date
) -> tuple[_Rows, np.ndarray, np.ndarray, np.ndarray]:
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
                target = _growth_target(calendar, goal, nums[-1], matrices.first, start, target)
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


def _growth_target(
    calendar: Calendar, goal: PacedGoal, row: np.ndarray, first: date, start: date, growth: float
) -> float:
    if goal.growth_vs == "previous_period":
        b_start, b_end = calendar.previous(goal.period, start)
    else:
        b_start, b_end = calendar.year_before(goal.period, start)
    lo, hi = (b_start - first).days, (b_end - first).days + 1
    seen = np.flatnonzero(~np.isnan(row))
    # The series' own history must hold the whole comparison period (other metrics' days do not count).
    if lo < 0 or hi > len(row) or not seen.size or seen[0] > lo:
        return float("nan")
    # A comparison period without a single row (a source's gap, a shop closed) is no baseline
    # either, nor one that adds up to nothing: growth on zero is no target.
    baseline = float(np.nansum(row[lo:hi]))
    if np.isnan(row[lo:hi]).all() or baseline <= 0:
        return float("nan")
    return baseline * (1 + growth)


def _num(value: Any) -> float:
    return float(value) if np.isfinite(value) else float("nan")
