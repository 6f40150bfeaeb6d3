"""Statuses with hysteresis. Pure numpy: no Airflow, GX or Slack. Which condition holds on which
day is decided by the goal checks (GX, ``checks.goals``); this module turns their results into
levels.

A goal's status while its period runs is one of four levels, worst last:

    0 on_track   1 at_risk   2 off_track (warning)   3 off_track (critical)

A level is *entered* the day its condition holds: the forecast ends below target with at least
the goal's ``confidence`` (at_risk), or actual-to-date falls below the warning or critical share
of pace (off_track). It is *left* only once the condition clears by the goal's ``hysteresis``
margin, so a series hovering at a threshold does not flap:

    level[today] = max(enter[today], min(level[yesterday], stay[today]))

where ``stay`` is the level whose condition still holds with the margin added. No level is
entered or held before the goal's ``evidence`` share of the period's pace is due, and off_track is
entered only when the deficit also stands out of the series' usual day-to-day swing
(:func:`checked_levels`, from the goal checks' results). At the period's close the status is
``achieved`` or ``missed``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["LEVELS", "RISK_MARGIN", "checked_levels", "exits", "scan", "status_label"]

LEVELS: tuple[tuple[str, str | None], ...] = (
    ("on_track", None),
    ("at_risk", "warning"),
    ("off_track", "warning"),
    ("off_track", "critical"),
)


RISK_MARGIN = 5  # a chance moves in coarser steps than a pace: its margin is this many times the pace's


def exits(warn: float, critical: float, confidence: float, margin: float) -> dict[str, float]:
    """Where each level is left: its entry level plus the goal's hysteresis margin (the chance of
    missing: five margins below the confidence that entered at_risk, never below even odds)."""
    levels = {
        "warn_exit": warn + margin,
        "critical_exit": critical + margin,
        "confidence_exit": max(0.5, confidence - RISK_MARGIN * margin),
    }
    # 0.8 - 5 x 0.02 is 0.7000000000000001 in floating point: the level is the one written down.
    return {name: round(value, 9) for name, value in levels.items()}


def checked_levels(failed: Mapping[str, np.ndarray], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The enter and stay levels of each row from the goal checks it failed (check name -> rows).

    ``evidence`` failed: too early, no level at all. ``swing`` failed: the deficit stands out, so
    the pace checks may enter off_track (a suite without a ``swing`` check, which the loader
    never gives, would let them always).
    """
    none = np.zeros(rows, dtype=bool)

    def f(name: str) -> np.ndarray:
        return failed.get(name, none)

    stands_out = f("swing") if "swing" in failed else ~none
    enter = np.where(f("enter_risk"), 1, 0)
    enter = np.where(stands_out & f("enter_warning"), 2, enter)
    enter = np.where(stands_out & f("enter_critical"), 3, enter)
    stay = np.where(f("stay_risk"), 1, 0)
    stay = np.where(f("stay_warning"), 2, stay)
    stay = np.where(f("stay_critical"), 3, stay)
    early = f("evidence")
    return np.where(early, 0, enter), np.where(early, 0, stay)


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
