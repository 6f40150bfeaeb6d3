"""What it would take: the daily rate a goal's target needs for the days left, against its rate
over the last four weeks. Pure numpy; called by ``core.pacing``."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from goalwatch.core.curves import Panel
from goalwatch.core.spread import RECENT_DAYS

__all__ = ["rates"]


def rates(
    rows: Any, values: np.ndarray, targets: np.ndarray, actual: np.ndarray, *, kind: str, days_left: int
) -> tuple[np.ndarray, np.ndarray]:
    """The daily rate each row needs for the days left to reach its target, and its daily rate
    over the last four weeks (a level's daily change); NaN for ratios or once the period is over."""
    count = len(rows.owner)
    if kind == "ratio":
        return np.full(count, np.nan), np.full(count, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        required = (targets - actual) / days_left if days_left > 0 else np.full(count, np.nan)
    panel = Panel(values, date.min)
    last = values.shape[1]
    if kind == "level":
        filled = _forward_fill_rows(values)
        recent = (filled[:, -1] - columns_at(filled, last - 1 - RECENT_DAYS)) / RECENT_DAYS
    else:
        own = panel.own(last - RECENT_DAYS, last)
        with np.errstate(invalid="ignore", divide="ignore"):
            recent = np.nansum(own, axis=1) / panel.own_days(last - RECENT_DAYS, last)
    if rows.groups is not None:
        recent = np.concatenate(
            [recent, np.add.reduceat(recent, np.flatnonzero(np.r_[True, rows.groups[1:] != rows.groups[:-1]]))]
        )
    return required, recent


def columns_at(values: np.ndarray, column: int) -> np.ndarray:
    return values[:, column] if 0 <= column < values.shape[1] else np.full(values.shape[0], np.nan)


def _forward_fill_rows(values: np.ndarray) -> np.ndarray:
    index = np.where(~np.isnan(values), np.arange(values.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    return values[np.arange(values.shape[0])[:, None], index]
