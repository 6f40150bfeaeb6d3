"""Great Expectations (GX Core 1.x) suites: data quality per metric, and the goal checks.

Called by the evaluate DAG's tasks and by ``goalwatch evaluate``. Suites are plain GX JSON in
``expectations/`` (``data_quality/<metric>.json`` and ``goal_checks.json``); where a file is absent
the default built here is used, and ``goalwatch suites`` writes the defaults out for editing.
GX is imported inside the functions: it costs seconds and DAG files must parse fast.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalwatch.config import Metric
from goalwatch.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from goalwatch.verdicts import Verdict

__all__ = [
    "Finding",
    "GoalFlags",
    "QualityReport",
    "check_goals",
    "data_quality_suite",
    "goal_checks_suite",
    "load_suite",
    "validate_data",
]

log = logging.getLogger(__name__)
GOAL_CHECKS = "goal_checks"
EXAMPLES = 5


def data_quality_suite(name: str, metric: Metric) -> dict[str, Any]:
    """The default data-quality suite of a metric: schema, rows present, not null, non-negative, one row per day and segment."""
    columns = ["day", *metric.dimensions, "value"]
    exps: list[dict[str, Any]] = [
        _exp("expect_table_columns_to_match_set", {"column_set": columns, "exact_match": False}),
        _exp("expect_table_row_count_to_be_between", {"min_value": 1}),
    ]
    exps += [_exp("expect_column_values_to_not_be_null", {"column": c}) for c in columns]
    if metric.non_negative:
        exps.append(_exp("expect_column_values_to_be_between", {"column": "value", "min_value": 0}))
    if metric.dimensions:
        exps.append(_exp("expect_compound_columns_to_be_unique", {"column_list": ["day", *metric.dimensions]}))
    else:
        exps.append(_exp("expect_column_values_to_be_unique", {"column": "day"}))
    return {"name": f"data_quality.{name}", "expectations": exps, "meta": {"metric": name}}


def goal_checks_suite() -> dict[str, Any]:
    """The goal checks on today's numbers: pace against the critical and warning levels, the
    chance of missing against the goal's confidence; each also with the hysteresis margin, which
    decides whether a status already held is kept. The levels are suite parameters, so one suite
    serves every goal; ``meta.check`` names the finding each expectation stands for."""

    def at_least(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return _exp("expect_column_values_to_be_between",
                    {"column": column, "min_value": {"$PARAMETER": parameter}}, severity=severity, check=check)

    def below(column: str, parameter: str, severity: str, check: str) -> dict[str, Any]:
        return _exp("expect_column_values_to_be_between",
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
class Finding:
    """One failed expectation, with a few of the rows that broke it."""

    expectation: str
    column: str | None
    unexpected: int
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f" on `{self.column}`" if self.column else ""
        rows = f" ({self.unexpected} rows, e.g. {'; '.join(self.examples)})" if self.unexpected else ""
        return f"{self.expectation}{where}{rows}"


@dataclass(frozen=True)
class QualityReport:
    metric: str
    rows: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    version: str | None = None  # the ingest the checked rows came from (see Store.versions)

    @property
    def success(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        findings = tuple(Finding(**{**f, "examples": tuple(f["examples"])}) for f in data["findings"])
        return cls(metric=data["metric"], rows=data["rows"], findings=findings, version=data.get("version"))


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


def validate_data(metric: str, frame: pd.DataFrame, suite: Mapping[str, Any]) -> QualityReport:
    """Run a data-quality suite on a metric's frame; failures name the rows that broke them."""
    frame = frame.reset_index(drop=True)
    results = _run(suite, frame, parameters={}, index_columns=None)
    findings = []
    for res in results:
        if res.success:
            continue
        kwargs = res.expectation_config.kwargs
        column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
        result = res.result or {}
        rows = result.get("partial_unexpected_index_list") or result.get("unexpected_index_list") or []
        examples = tuple(_example(frame, row) for row in rows[:EXAMPLES])
        if res.expectation_config.type == "expect_table_columns_to_match_set":
            missing = sorted(set(kwargs["column_set"]) - set(result.get("observed_value") or []))
            examples = tuple(f"missing column {c}" for c in missing)
        findings.append(
            Finding(
                expectation=res.expectation_config.type,
                column=column,
                unexpected=int(result.get("unexpected_count") or 0),
                examples=examples,
            )
        )
    return QualityReport(metric=metric, rows=len(frame), findings=tuple(findings))


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
        for res in _run(suite, frame, parameters=params, index_columns=["key"]):
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


def _exp(kind: str, kwargs: dict[str, Any], *, severity: str = "critical", check: str | None = None) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"check": check} if check else {}, "severity": severity}


def _example(frame: pd.DataFrame, row: Any) -> str:
    index = row if isinstance(row, int) else None
    if index is None or index >= len(frame):
        return str(row)
    record = frame.iloc[index].to_dict()
    return f"row {index}: " + ", ".join(f"{k}={v}" for k, v in record.items())


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


def _run(
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
