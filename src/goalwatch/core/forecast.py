"""Pacing curves, projections and calibrated prediction intervals, for many series at once.

Pure numpy: no Airflow, GX or Slack. ``core.pacing`` builds a :class:`Panel` (one row per
goal-segment series, one column per day) and asks for a :class:`Projection` of the period that
holds the as-of day. Everything a period needs is learned from the days *before* it starts, so the
curve and the interval stay fixed through the period and a replay never looks ahead.

- Pacing curves give each day of the period its share of the target:
  ``linear`` (equal shares), ``weekday`` (weekday shares from the last 12 weeks) and ``seasonal``
  (the shape of the same period in up to three past years, weekday effects taken out and this
  year's weekdays put back). Each falls back, with a note, when history is too short.
- The projection at day j of a period is actual-to-date divided by the curve's share done by j.
- The interval comes from how the same projection erred at the same point of up to eight past
  periods (log errors: their mean corrects the bias, their spread makes the interval). With fewer
  than three past periods it comes from the recent day-to-day variation instead, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from scipy.special import stdtr, stdtrit

from goalwatch.core.periods import Calendar

__all__ = ["Panel", "Projection", "learn_weights", "project"]

WEEKDAY_HISTORY = 84  # days of history the weekday shares are learned from
WEEKDAY_MINIMUM = 28
SEASONAL_YEARS = 3
CALIBRATION_PERIODS = 8
CALIBRATION_MINIMUM = 3
RECENT_DAYS = 28


@dataclass(frozen=True)
class Panel:
    """Daily values of many series on one calendar: ``values[s, t]`` is series s on ``first + t``.

    ``kind`` is how a series adds up over a period: ``sum`` (a total: users, revenue) or ``level``
    (a stock read on the last day: subscribers). A missing day is NaN.
    """

    values: np.ndarray
    first: date
    kind: str = "sum"

    @property
    def days(self) -> int:
        return self.values.shape[1]

    def index(self, day: date) -> int:
        return (day - self.first).days

    def weekdays(self, start: int, stop: int) -> np.ndarray:
        return (np.arange(start, stop) + self.first.weekday()) % 7


@dataclass(frozen=True)
class Projection:
    """One period, day by day (columns 0..n-1), for every series (rows).

    ``cum`` is the actual-to-date (a sum, or the level on that day), ``share`` the curve's share of
    the period done by the end of each day, ``projected`` the end-of-period projection made on
    each day, ``mu`` and ``sigma`` the mean and spread of the log error of such projections at the
    same point of past periods.
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
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def length(self) -> int:
        return self.share.shape[1]

    def expected(self, target: np.ndarray) -> np.ndarray:
        """Expected-to-date for each day: each series' target paced along its curve; a group row
        is the sum of its series, so segment paces always add up to the total's."""
        target = np.asarray(target, dtype=float).reshape(-1, 1)
        series = self.share.shape[0] if self.groups is None else len(self.groups)
        own = self.base[:series, None] + (target[:series] - self.base[:series, None]) * self.share[:series]
        return own if self.groups is None else _with_groups(own, self.groups)

    def forecast(self) -> np.ndarray:
        """The bias-corrected projection (the median of the predictive distribution)."""
        return self.projected * np.exp(self.mu)

    @property
    def _dof(self) -> np.ndarray:
        return np.full(self.mu.shape, np.inf) if self.dof is None else self.dof

    def bounds(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The prediction interval holding the period's outcome with probability ``level``."""
        z = stdtrit(self._dof, 0.5 + level / 2)
        return self.projected * np.exp(self.mu - z * self.sigma), self.projected * np.exp(self.mu + z * self.sigma)

    def miss_probability(self, target: np.ndarray) -> np.ndarray:
        """Probability that the period ends below ``target``."""
        target = np.asarray(target, dtype=float).reshape(-1, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(target / self.projected) - self.mu) / self.sigma
        return np.where(np.isfinite(z), stdtr(self._dof, z), np.where(self.projected < target, 1.0, 0.0))


def learn_weights(
    panel: Panel, start: date, end: date, pacing: str, calendar: Calendar, period: str
) -> tuple[np.ndarray, str]:
    """Each day's weight in the period ``[start, end]`` for every series, from days before ``start``."""
    n = (end - start).days + 1
    s0 = panel.index(start)
    if pacing == "linear" or panel.kind == "level":
        note = "" if pacing == "linear" else f"{pacing} pacing applies to totals; a level goal paces linearly"
        return np.ones((panel.values.shape[0], n)), note
    weekday, note = _weekday_shares(panel, s0)
    day_weekdays = panel.weekdays(s0, s0 + n)
    if weekday is None:
        return np.ones((panel.values.shape[0], n)), note
    if pacing == "weekday":
        return weekday[:, day_weekdays], ""
    season, season_note = _season(panel, start, end, calendar, period, weekday)
    if season is None:
        return weekday[:, day_weekdays], season_note
    return season * weekday[:, day_weekdays], ""


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
    weights, note = learn_weights(panel, start, end, pacing, calendar, period)
    current = _trajectory(panel, start, end, weights, groups)
    n = (end - start).days + 1
    fraction = np.arange(1, n + 1) / n
    errors = []
    past_end = start - timedelta(days=1)
    for _ in range(CALIBRATION_PERIODS):
        p_start, p_end = calendar.bounds(period, past_end)
        if panel.index(p_start) < 0:
            break
        past_weights, _ = learn_weights(panel, p_start, p_end, pacing, calendar, period)
        past = _trajectory(panel, p_start, p_end, past_weights, groups)
        m = past["cum"].shape[1]
        at = np.clip(np.round(fraction * m).astype(int) - 1, 0, m - 1)
        final = past["cum"][:, -1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            errors.append(np.log(final / past["projected"][:, at]))
        past_end = p_start - timedelta(days=1)
    notes = [note] if note else []
    mu, sigma, dof = _calibrate(errors, current, panel, start, groups, notes)
    return Projection(
        start=start,
        end=end,
        cum=current["cum"],
        share=current["share"],
        projected=current["projected"],
        base=current["base"],
        mu=mu,
        sigma=sigma,
        dof=dof,
        groups=groups,
        notes=tuple(notes),
    )


def _trajectory(
    panel: Panel, start: date, end: date, weights: np.ndarray, groups: np.ndarray | None
) -> dict[str, np.ndarray]:
    s0, n = panel.index(start), (end - start).days + 1
    window = _columns(panel.values, s0, s0 + n)
    if panel.kind == "level":
        before = _columns(panel.values, s0 - 1, s0)[:, 0]
        base = np.where(np.isnan(before), window[:, 0], before)
        cum = _forward_fill(window)
    else:
        base = np.zeros(window.shape[0])
        cum = np.cumsum(np.nan_to_num(window), axis=1)
    total = weights.sum(axis=1, keepdims=True)
    linear = np.arange(1, n + 1) / n
    share = np.where(total > 0, np.cumsum(weights, axis=1) / np.where(total > 0, total, 1), linear)
    # Before the first day that carries weight (a month starting on a quiet weekend) the curve
    # has nothing to project with; the calendar's share stands in.
    with np.errstate(divide="ignore", invalid="ignore"):
        projected = base[:, None] + (cum - base[:, None]) / np.where(share > 0, share, linear)
    if groups is not None:
        # A group's projection is the sum of its series' projections (bottom-up); its share of
        # the period depends on the targets and is left to Projection.expected.
        base, cum, projected = (_with_groups(a, groups) for a in (base, cum, projected))
        share = np.concatenate([share, np.full((cum.shape[0] - share.shape[0], n), np.nan)])
    return {"cum": cum, "share": share, "projected": projected, "base": base}


def _with_groups(rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.concatenate([rows, np.add.reduceat(rows, starts, axis=0)], axis=0)


def _calibrate(
    errors: list[np.ndarray],
    current: dict[str, np.ndarray],
    panel: Panel,
    start: date,
    groups: np.ndarray | None,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and spread of past log errors. With m past periods the spread of a new period's
    error is the sample's times sqrt(1 + 1/m), on a Student t with m - 1 degrees of freedom: a
    prediction interval, not a confidence interval for the mean."""
    shape = current["projected"].shape
    if errors:
        stack = np.stack(errors)
        stack = np.where(np.isfinite(stack), stack, np.nan)
        count = np.sum(~np.isnan(stack), axis=0)
    else:
        count = np.zeros(shape, dtype=int)
    ok = count >= CALIBRATION_MINIMUM
    mu = np.zeros(shape)
    sigma = np.zeros(shape)
    if ok.any():
        with np.errstate(invalid="ignore"), _quiet():
            mean = np.nanmean(stack, axis=0)
            spread = np.nanstd(stack, axis=0, ddof=1)
            # Correct the bias only as far as it stands out from the noise of a few periods
            # (positive-part shrinkage of the mean towards zero).
            noise = spread**2 / np.maximum(count, 1)
            mu = np.where(ok, mean * np.clip(1 - noise / np.maximum(mean**2, 1e-12), 0, 1), 0.0)
        # Never claim more precision than 0.5%.
        sigma = np.where(ok, np.maximum(np.nan_to_num(spread), 0.005) * np.sqrt(1 + 1 / np.maximum(count, 1)), 0.0)
    dof = np.where(ok, count - 1.0, np.inf)
    if not ok.all():
        periods = int(count.max()) if count.size else 0
        notes.append(
            f"interval from recent daily variation: {periods} past period(s) to calibrate on, "
            f"{CALIBRATION_MINIMUM} needed"
        )
        sigma = np.where(ok, sigma, _volatility(current, panel, start, groups))
    return mu, sigma, dof


def _volatility(current: dict[str, np.ndarray], panel: Panel, start: date, groups: np.ndarray | None) -> np.ndarray:
    """Relative spread of the days still to come, from the last four weeks' day-to-day variation."""
    s0 = panel.index(start)
    recent = _columns(panel.values, s0 - RECENT_DAYS, s0)
    if panel.kind == "level":
        recent = np.diff(recent, axis=1)
    if groups is not None:
        recent = _with_groups(np.nan_to_num(recent), groups)
    with _quiet():
        # Unknown (no recent days) stays NaN: the fallback spread below applies, not false precision.
        daily_sd = np.nanstd(recent, axis=1, ddof=1)[:, None]
    n = current["share"].shape[1]
    left = n - np.arange(1, n + 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(left) * daily_sd / np.abs(current["projected"])
    return np.maximum(np.nan_to_num(sigma, nan=0.05, posinf=0.05), 0.005)


def _weekday_shares(panel: Panel, s0: int) -> tuple[np.ndarray | None, str]:
    lo = max(0, s0 - WEEKDAY_HISTORY)
    if s0 - lo < WEEKDAY_MINIMUM:
        return (
            None,
            f"weekday pacing needs {WEEKDAY_MINIMUM} days of history before the period, had {s0 - lo}; paced linearly",
        )
    history = panel.values[:, lo:s0]
    weekdays = panel.weekdays(lo, s0)
    with _quiet():
        means = np.stack([np.nanmean(history[:, weekdays == d], axis=1) for d in range(7)], axis=1)
        overall = np.nanmean(means, axis=1, keepdims=True)
    shares = np.where((overall > 0) & np.isfinite(means), means / np.where(overall > 0, overall, 1), 1.0)
    return np.clip(shares, 0.0, None), ""


def _season(
    panel: Panel, start: date, end: date, calendar: Calendar, period: str, weekday: np.ndarray
) -> tuple[np.ndarray | None, str]:
    n = (end - start).days + 1
    shapes = []
    p_start, p_end = start, end
    for _ in range(SEASONAL_YEARS):
        p_start, p_end = calendar.year_before(period, p_start)
        i0 = panel.index(p_start)
        if i0 < 0:
            break
        m = (p_end - p_start).days + 1
        past = panel.values[:, i0 : i0 + m] / np.maximum(weekday[:, panel.weekdays(i0, i0 + m)], 1e-9)
        smooth = _rolling_mean(np.nan_to_num(past), 7)
        with _quiet():
            level = np.nanmean(smooth, axis=1, keepdims=True)
        normalised = np.where(level > 0, smooth / np.where(level > 0, level, 1), 1.0)
        positions = (np.arange(n) + 0.5) * m / n - 0.5
        shapes.append(np.stack([np.interp(positions, np.arange(m), row) for row in normalised]))
    if not shapes:
        return None, "seasonal pacing needs the same period a year earlier; paced by weekday"
    return np.mean(shapes, axis=0), ""


def _rolling_mean(values: np.ndarray, width: int) -> np.ndarray:
    pad = width // 2
    padded = np.pad(values, ((0, 0), (pad, pad)), mode="edge")
    csum = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
    return (csum[:, width:] - csum[:, :-width]) / width


def _columns(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Columns ``lo..hi-1``, NaN where they fall outside the data."""
    out = np.full((values.shape[0], hi - lo), np.nan)
    a, b = max(lo, 0), min(hi, values.shape[1])
    if a < b:
        out[:, a - lo : b - lo] = values[:, a:b]
    return out


def _forward_fill(window: np.ndarray) -> np.ndarray:
    index = np.where(~np.isnan(window), np.arange(window.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    return window[np.arange(window.shape[0])[:, None], index]


class _quiet:
    """Silence numpy's warnings about empty slices (all-NaN series are handled explicitly)."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)
