"""The goal checks: today's pace and chance of missing validated by a GX suite, and the statuses.

``expectations/goal_checks.json`` (default :func:`goal_checks_suite`) holds one expectation per
condition; the goal's warning, critical and confidence levels (and each with its hysteresis
margin) enter as suite parameters, and each expectation's ``severity`` becomes the status's.
Called by ``pipeline.statuses``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goalwatch.checks.suites import expectation, load_suite, run_suite
from goalwatch.core.status import LEVELS
from goalwatch.core.verdicts import Verdict

__all__ = ["GOAL_CHECK_NAMES", "GoalFlags", "check_goals", "decide_statuses", "goal_checks_suite", "load_goal_checks"]

GOAL_CHECKS = "goal_checks"


def goal_checks_suite() -> dict[str, Any]:
    """The goal checks on today's numbers: pace against the critical and warning levels, the
    chance of missing against the goal's confidence; each also with the hysteresis margin, which
    decides whether a status already held is kept. The levels are suite parameters, so one suite
    serves every goal; ``meta.check`` names the finding each expectation stands for."""

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
        ],
        "meta": {},
    }


GOAL_CHECK_NAMES = tuple(f"{p}_{x}" for p in ("enter", "stay") for x in ("critical", "warning", "risk"))


def load_goal_checks(directory: Path) -> dict[str, Any]:
    """``directory/goal_checks.json``, or the default suite; each expectation must name its check."""
    return load_suite(directory, "goal_checks.json", goal_checks_suite(), check_names=GOAL_CHECK_NAMES)


@dataclass(frozen=True)
class GoalFlags:
    """The status level each goal's numbers reach today: ``enter`` without a margin, ``stay``
    with the hysteresis margin (0 on track, 1 at risk, 2 off track, 3 off track critical), and
    the GX severity of the expectations that failed, by check name."""

    enter: int = 0
    stay: int = 0
    severities: tuple[tuple[str, str], ...] = ()

    def severity(self, level: int) -> str | None:
        """The severity the suite gives the check that put the goal at ``level``."""
        if level == 0:
            return None
        name = ("risk", "warning", "critical")[level - 1]
        found = dict(self.severities)
        return found.get(f"enter_{name}") or found.get(f"stay_{name}") or ("critical" if level == 3 else "warning")


def check_goals(verdicts: Iterable[Verdict], suite: Mapping[str, Any]) -> dict[str, GoalFlags]:
    """Validate today's pace and chance of missing with the goal-checks suite; flags by verdict key.

    Verdicts sharing levels are checked in one GX run with those levels as suite parameters.
    """
    import pandas as pd

    groups: dict[tuple[float, float, float, float], list[Verdict]] = {}
    for v in verdicts:
        groups.setdefault((v.warn_below, v.critical_below, v.confidence, v.hysteresis), []).append(v)
    failed: dict[str, dict[str, str]] = {}
    for (warn, critical, confidence, margin), members in groups.items():
        frame = pd.DataFrame(
            {
                "key": [v.key for v in members],
                "pace_ratio": [_finite(v.pace_ratio) for v in members],
                "miss_probability": [_finite(v.miss_probability) for v in members],
            }
        )
        params = {
            "warn_below": warn,
            "critical_below": critical,
            "confidence": confidence,
            "warn_exit": warn + margin,
            "critical_exit": critical + margin,
            "confidence_exit": confidence - margin,
        }
        for res in run_suite(suite, frame, parameters=params, index_columns=["key"]):
            check = (res.expectation_config.meta or {}).get("check")
            if res.success:
                continue
            severity = str(getattr(res.expectation_config.severity, "value", res.expectation_config.severity))
            for row in (res.result or {}).get("unexpected_index_list") or []:
                failed.setdefault(row["key"], {})[check] = severity.lower()
    out = {}
    for v in verdicts:
        found = failed.get(v.key, {})
        out[v.key] = GoalFlags(
            enter=_level(found, "enter"), stay=_level(found, "stay"), severities=tuple(sorted(found.items()))
        )
    return out


def _level(found: Mapping[str, str], prefix: str) -> int:
    for level, name in ((3, "critical"), (2, "warning"), (1, "risk")):
        if f"{prefix}_{name}" in found:
            return level
    return 0


def _finite(value: float) -> float | None:
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def decide_statuses(verdicts: list[Verdict], suite: Mapping[str, Any]) -> list[Verdict]:
    """Each pending verdict's status: ``achieved`` or ``missed`` once its period closed, else the
    level the goal checks reach today, held from yesterday's level while its condition still
    holds with the hysteresis margin."""
    pending = [v for v in verdicts if v.status == "pending"]
    flags = check_goals(pending, suite) if pending else {}
    out = []
    for v in verdicts:
        if v.status == "pending":
            if v.closed:
                v = v.with_status("achieved") if v.actual_to_date >= v.target else v.with_status("missed", "critical")
            else:
                f = flags[v.key]
                level = max(f.enter, min(v.prior_level, f.stay))
                v = v.with_status(LEVELS[level][0], f.severity(level))
        out.append(v)
    return out
