"""Pacing curves: each day's weight in a period, for many series at once, learned from each
series' own days before the period. Pure numpy: no Airflow, GX or Slack.

- ``linear``: every day weighs the same.
- ``weekday``: each weekday's share from the series' last 12 weeks; a weekday that had no rows
  there (a B2B source's weekends) weighs nothing, as the data checks call such days quiet.
- ``seasonal``: the shape of the same period in up to three past years, weekday effects taken
  out and this year's weekdays put back.
- ``trend``: the weekday shares times the series' growth over its last half year (a log-linear
  fit of weekly totals), so a business that grows within the period is paced to grow.

A series is judged on its own history only: the days before its first row (its ``origin``) are
no history at all, whatever other series of the same panel hold. A curve that a series' history
cannot support falls back, with a note on that series: seasonal to weekday, trend and weekday to
linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np

from goalwatch.core.periods import Calendar

__all__ = ["CURVES", "Curve", "Panel", "columns", "forward_fill", "learn_curve", "quiet", "rolling_mean", "with_groups"]

CURVES = ("linear", "weekday", "seasonal", "trend")
WEEKDAY_HISTORY = 84  # days of history the weekday shares are learned from
WEEKDAY_MINIMUM = 28
SEASONAL_YEARS = 3
TREND_HISTORY = 182  # days of history the growth is learned from
TREND_MINIMUM = 56
TREND_LIMIT = np.log(10) / 365  # never project faster than tenfold (or a tenth) a year


@dataclass(frozen=True)
class Panel:
    """Daily values of many series on one calendar: ``values[s, t]`` is series s on ``first + t``.

    ``kind`` is how a series adds up over a period: ``sum`` (a total: users, revenue) or ``level``
    (a stock read on the last day: subscribers). A missing day is NaN; for a sum, a day without
    rows after the series' first row counts as nothing.
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

    @cached_property
    def origin(self) -> np.ndarray:
        """Each series' first day with a value (``days`` for a series without any)."""
        seen = ~np.isnan(self.values)
        return np.where(seen.any(axis=1), seen.argmax(axis=1), self.days)

    def own(self, lo: int, hi: int) -> np.ndarray:
        """Columns ``lo..hi-1`` of each series' own history: NaN before its origin, a day without
        rows after it counts as nothing."""
        block = columns(self.values, lo, hi)
        before = np.arange(lo, hi)[None, :] < self.origin[:, None]
        return np.where(before, np.nan, np.nan_to_num(block))

    def own_days(self, lo: int, hi: int) -> np.ndarray:
        """How many of the columns ``lo..hi-1`` each series has as its own history."""
        return np.clip(hi - np.maximum(self.origin, lo), 0, hi - lo)


@dataclass(frozen=True)
class Curve:
    """A curve learned for one period: ``weights[s, i]`` of day i for series s, the curve each
    series got (``used``: the one asked for, or its fallback), the weekday shares behind it,
    the daily growth the trend curve found (0 elsewhere), and one note per series."""

    weights: np.ndarray
    used: np.ndarray
    weekday: np.ndarray
    growth: np.ndarray
    notes: tuple[str, ...] = field(default_factory=tuple)


def learn_curve(panel: Panel, start: date, end: date, curve: str, calendar: Calendar, period: str) -> Curve:
    """Each day's weight in the period ``[start, end]`` for every series, from its days before ``start``."""
    rows, n = panel.values.shape[0], (end - start).days + 1
    s0 = panel.index(start)
    ones, nothing = np.ones((rows, n)), np.zeros(rows)
    linear = np.full(rows, "linear", dtype=object)
    if curve == "linear" or panel.kind == "level":
        note = "" if curve == "linear" else f"{curve} pacing applies to totals; a level goal paces linearly"
        return Curve(ones, linear, np.ones((rows, 7)), nothing, (note,) * rows)
    shares, known, days = weekday_shares(panel, s0)
    on_days = shares[:, panel.weekdays(s0, s0 + n)]
    weights = np.where(known[:, None], on_days, 1.0)
    used = np.where(known, "weekday", "linear").astype(object)
    notes = [
        ""
        if ok
        else f"weekday pacing needs {WEEKDAY_MINIMUM} days of history before the period, had {d}; paced linearly"
        for ok, d in zip(known, days)
    ]
    growth = nothing
    if curve == "seasonal":
        season, found = _season(panel, start, end, calendar, period, np.where(known[:, None], shares, 1.0))
        ok = known & found
        weights = np.where(ok[:, None], season * on_days, weights)
        used = np.where(ok, "seasonal", used)
        notes = [
            note or ("" if f else "seasonal pacing needs the same period a year earlier; paced by weekday")
            for note, f in zip(notes, found)
        ]
    elif curve == "trend":
        growth, found = _growth(panel, s0)
        ok = known & found
        growth = np.where(ok, growth, 0.0)
        centre = (n - 1) / 2
        weights = np.where(ok[:, None], on_days * np.exp(growth[:, None] * (np.arange(n) - centre)), weights)
        used = np.where(ok, "trend", used)
        notes = [
            note
            or ("" if f else f"trend pacing needs {TREND_MINIMUM} days of history before the period; paced by weekday")
            for note, f in zip(notes, found)
        ]
    return Curve(weights, used, np.where(known[:, None], shares, 1.0), growth, tuple(notes))


def weekday_shares(panel: Panel, s0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each series' weekday shares (Monday first, averaging 1) from its own last 12 weeks before
    column ``s0``; whether it had the 4 weeks needed; how many days it had."""
    lo = s0 - WEEKDAY_HISTORY
    history = panel.own(lo, s0)
    days = panel.own_days(lo, s0)
    weekdays = panel.weekdays(lo, s0)
    with quiet():
        means = np.stack([np.nanmean(history[:, weekdays == d], axis=1) for d in range(7)], axis=1)
        overall = np.nanmean(means, axis=1, keepdims=True)
    # A weekday that never had rows has a mean of 0, and so no weight.
    shares = np.where((overall > 0) & np.isfinite(means), means / np.where(overall > 0, overall, 1), 1.0)
    return np.clip(shares, 0.0, None), days >= WEEKDAY_MINIMUM, days


def _season(
    panel: Panel, start: date, end: date, calendar: Calendar, period: str, weekday: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The mean shape of the same period in up to three past years that each series' own history
    covers, and whether it covers one."""
    rows, n = panel.values.shape[0], (end - start).days + 1
    total, count = np.zeros((rows, n)), np.zeros(rows)
    p_start = start
    for _ in range(SEASONAL_YEARS):
        p_start, p_end = calendar.year_before(period, p_start)
        i0 = panel.index(p_start)
        covered = panel.origin <= i0
        if i0 < 0 or not covered.any():
            break
        m = (p_end - p_start).days + 1
        share = weekday[:, panel.weekdays(i0, i0 + m)]
        past = np.nan_to_num(panel.own(i0, i0 + m))
        # Weekday effects out (a quiet weekday carries nothing to take out), a week's mean in.
        counted = share > 0
        smooth = rolling_mean(np.where(counted, past / np.where(counted, share, 1), 0.0), counted, 7)
        with quiet():
            level = np.nanmean(smooth, axis=1, keepdims=True)
        # A day that netted out negative (refunds beyond sales) paces nothing, never backwards.
        normalised = np.clip(np.where(level > 0, smooth / np.where(level > 0, level, 1), 1.0), 0.0, None)
        positions = (np.arange(n) + 0.5) * m / n - 0.5
        shape = np.stack([np.interp(positions, np.arange(m), row) for row in normalised])
        total += np.where(covered[:, None], shape, 0.0)
        count += covered
    # A season with no weight at all is no shape to pace on.
    found = (count > 0) & (total.sum(axis=1) > 0)
    return np.where(found[:, None], total / np.maximum(count, 1)[:, None], 1.0), found


def _growth(panel: Panel, s0: int) -> tuple[np.ndarray, np.ndarray]:
    """Each series' daily growth: the slope of a least-squares line through the logarithms of its
    weekly totals over the last half year (whole weeks of its own history, each above zero)."""
    weeks = TREND_HISTORY // 7
    history = panel.own(s0 - weeks * 7, s0).reshape(panel.values.shape[0], weeks, 7)
    totals = history.sum(axis=2)  # NaN where a week reaches before the series' origin
    usable = np.isfinite(totals) & (totals > 0)
    logs = np.log(np.where(usable, totals, 1.0))
    x = np.arange(weeks, dtype=float)[None, :]
    count = usable.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (x * usable).sum(axis=1) / count
        my = (logs * usable).sum(axis=1) / count
        sxy = (((x - mx[:, None]) * (logs - my[:, None])) * usable).sum(axis=1)
        sxx = (((x - mx[:, None]) ** 2) * usable).sum(axis=1)
        slope = np.where(sxx > 0, sxy / sxx, 0.0) / 7
    found = count * 7 >= TREND_MINIMUM
    return np.clip(np.nan_to_num(slope), -TREND_LIMIT, TREND_LIMIT), found


def rolling_mean(values: np.ndarray, counted: np.ndarray, width: int) -> np.ndarray:
    """The mean of the counted days in a centred window of ``width`` days (edges padded)."""
    pad = width // 2

    def rolling_sum(a: np.ndarray) -> np.ndarray:
        padded = np.pad(a.astype(float), ((0, 0), (pad, pad)), mode="edge")
        csum = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
        return csum[:, width:] - csum[:, :-width]

    sums, counts = rolling_sum(values * counted), rolling_sum(counted)
    return np.where(counts > 0, sums / np.where(counts > 0, counts, 1), 0.0)


def columns(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Columns ``lo..hi-1``, NaN where they fall outside the data."""
    out = np.full((values.shape[0], hi - lo), np.nan)
    a, b = max(lo, 0), min(hi, values.shape[1])
    if a < b:
        out[:, a - lo : b - lo] = values[:, a:b]
    return out


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Each row's last value so far on every day (NaN before its first): a level's reading."""
    index = np.where(~np.isnan(values), np.arange(values.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    return values[np.arange(values.shape[0])[:, None], index]


def with_groups(rows: np.ndarray, groups: np.ndarray, *, known: bool = False) -> np.ndarray:
    """The rows followed by one sum per group of consecutive rows. With ``known``, a group adds up
    the members whose value is known (NaN only when none is): a segment without history leaves
    its total's other numbers standing."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    if not known:
        return np.concatenate([rows, np.add.reduceat(rows, starts, axis=0)], axis=0)
    finite = np.isfinite(rows)
    sums = np.add.reduceat(np.where(finite, rows, 0.0), starts, axis=0)
    seen = np.logical_or.reduceat(finite, starts, axis=0)
    return np.concatenate([rows, np.where(seen, sums, np.nan)], axis=0)


class quiet:
    """Silence numpy's warnings about empty slices (all-NaN series are handled explicitly)."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)
