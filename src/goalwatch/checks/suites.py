"""Great Expectations (GX Core 1.x): running suites, loading them from ``expectations/``, and the
goal checks.

Called by the evaluate DAG's tasks and by ``goalwatch evaluate``; the data-quality suites are
built and read in ``quality``. Suites are plain GX JSON in ``expectations/``
(``data_quality/<metric>.json`` and ``goal_checks.json``); where a file is absent the default is
used, and ``goalwatch suites write`` writes the defaults out for editing. GX is imported inside
the functions: it costs seconds and DAG files must parse fast.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalwatch.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from goalwatch.core.verdicts import Verdict

__all__ = ["GoalFlags", "check_goals", "expectation", "goal_checks_suite", "load_suite", "run_suite"]

log = logging.getLogger(__name__)
GOAL_CHECKS = "goal_checks"


def goal_checks_suite() -> dict[str, Any]:
    """The goal checks on today's numbers: pace against the critical and warning levels, the
    chance of missing against the goal's confidence; each also with the hysteresis margin, which
    decides whether a status already held is kept. The levels are suite parameters, so one suite
    serves every goal; ``meta.check`` names the finding each expectation stands for."""

    def at_least(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return expectation("expect_column_values_to_be_between",
                    {"column": column, "min_value": {"$PARAMETER": parameter}}, severity=severity, check=check)

    def below(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return expectation("expect_column_values_to_be_between",
                    {"column": column, "max_value": {"$PARAMETER": parameter}, "strict_max": True},
                    severity=severity, check=check)

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


def load_suite(directory: Path, relative: str, default: dict[str, Any]) -> dict[str, Any]:
    """The suite stored at ``directory/relative``, or ``default`` when there is no such file.

    A file that is not a valid GX suite is a ConfigError naming the file and the expectation.
    """
    path = directory / relative
    if not path.exists():
        return default
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{path}: not a readable GX suite: {exc}"]) from exc
    problems = _suite_problems(suite, goal_checks=relative == "goal_checks.json")
    if problems:
        raise ConfigError([f"{path}: {p}" for p in problems])
    return suite


def _suite_problems(suite: Any, *, goal_checks: bool) -> list[str]:
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list) or "name" not in suite:
        return ["expected a GX suite: an object with 'name' and a list of 'expectations'"]
    gx = _gx()
    problems = []
    for i, exp in enumerate(suite["expectations"]):
        try:
            gx.ExpectationSuite(name="probe", expectations=[exp])
        except Exception as exc:  # GX raises several kinds; the message says what is wrong
            problems.append(f"expectations[{i}]: {type(exc).__name__}: {exc}")
            continue
        check = (exp.get("meta") or {}).get("check")
        if goal_checks and check not in GOAL_CHECK_NAMES:
            problems.append(f"expectations[{i}].meta.check: {check!r} is not one of {', '.join(GOAL_CHECK_NAMES)}")
    return problems


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
        frame = pd.DataFrame({
            "key": [v.key for v in members],
            "pace_ratio": [_finite(v.pace_ratio) for v in members],
            "miss_probability": [_finite(v.miss_probability) for v in members],
        })
        params = {"warn_below": warn, "critical_below": critical, "confidence": confidence,
                  "warn_exit": warn + margin, "critical_exit": critical + margin,
                  "confidence_exit": confidence - margin}
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
        out[v.key] = GoalFlags(enter=_level(found, "enter"), stay=_level(found, "stay"),
                               severities=tuple(sorted(found.items())))
    return out


def _level(found: Mapping[str, str], prefix: str) -> int:
    for level, name in ((3, "critical"), (2, "warning"), (1, "risk")):
        if f"{prefix}_{name}" in found:
            return level
    return 0


def _finite(value: float) -> float | None:
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def expectation(kind: str, kwargs: dict[str, Any], *, severity: str = "critical", check: str | None = None,
         description: str | None = None) -> dict[str, Any]:
    exp = {"type": kind, "kwargs": kwargs, "meta": {"check": check} if check else {}, "severity": severity}
    if description:
        exp["description"] = description
    return exp


def _gx() -> Any:
    # GX logs every registered function at INFO on import: thousands of lines in a task log.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


@cache
def _context() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


_prepared: dict[str, tuple[str, Any]] = {}
_sources = itertools.count()


def _validation(suite_dict: Mapping[str, Any]) -> Any:
    """A GX ValidationDefinition for the suite, made once per suite text and reused."""
    gx = _gx()
    context = _context()
    name = suite_dict["name"]
    text = json.dumps(suite_dict, sort_keys=True, default=str)
    if name in _prepared and _prepared[name][0] == text:
        return _prepared[name][1]
    if name in _prepared:
        context.validation_definitions.delete(f"run.{name}")
        context.suites.delete(name)
    suite = context.suites.add(gx.ExpectationSuite(**{k: v for k, v in suite_dict.items() if k != "id"}))
    datasource = context.data_sources.add_pandas(f"frames.{name}.{next(_sources)}")
    batch = datasource.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
    validation = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=f"run.{name}"))
    _prepared[name] = (text, validation)
    return validation


def run_suite(
    suite_dict: Mapping[str, Any], frame: pd.DataFrame, *, parameters: dict[str, Any], index_columns: list[str] | None
) -> list[Any]:
    result_format: dict[str, Any] = {"result_format": "COMPLETE"}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    outcome = _validation(suite_dict).run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format=result_format,
    )
    return list(outcome.results)
