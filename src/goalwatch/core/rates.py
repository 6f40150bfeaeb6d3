"""What it would take: the daily rate a goal's target needs for the days left, against its rate
over the last four weeks, and the segments behind its gap. Pure numpy; called by ``core.pacing``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from goalwatch.core.curves import Panel, columns, forward_fill, with_groups
from goalwatch.core.spread import RECENT_DAYS

__all__ = ["EXPLAIN_MAX", "EXPLAIN_SHARE", "explain", "rates"]

EXPLAIN_SHARE = 0.8  # name the segments that together explain this much of the gap
EXPLAIN_MAX = 3


def rates(
    rows: Any, panel: Panel, targets: np.ndarray, actual: np.ndarray, *, kind: str, days_left: int
) -> tuple[np.ndarray, np.ndarray]:
    """The daily rate each row needs for the days left to reach its target, and its daily rate
    over the last four weeks (a level's daily change); NaN for ratios or once the period is over."""
    count = len(rows.owner)
    if kind == "ratio":
        return np.full(count, np.nan), np.full(count, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        required = (targets - actual) / days_left if days_left > 0 else np.full(count, np.nan)
    last = panel.days
    if kind == "level":
        filled = forward_fill(panel.values)
        recent = (filled[:, -1] - columns(filled, last - 1 - RECENT_DAYS, last - RECENT_DAYS)[:, 0]) / RECENT_DAYS
    else:
        own = panel.own(last - RECENT_DAYS, last)
        with np.errstate(invalid="ignore", divide="ignore"):
            recent = np.nansum(own, axis=1) / panel.own_days(last - RECENT_DAYS, last)
    if rows.groups is not None:
        recent = with_groups(recent, rows.groups, known=True)
    return required, recent


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
