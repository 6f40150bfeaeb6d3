"""The goal checks: every day's pace, chance of missing, evidence and deficit validated by a GX
suite, and the statuses decided from them with hysteresis.

``expectations/goal_checks.json`` (default :func:`goal_checks_suite`) holds one expectation per
condition; the goal's levels (warning, critical, confidence, each with its hysteresis margin, the
evidence needed and the swings a deficit must exceed) enter as suite parameters, and each
expectation's ``severity`` becomes the status's. The suite validates all of the period's days so
far in one run, and the status is scanned through them (``core.status.scan``): an edit to the
suite changes the history behind today's status as much as today's. Called by
``pipeline.statuses``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from goalwatch.checks.suites import expectation, load_suite, run_suite
from goalwatch.core.status import LEVELS, checked_levels, exits, scan
from goalwatch.core.verdicts import HISTORY, NO_DATA, Verdict
from goalwatch.errors import ConfigError

__all__ = ["GOAL_CHECK_NAMES", "decide_statuses", "goal_checks_suite", "load_goal_checks"]

GOAL_CHECKS = "goal_checks"
# The gates goals.yml sets per goal (evidence, swing): a suite written before they existed gets them.
GATES = ("evidence", "swing")

log = logging.getLogger(__name__)
_WARNED: set[Path] = set()


def goal_checks_suite() -> dict[str, Any]:
    """The goal checks on today's numbers: pace against the critical and warning levels, the
    chance of missing against the goal's confidence; each also with the hysteresis margin, which
    decides whether a status already held is kept. The levels are suite parameters, so one suite
    serves every goal; ``meta.check`` names the finding each expectation stands for. ``evidence``
    fails while too little of the period's pace is due to judge it (no alarm then); ``swing``
    fails when the deficit to pace is beyond the series' usual day-to-day swings (off track needs
    it). A stored suite without one of them gets the default's (``load_goal_checks``)."""

    def at_least(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return expectation(
            "expect_column_values_to_be_between",
            {"column": column, "min_value": {"$PARAMETER": parameter}},
            severity=severity,
            check=check,
        )

    def below(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return expectation(
            "expect_column_values_to_be_between",
            {"column": column, "max_value": {"$PARAMETER": parameter}, "strict_max": True},
            severity=severity,
            check=check,
        )

    return {
        "name": GOAL_CHECKS,
        "expectations": [
            at_least("pace_ratio", "critical_below", "critical", "enter_critical"),
            at_least("pace_ratio", "warn_below", "warning", "enter_warning"),
            below("miss_probability", "confidence", "warning", "enter_risk"),
            at_least("pace_ratio", "critical_exit", "critical", "stay_critical"),
            at_least("pace_ratio", "warn_exit", "warning", "stay_warning"),
            below("miss_probability", "confidence_exit", "warning", "stay_risk"),
            at_least("evidence", "evidence", "info", "evidence"),
            expectation(
                "expect_column_values_to_be_between",
                {"column": "swings", "max_value": {"$PARAMETER": "swing"}},
                severity="info",
                check="swing",
            ),
        ],
        "meta": {},
    }


GOAL_CHECK_NAMES = (
    *(f"{p}_{x}" for p in ("enter", "stay") for x in ("critical", "warning", "risk")),
    "evidence",
    "swing",
)


def load_goal_checks(directory: Path) -> dict[str, Any]:
    """``directory/goal_checks.json``, or the default suite; each expectation must name its check.

    A stored suite without the evidence or swing gate (one written before they existed) gets the
    default's, said in the log: goals.yml turns a gate off (``evidence: 0``, ``swing: 0``), not
    its absence. ``mostly`` is refused: all goals' days go through one run, so it would let one
    goal's days excuse another's."""
    path = directory / "goal_checks.json"
    default = goal_checks_suite()
    suite = load_suite(directory, "goal_checks.json", default, check_names=GOAL_CHECK_NAMES)
    mostly = [i for i, e in enumerate(suite["expectations"]) if "mostly" in (e.get("kwargs") or {})]
    if mostly:
        raise ConfigError(
            [f"{path}: expectations[{i}]: 'mostly' cannot apply to goal checks (each row is one goal's day); "
             "remove it" for i in mostly]
        )  # fmt: skip
    have = {(e.get("meta") or {}).get("check") for e in suite["expectations"]}
    missing = [e for e in default["expectations"] if e["meta"]["check"] in GATES and e["meta"]["check"] not in have]
    if missing and suite is not default:
        names = " and ".join(e["meta"]["check"] for e in missing)
        if path not in _WARNED:  # said once per process, not on every replayed day
            _WARNED.add(path)
            log.warning(
                "%s has no %s check: using goalwatch's default. Run `goalwatch suites write` to store it "
                "there, or set the goal's evidence/swing to 0 in goals.yml to turn the gate off.",
                path,
                names,
            )
        suite = {**suite, "expectations": [*suite["expectations"], *missing]}
    return suite


def _frame(members: list[Verdict]) -> tuple[Any, list[slice]]:
    """One row per verdict and day of its period so far (today last), and each verdict's rows."""
    import pandas as pd

    blocks, spans, at = [], [], 0
    for v in members:
        days = v.history if v.history is not None else np.array([[getattr(v, c)] for c in HISTORY], dtype=float)
        blocks.append(np.asarray(days, dtype=float))
        spans.append(slice(at, at + blocks[-1].shape[1]))
        at += blocks[-1].shape[1]
    values = np.concatenate(blocks, axis=1)
    values[~np.isfinite(values)] = np.nan  # GX skips a missing value: nothing to judge on it
    frame = pd.DataFrame(dict(zip(HISTORY, values)))
    # A verdict that carries no measure of its swing is not held back by it.
    frame["swings"] = frame["swings"].fillna(np.inf)
    return frame, spans


def _failed(
    suite: Mapping[str, Any], frame: Any, params: dict[str, float]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Which rows fail each check, and each check's severity."""
    failed: dict[str, np.ndarray] = {}
    severities: dict[str, str] = {}
    for res in run_suite(suite, frame, parameters=params, index_columns=None):
        check = (res.expectation_config.meta or {}).get("check")
        severity = res.expectation_config.severity
        severities[check] = str(getattr(severity, "value", severity)).lower()
        rows = failed.setdefault(check, np.zeros(len(frame), dtype=bool))
        if not res.success:
            rows[np.asarray((res.result or {}).get("unexpected_index_list") or [], dtype=int)] = True
    return failed, severities


def decide_statuses(verdicts: list[Verdict], suite: Mapping[str, Any]) -> list[Verdict]:
    """Each pending verdict's status: ``achieved`` or ``missed`` once its period closed, else the
    level its days so far reach through the goal checks, each day's held from the day before
    while its condition still holds with the hysteresis margin."""
    open_ = [v for v in verdicts if v.status == "pending" and not v.closed]
    decided: dict[int, Verdict] = {}
    groups: dict[tuple[float, ...], list[Verdict]] = {}
    for v in open_:
        key = (v.warn_below, v.critical_below, v.confidence, v.hysteresis, v.min_evidence, v.min_swings)
        groups.setdefault(key, []).append(v)
    for (warn, critical, confidence, margin, evidence, swing), members in groups.items():
        frame, spans = _frame(members)
        params = {
            "warn_below": warn,
            "critical_below": critical,
            "confidence": confidence,
            **exits(warn, critical, confidence, margin),
            "evidence": evidence,
            "swing": swing,
        }
        failed, severities = _failed(suite, frame, params)
        if swing == 0 and "swing" in failed:
            failed["swing"][:] = True  # swing: 0 turns the gate off, an unknown swing included
        enter, stay = checked_levels(failed, len(frame))
        levels = _scan_all(members, spans, enter, stay)
        for i, (v, span) in enumerate(zip(members, spans)):
            prior = int(levels[i, -2]) if span.stop - span.start > 1 else v.prior_level
            decided[id(v)] = _status(v, int(levels[i, -1]), prior,
                                     {c: bool(rows[span.stop - 1]) for c, rows in failed.items()}, severities)  # fmt: skip
    out = []
    for v in verdicts:
        if id(v) in decided:
            v = decided[id(v)]
            if v.status == "on_track" and not np.isfinite(v.actual_to_date) and v.evidence >= v.min_evidence:
                # Its pace is due but there is nothing to pace (a ratio whose denominator is 0).
                v = replace(v, note="").with_status(
                    "data_issue", note=f"{NO_DATA} {v.period_label} so far: nothing to judge its pace on"
                )
        elif v.status == "pending" and not np.isfinite(v.actual_to_date):
            # A ratio without a denominator, a level never read: no outcome, so neither verdict.
            v = replace(v, note="").with_status(
                "data_issue", note=f"{NO_DATA} {v.period_label}: nothing to compare with the target"
            )
        elif v.status == "pending":
            v = v.with_status("achieved") if v.actual_to_date >= v.target else v.with_status("missed", "critical")
        out.append(v)
    return out


def _scan_all(members: list[Verdict], spans: list[slice], enter: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Every verdict's levels in one scan: its days right-aligned in a row, the columns before them
    padded so they keep the level it starts from (none for a period's days, else the level held
    the day before)."""
    lengths = np.array([s.stop - s.start for s in spans])
    width = max(2, int(lengths.max()))
    held = len(LEVELS) - 1
    # The spans lie end to end over the frame's rows (as _frame builds them).
    rows = np.repeat(np.arange(len(spans)), lengths)
    starts = np.array([s.start for s in spans])
    cols = width - lengths[rows] + (np.arange(len(enter)) - starts[rows])
    padded_enter = np.zeros((len(spans), width), dtype=enter.dtype)
    padded_stay = np.full((len(spans), width), held, dtype=stay.dtype)
    padded_enter[rows, cols], padded_stay[rows, cols] = enter, stay
    start = np.array([0 if v.history is not None else v.prior_level for v in members], dtype=enter.dtype)
    return scan(padded_enter, padded_stay, start)


def _status(v: Verdict, level: int, prior: int, today: Mapping[str, bool], severities: Mapping[str, str]) -> Verdict:
    import dataclasses

    name = ("risk", "warning", "critical")[level - 1] if level else ""
    severity = None
    if level:
        found = [c for c in (f"enter_{name}", f"stay_{name}") if today.get(c)]
        severity = severities.get(found[0]) if found else None
        severity = severity if severity in ("warning", "critical") else ("critical" if level == 3 else "warning")
    note = ""
    if today.get("evidence") and level == 0 and any(today.get(f"enter_{x}") for x in ("critical", "warning", "risk")):
        note = f"too early to judge: {v.evidence:.0%} of the period's pace is due, {v.min_evidence:.0%} needed"
    return dataclasses.replace(v, prior_level=prior).with_status(LEVELS[level][0], severity, note)  # type: ignore[arg-type]
