"""Projections and calibrated prediction intervals, for many series at once.

Pure numpy: no Airflow, GX or Slack. ``core.pacing`` builds a :class:`Panel` (one row per
goal-segment series, one column per day) and asks for a :class:`Projection` of the period that
holds the as-of day. Everything a period needs is learned from the days *before* it starts (the
curves in ``core.curves``), and column j of a projection uses no day after j, so a replay never
looks ahead and a period's history is what each of its days saw.

- The projection at day j of a period is actual-to-date divided by the curve's share done by j
  (none before the curve's first day with weight: a month starting on a quiet weekend).
- The interval comes from how the same curve's projection erred at the same point of up to eight
  past periods that each series' own history holds (log errors: their mean corrects the bias,
  their spread makes the interval). With fewer than three such periods it comes from a model of
  the series' own variation instead, with a note: the rate known so far, the days still to come,
  the drift of its weekly totals and the growth the curve does not follow; it widens with the
  days left and closes on the last day.
- ``pacing: auto`` projects with every curve and keeps, per goal, the one whose projections erred
  least on the goal's own past periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy.special import stdtr, stdtrit

from goalwatch.core.curves import CURVES, Panel, columns, forward_fill, learn_curve, quiet, rolling_mean, with_groups
from goalwatch.core.periods import Calendar
from goalwatch.core.spread import RECENT_DAYS, model_sigma, swings

__all__ = ["RECENT_DAYS", "Panel", "Projection", "project", "with_groups"]

CALIBRATION_PERIODS = 8
CALIBRATION_MINIMUM = 3
MODEL_RANGE = "range from the series' own daily variation"  # the note of a range not calibrated
CALIBRATION_WINDOW = 7  # points of a period whose past errors are averaged


@dataclass(frozen=True)
class Projection:
    """One period, day by day (columns 0..n-1), for every series (rows), then every group.

    ``cum`` is the actual-to-date (a sum, or the level on that day), ``share`` the curve's share of
    the period done by the end of each day, ``projected`` the end-of-period projection made on
    each day, ``mu`` and ``sigma`` the mean and spread of its log error. ``swing`` is each series'
    usual day-to-day swing known on each day (relative to the day's pace for a sum, in units for a
    level; NaN while unknown), ``effective`` the number of days the rate so far rests on.
    """

    start: date
    end: date
    cum: np.ndarray
    share: np.ndarray
    projected: np.ndarray
    base: np.ndarray  # the level before the period starts (zero for sums)
    mu: np.ndarray
    sigma: np.ndarray
    dof: np.ndarray | None = None  # degrees of freedom of the error spread (inf: not from a sample)
    groups: np.ndarray | None = None
    row_notes: tuple[tuple[str, ...], ...] = ()  # each row's notes
    kind: str = "sum"
    swing: np.ndarray | None = None
    effective: np.ndarray | None = None
    used: tuple[str, ...] = ()  # the curve of each row
    # Mean absolute log error of each past period (most recent first) per row; NaN where that
    # period did not count (before the series' history, or paced on another curve then).
    errors: np.ndarray | None = None
    calibrated: np.ndarray | None = None  # per row: the interval comes from past periods

    @property
    def length(self) -> int:
        return self.cum.shape[1]

    @property
    def notes(self) -> tuple[str, ...]:
        """Every row's notes, each once."""
        return tuple(dict.fromkeys(n for row in self.row_notes for n in row if n))

    def expected(self, target: np.ndarray) -> np.ndarray:
        """Expected-to-date for each day: each series' target paced along its curve; a group row
        is the sum of its series, so segment paces always add up to the total's."""
        target = np.asarray(target, dtype=float).reshape(-1, 1)
        series = self.share.shape[0] if self.groups is None else len(self.groups)
        own = self.base[:series, None] + (target[:series] - self.base[:series, None]) * self.share[:series]
        if self.groups is None:
            return own
        # In a total, a level's segment never read starts from nothing (as its reading counts 0).
        base = np.nan_to_num(self.base[:series, None])
        grouped = with_groups(base + (target[:series] - base) * self.share[:series], self.groups)
        return np.concatenate([own, grouped[series:]])

    def evidence(self, target: np.ndarray) -> np.ndarray:
        """The share of each row's pace due by each day (0 before its first weighted day, 1 at the
        end). A group row weighs its series by how far each must move (``target - base``), so a
        total's share is its expected progress; by the plain mean when none must move at all
        (a level held where it stands)."""
        target = np.asarray(target, dtype=float).reshape(-1, 1)
        series = self.share.shape[0] if self.groups is None else len(self.groups)
        share = self.share[:series]
        if self.groups is None:
            return share
        weight = np.abs(target[:series] - np.nan_to_num(self.base[:series, None])) * np.ones_like(share)
        moved = with_groups(weight, self.groups)[series:]
        weighted = with_groups(weight * share, self.groups)[series:]
        plain = with_groups(share, self.groups)[series:] / with_groups(np.ones_like(share), self.groups)[series:]
        with np.errstate(divide="ignore", invalid="ignore"):
            grouped = np.where(moved > 0, weighted / moved, plain)
        return np.concatenate([share, grouped])

    def noise(self, target: np.ndarray) -> np.ndarray:
        """The usual spread of actual-to-date around the expected-to-date on each day, in the
        series' units: its daily swings added up as independent days (NaN while unknown)."""
        series = len(self.groups) if self.groups is not None else self.cum.shape[0]
        if self.swing is None:
            return np.full(self.cum.shape, np.nan)
        swing = self.swing[:series]
        if self.kind == "level":
            spread = swing * np.sqrt(np.arange(1, self.length + 1))[None, :]
        else:
            steps = np.diff(self.expected(target)[:series], axis=1, prepend=0.0)
            spread = swing * np.sqrt(np.cumsum(steps**2, axis=1))
        if self.groups is None:
            return spread
        return np.sqrt(with_groups(spread**2, self.groups, known=True))

    def relative_noise(self) -> np.ndarray:
        """The spread of actual-to-date relative to it, from the days it rests on (for ratios)."""
        series = len(self.groups) if self.groups is not None else self.cum.shape[0]
        if self.swing is None or self.effective is None:
            return np.full(self.cum.shape, np.nan)
        own = self.swing[:series] / np.sqrt(self.effective[:series])
        if self.groups is None:
            return own
        spread = np.nan_to_num(own * self.cum[:series], nan=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.concatenate([own, np.sqrt(with_groups(spread**2, self.groups))[series:] / self.cum[series:]])

    def forecast(self) -> np.ndarray:
        """The bias-corrected projection (the median of the predictive distribution)."""
        return self.projected * np.exp(self.mu)

    @property
    def _dof(self) -> np.ndarray:
        return np.full(self.mu.shape, np.inf) if self.dof is None else self.dof

    def bounds(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The prediction interval holding the period's outcome with probability ``level``."""
        z = stdtrit(self._dof, 0.5 + level / 2)
        with np.errstate(over="ignore", invalid="ignore"):  # a range past any float is inf
            return self.projected * np.exp(self.mu - z * self.sigma), self.projected * np.exp(self.mu + z * self.sigma)

    def miss_probability(self, target: np.ndarray) -> np.ndarray:
        """Probability that the period ends below ``target`` (0 or 1 once nothing is left to come)."""
        target = np.asarray(target, dtype=float).reshape(-1, 1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = (np.log(target / self.projected) - self.mu) / self.sigma
            below = np.where(self.forecast() < target, 1.0, 0.0)
        sure = np.where(np.isnan(self.projected), np.nan, below)
        return np.where(np.isfinite(z) & (self.sigma > 0), stdtr(self._dof, z), sure)


def project(
    panel: Panel,
    start: date,
    end: date,
    pacing: str,
    calendar: Calendar,
    *,
    period: str,
    groups: np.ndarray | None = None,
) -> Projection:
    """The period ``[start, end]`` for every series, with ``groups`` (sorted group ids, one per
    series) adding one summed row per group after the series' own rows."""
    if pacing != "auto":
        return _project(panel, start, end, pacing, calendar, period, groups)
    options = [_project(panel, start, end, c, calendar, period, groups) for c in CURVES]
    return _choose(options, groups)


def _project(
    panel: Panel, start: date, end: date, curve: str, calendar: Calendar, period: str, groups: np.ndarray | None
) -> Projection:
    learned = learn_curve(panel, start, end, curve, calendar, period)
    current = _trajectory(panel, start, end, learned.weights, groups)
    n = (end - start).days + 1
    fraction = np.arange(1, n + 1) / n
    errors = []
    past_end = start - timedelta(days=1)
    for _ in range(CALIBRATION_PERIODS):
        p_start, p_end = calendar.bounds(period, past_end)
        i0 = panel.index(p_start)
        if i0 < 0:
            break
        past_curve = learn_curve(panel, p_start, p_end, curve, calendar, period)
        # A past period counts for a series that held it all and was paced on the same curve then.
        same = (panel.origin <= i0) & (past_curve.used == learned.used)
        if not same.any():
            break
        past = _trajectory(panel, p_start, p_end, past_curve.weights, groups)
        m = past["cum"].shape[1]
        at = np.clip(np.round(fraction * m).astype(int) - 1, 0, m - 1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            error = np.log(past["cum"][:, -1:] / past["projected"][:, at])
        errors.append(np.where(_rows(same, groups)[:, None], error, np.nan))
        past_end = p_start - timedelta(days=1)
    swing, effective, known = swings(panel, start, end, learned)
    mu, sigma, dof, calibrated, count = _calibrate(errors, current["projected"].shape)
    model = model_sigma(panel, start, current, learned, swing, effective, groups)
    sigma = np.where(calibrated, sigma, model)
    sigma[:, -1], mu[:, -1] = 0.0, 0.0  # the period is over: its outcome is known
    used = tuple(_rows(learned.used, groups, pick=True))
    notes = []
    for r in range(current["cum"].shape[0]):
        own = [learned.notes[r]] if r < len(learned.notes) else _group_notes(learned.notes, groups, r)
        if not calibrated[r].all():
            own.append(
                f"{MODEL_RANGE}: {int(count[r].max())} past period(s) on "
                f"{used[r]} pacing to calibrate on, {CALIBRATION_MINIMUM} needed"
            )
        notes.append(tuple(n for n in own if n))
    with quiet():
        by_period = np.full((CALIBRATION_PERIODS, len(used)), np.nan)
        if errors:
            by_period[: len(errors)] = np.nanmean(np.abs(np.stack(errors)), axis=2)
    return Projection(
        start=start, end=end, cum=current["cum"], share=current["share"], projected=current["projected"],
        base=current["base"], mu=mu, sigma=sigma, dof=dof, groups=groups, row_notes=tuple(notes), kind=panel.kind,
        swing=np.where(known, swing, np.nan), effective=effective, used=used, errors=by_period,
        calibrated=calibrated.all(axis=1),
    )  # fmt: skip


def _choose(options: list[Projection], groups: np.ndarray | None) -> Projection:
    """Per goal, the curve with the lowest mean error over the past periods that every candidate
    was judged on (a goal with segments is judged on its total's errors). A candidate is a curve
    that was itself (not a fallback) in at least CALIBRATION_MINIMUM past periods; without one,
    the weekday curve when its history allows it, else linear."""
    first = options[0]
    rows = first.cum.shape[0]
    errors = np.stack([o.errors for o in options])  # curves x past periods x rows
    asked = np.array(CURVES)[:, None]
    # A curve that fell back is not itself: it can only be chosen as what it fell back to.
    real = np.stack([np.array(o.used) for o in options]) == asked
    errors = np.where(real[:, None, :], errors, np.nan)
    judged = np.isfinite(errors)
    candidate = judged.sum(axis=1) >= CALIBRATION_MINIMUM  # curves x rows
    # Compared on the same periods: those every candidate of the row was judged on.
    common = np.all(judged | ~candidate[:, None, :], axis=0)  # past periods x rows
    shared = common.sum(axis=0)
    with quiet():
        on_common = np.nanmean(np.where(common[None], errors, np.nan), axis=1)
        on_own = np.nanmean(errors, axis=1)
    score = np.where(candidate, np.where(shared >= CALIBRATION_MINIMUM, on_common, on_own), np.inf)
    fallback = np.where(np.array(options[1].used) == "weekday", 1, 0)
    compared = candidate.any(axis=0)
    candidates = candidate.sum(axis=0)
    best = np.where(compared, np.argmin(np.where(np.isnan(score), np.inf, score), axis=0), fallback)
    periods = np.where(shared >= CALIBRATION_MINIMUM, shared, judged[best, :, np.arange(rows)].sum(axis=1))
    if groups is not None:
        series = len(groups)
        # Each series takes its goal's choice (the group row's), so a goal keeps one curve.
        goal_row = series + np.searchsorted(np.unique(groups), groups)
        best[:series], compared[:series], periods[:series] = best[goal_row], compared[goal_row], periods[goal_row]
        candidates[:series] = candidates[goal_row]

    def take(name: str) -> np.ndarray:
        """Each row's ``name`` from its chosen curve (the swings have no group rows)."""
        stack = np.stack([getattr(o, name) for o in options])
        count = stack.shape[1]
        return stack[best[:count], np.arange(count)]

    notes = []
    for r in range(rows):
        chosen = options[best[r]]
        why = (
            f"auto pacing chose {chosen.used[r]}: the only curve judged on {CALIBRATION_MINIMUM} or more past periods"
            if compared[r] and candidates[r] == 1
            else f"auto pacing chose {chosen.used[r]}: least error over {periods[r]} past periods"
            if compared[r]
            else f"auto pacing chose {chosen.used[r]}: fewer than {CALIBRATION_MINIMUM} past periods "
            "to compare the curves on"
        )
        notes.append((why, *chosen.row_notes[r]))
    return Projection(
        start=first.start, end=first.end, cum=first.cum, share=take("share"), projected=take("projected"),
        base=first.base, mu=take("mu"), sigma=take("sigma"), dof=take("dof"), groups=groups, row_notes=tuple(notes),
        kind=first.kind, swing=take("swing"), effective=take("effective"),
        used=tuple(options[best[r]].used[r] for r in range(rows)), errors=errors[best, :, np.arange(rows)].T,
        calibrated=take("calibrated"),
    )  # fmt: skip


def _rows(values: np.ndarray, groups: np.ndarray | None, *, pick: bool = False) -> np.ndarray:
    """Per-series values followed by one per group: all of its series' (a flag), or its first's."""
    if groups is None:
        return values
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    extra = values[starts] if pick else np.logical_and.reduceat(values.astype(bool), starts)
    return np.concatenate([values, extra])


def _group_notes(notes: tuple[str, ...], groups: np.ndarray | None, row: int) -> list[str]:
    assert groups is not None
    group = np.unique(groups)[row - len(groups)]
    return list(dict.fromkeys(notes[i] for i in np.flatnonzero(groups == group) if notes[i]))


def _trajectory(
    panel: Panel, start: date, end: date, weights: np.ndarray, groups: np.ndarray | None
) -> dict[str, np.ndarray]:
    s0, n = panel.index(start), (end - start).days + 1
    window = columns(panel.values, s0, s0 + n)
    if panel.kind == "level":
        before = columns(panel.values, s0 - 1, s0)[:, 0]
        base = np.where(np.isnan(before), window[:, 0], before)
        cum = forward_fill(window)
    else:
        base = np.zeros(window.shape[0])
        cum = np.cumsum(np.nan_to_num(window), axis=1)
    total = weights.sum(axis=1, keepdims=True)
    linear = np.arange(1, n + 1) / n
    share = np.where(total > 0, np.cumsum(weights, axis=1) / np.where(total > 0, total, 1), linear)
    # Before the first day that carries weight nothing is known: no projection.
    with np.errstate(divide="ignore", invalid="ignore"):
        projected = np.where(share > 0, base[:, None] + (cum - base[:, None]) / share, np.nan)
    if groups is not None:
        # A group's projection is the sum of its series' projections (bottom-up); its share of
        # the period depends on the targets and is left to Projection.expected.
        # A level's segment never read is left out of its total's reading (as a sum's counts 0),
        # not a total without one.
        known = panel.kind == "level"
        base, cum = (with_groups(a, groups, known=known) for a in (base, cum))
        projected = with_groups(projected, groups)
        share = np.concatenate([share, np.full((cum.shape[0] - share.shape[0], n), np.nan)])
    return {"cum": cum, "share": share, "projected": projected, "base": base, "weights": weights}


def _calibrate(
    errors: list[np.ndarray], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and spread of past log errors. With m past periods the spread of a new period's
    error is the sample's times sqrt(1 + 1/m), on a Student t with m - 1 degrees of freedom: a
    prediction interval, not a confidence interval for the mean."""
    if errors:
        stack = np.stack(errors)
        stack = np.where(np.isfinite(stack), stack, np.nan)
        count = np.sum(~np.isnan(stack), axis=0)
    else:
        stack, count = np.full((1, *shape), np.nan), np.zeros(shape, dtype=int)
    ok = count >= CALIBRATION_MINIMUM
    mu, sigma = np.zeros(shape), np.zeros(shape)
    if ok.any():
        with np.errstate(invalid="ignore"), quiet():
            # Neighbouring points of a period err alike: a week's window of them steadies both
            # numbers against the noise of a few periods (no look-ahead: all are past periods).
            # A week's points are too few to average; a month's three, a quarter's or a year's seven.
            width = min(CALIBRATION_WINDOW, 2 * (shape[1] // 30) + 1)
            mean = rolling_mean(np.nan_to_num(np.nanmean(stack, axis=0)), ok, width)
            spread = rolling_mean(np.nan_to_num(np.nanstd(stack, axis=0, ddof=1)), ok, width)
            # Correct the bias only as far as it stands out from the noise of a few periods
            # (positive-part shrinkage of the mean towards zero).
            noise = spread**2 / np.maximum(count, 1)
            mu = np.where(ok, mean * np.clip(1 - noise / np.maximum(mean**2, 1e-12), 0, 1), 0.0)
        # Never claim more precision than 0.5%.
        sigma = np.where(ok, np.maximum(np.nan_to_num(spread), 0.005) * np.sqrt(1 + 1 / np.maximum(count, 1)), 0.0)
    dof = np.where(ok, count - 1.0, np.inf)
    return mu, sigma, dof, ok, count
