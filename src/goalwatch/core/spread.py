"""How much a series usually swings from day to day, and the prediction interval that follows
from it when too few past periods can calibrate one (``core.forecast``). Pure numpy.

A day's swing is measured from the series' own last four weeks before the period (its values over
the curve's weekday shares, relative to their mean), else from the period's days so far; column j
of everything here uses no day after j.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from goalwatch.core.curves import Curve, Panel, columns, quiet, with_groups

__all__ = ["RECENT_DAYS", "model_sigma", "swings"]

RECENT_DAYS = 28
NOISE_MINIMUM = 5  # days a swing is measured from
DRIFT_WEEKS = 12
UNKNOWN_SWING = 0.5  # a day's relative swing assumed until one is measured
UNKNOWN_DRIFT = 0.01  # the daily drift of the rate assumed without eight weeks of history


def swings(panel: Panel, start: date, end: date, learned: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each series' usual day-to-day swing known on each day of the period, the effective number
    of days its rate rests on, and whether the swing is known: from its own last four weeks
    before the period (at least two of them), else from the period's days so far (at least
    NOISE_MINIMUM). For a sum, a day's value over its weight (the curve's pattern taken out)
    relative to their mean; for a level, the spread of its daily changes."""
    s0, n = panel.index(start), (end - start).days + 1
    weights = learned.weights
    norm = weights / np.maximum(weights.mean(axis=1, keepdims=True), 1e-12)
    elapsed = np.cumsum(norm, axis=1)
    effective = np.where(elapsed > 0, elapsed**2 / np.maximum(np.cumsum(norm**2, axis=1), 1e-12), 0.0)
    if panel.kind == "level":
        before = np.diff(columns(panel.values, s0 - RECENT_DAYS - 1, s0), axis=1)
        during = np.diff(columns(panel.values, s0 - 1, s0 + n), axis=1)
        counted_before, counted = np.isfinite(before), np.isfinite(during)
        pre, pre_ok = _spread(np.nan_to_num(before), counted_before, relative=False)
        effective = np.broadcast_to(np.arange(1, n + 1, dtype=float), weights.shape).copy()
    else:
        history = panel.own(s0 - RECENT_DAYS, s0)
        share = learned.weekday[:, panel.weekdays(s0 - RECENT_DAYS, s0)]
        counted_before = np.isfinite(history) & (share > 0)
        before = np.where(counted_before, np.nan_to_num(history) / np.where(share > 0, share, 1), 0.0)
        pre, pre_ok = _spread(before, counted_before, relative=True)
        window = np.nan_to_num(columns(panel.values, s0, s0 + n))
        counted = norm > 0
        during = np.where(counted, window / np.where(counted, norm, 1), 0.0)
    pre_ok &= counted_before.sum(axis=1) >= RECENT_DAYS // 2
    running, running_ok = _running_spread(during, counted, relative=panel.kind != "level")
    swing = np.where(pre_ok[:, None], pre[:, None], running)
    known = pre_ok[:, None] | running_ok
    return swing, effective, known


def _spread(values: np.ndarray, counted: np.ndarray, *, relative: bool) -> tuple[np.ndarray, np.ndarray]:
    count = counted.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (values * counted).sum(axis=1) / count
        sd = np.sqrt(((values - mean[:, None]) ** 2 * counted).sum(axis=1) / (count - 1))
        spread = sd / mean if relative else sd
    ok = (count >= NOISE_MINIMUM) & np.isfinite(spread) & (spread >= 0)
    return np.where(ok, spread, np.nan), ok


def _running_spread(values: np.ndarray, counted: np.ndarray, *, relative: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_spread` of the columns up to each column."""
    c = np.cumsum(counted, axis=1)
    s = np.cumsum(values * counted, axis=1)
    q = np.cumsum(values**2 * counted, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / c
        sd = np.sqrt(np.maximum(q - c * mean**2, 0.0) / (c - 1))
        spread = sd / mean if relative else sd
    ok = (c >= NOISE_MINIMUM) & np.isfinite(spread)
    return np.where(ok, spread, np.nan), ok


def model_sigma(
    panel: Panel,
    start: date,
    current: dict[str, np.ndarray],
    learned: Curve,
    swing: np.ndarray,
    effective: np.ndarray,
    groups: np.ndarray | None,
) -> np.ndarray:
    """The spread of the log error of each day's projection from the series' own variation: the
    rate so far rests on ``effective`` days, the days to come add their own swings, the rate
    drifts as its weekly totals have, and the growth the curve does not follow (all of it for
    linear and weekday pacing, its uncertainty for trend and seasonal pacing) widens it more."""
    series = swing.shape[0]
    n = swing.shape[1]
    share = current["share"][:series]
    weights = current["weights"]
    norm = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    left_sq = np.cumsum((norm**2)[:, ::-1], axis=1)[:, ::-1]
    future = np.concatenate([left_sq[:, 1:], np.zeros((series, 1))], axis=1)  # days after j
    c = np.where(np.isfinite(swing), swing, UNKNOWN_SWING)
    rest = 1 - np.nan_to_num(share, nan=1.0)
    j = np.arange(1, n + 1)[None, :]
    h = n - j
    drift_sq, growth = _drift(panel, start, learned, np.nan_to_num(swing[:, 0], nan=UNKNOWN_SWING))
    var = rest**2 * c**2 / np.maximum(effective, 1.0) + c**2 * future
    var += rest**2 * (drift_sq[:, None] * (j + h) / 3 + (growth[:, None] * (j + h) / 2) ** 2)
    if panel.kind == "level":
        # A level random-walks: the days to come add their steps, and the change so far (j steps
        # of its own noise) is carried forward by 1/share, so its noise is too, less the part
        # already in the level: (1/share - 1)^2 * j steps.
        scale = np.abs(current["projected"][:series])
        carried = np.nan_to_num(share, nan=1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = swing**2 * (h + (rest / carried) ** 2 * j) / scale**2
        var = np.where(np.isfinite(var), var, 0.05**2)
    sigma = np.sqrt(var)
    if groups is not None:
        projected = np.nan_to_num(current["projected"])
        spread = (sigma * projected[:series]) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            group = np.sqrt(with_groups(spread, groups)[series:]) / projected[series:]
        sigma = np.concatenate([sigma, np.nan_to_num(group, nan=UNKNOWN_SWING)])
    return np.maximum(sigma, 0.005)


def _drift(panel: Panel, start: date, learned: Curve, swing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each series' daily drift variance (from week-to-week changes of its weekly totals beyond
    what its daily swing explains) and the daily growth its curve leaves out."""
    s0 = panel.index(start)
    rows = panel.values.shape[0]
    if panel.kind == "level":
        return np.zeros(rows), np.zeros(rows)
    totals = panel.own(s0 - DRIFT_WEEKS * 7, s0).reshape(rows, DRIFT_WEEKS, 7).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = np.diff(np.log(np.where(totals > 0, totals, np.nan)), axis=1)
    counted = np.isfinite(changes)
    count = counted.sum(axis=1)
    with quiet(), np.errstate(invalid="ignore"):
        mean = np.nanmean(changes, axis=1)
        spread = np.nanvar(changes, axis=1, ddof=1)
    known = count >= 8
    beyond = np.maximum(np.nan_to_num(spread) - 2 * swing**2 / 7, 0.0) / 7
    drift_sq = np.where(known, beyond, UNKNOWN_DRIFT**2)
    # Linear and weekday pacing project the rate so far: growth they leave out widens the range.
    left_out = np.isin(learned.used, ("linear", "weekday"))
    growth = np.where(known & left_out, np.abs(np.nan_to_num(mean)) / 7, 0.0)
    return drift_sq, growth
