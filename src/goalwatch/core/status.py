"""Statuses with hysteresis. Pure numpy: no Airflow, GX or Slack.

A goal's status while its period runs is one of four levels, worst last:

    0 on_track   1 at_risk   2 off_track (warning)   3 off_track (critical)

A level is *entered* the day its condition holds: the forecast ends below target with at least
the goal's ``confidence`` (at_risk), or actual-to-date falls below the warning or critical share
of pace (off_track). It is *left* only once the condition clears by the goal's ``hysteresis``
margin, so a series hovering at a threshold does not flap:

    level[today] = max(enter[today], min(level[yesterday], stay[today]))

where ``stay`` is the level whose condition still holds with the margin added. At the period's
close the status is ``achieved`` or ``missed``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LEVELS", "enter_levels", "scan", "status_label", "stay_levels"]

LEVELS: tuple[tuple[str, str | None], ...] = (
    ("on_track", None),
    ("at_risk", "warning"),
    ("off_track", "warning"),
    ("off_track", "critical"),
)


def _levels(
    pace: np.ndarray, miss: np.ndarray, warn: np.ndarray, critical: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    level = np.where(miss >= confidence, 1, 0)
    level = np.where(pace < warn, 2, level)
    return np.where(pace < critical, 3, level)


def enter_levels(
    pace: np.ndarray, miss: np.ndarray, *, warn: np.ndarray, critical: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    """The level each condition reaches without a margin (arrays broadcast: rows x days)."""
    return _levels(pace, miss, _col(warn), _col(critical), _col(confidence))


def stay_levels(
    pace: np.ndarray,
    miss: np.ndarray,
    *,
    warn: np.ndarray,
    critical: np.ndarray,
    confidence: np.ndarray,
    margin: np.ndarray,
) -> np.ndarray:
    """The level still held when each condition must clear by ``margin`` to be left."""
    m = _col(margin)
    return _levels(pace, miss, _col(warn) + m, _col(critical) + m, _col(confidence) - m)


def scan(enter: np.ndarray, stay: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Levels day by day (columns) for every row, from ``start`` (default: none held) before day 0."""
    levels = np.empty_like(enter)
    previous = np.zeros(enter.shape[0], dtype=enter.dtype) if start is None else start
    for j in range(enter.shape[1]):
        previous = np.maximum(enter[:, j], np.minimum(previous, stay[:, j]))
        levels[:, j] = previous
    return levels


def status_label(status: str, severity: str | None) -> str:
    """``off_track/critical``: a status and its severity as the ledger compares them."""
    return status if severity is None else f"{status}/{severity}"


def _col(values: np.ndarray | float) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array.reshape(-1, 1) if array.ndim == 1 else array
