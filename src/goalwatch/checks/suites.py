"""Great Expectations (GX Core 1.x): running a suite on a frame, and reading suites from files.

Used by ``checks.quality`` (data quality) and ``checks.goals`` (the goal checks). Suites are plain
GX JSON in ``expectations/`` (``data_quality/<metric>.json`` and ``goal_checks.json``); where a
file is absent the default is used, and ``goalwatch suites write`` writes the defaults out for
editing. GX is imported inside the functions: it costs seconds and DAG files must parse fast.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalwatch.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["expectation", "load_suite", "preload", "run_suite"]

log = logging.getLogger(__name__)


def load_suite(
    directory: Path, relative: str, default: dict[str, Any], *, check_names: Iterable[str] | None = None
) -> dict[str, Any]:
    """The suite stored at ``directory/relative``, or ``default`` when there is no such file.

    A file that is not a valid GX suite is a ConfigError naming the file and the expectation; with
    ``check_names``, so is an expectation whose ``meta.check`` is not one of them.
    """
    path = directory / relative
    if not path.exists():
        return default
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{path}: not a readable GX suite: {exc}"]) from exc
    problems = _suite_problems(suite, check_names=tuple(check_names) if check_names is not None else None)
    if problems:
        raise ConfigError([f"{path}: {p}" for p in problems])
    return suite


def _suite_problems(suite: Any, *, check_names: tuple[str, ...] | None) -> list[str]:
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
        if check_names is not None and check not in check_names:
            problems.append(f"expectations[{i}].meta.check: {check!r} is not one of {', '.join(check_names)}")
    return problems


def expectation(
    kind: str,
    kwargs: dict[str, Any],
    *,
    severity: str = "critical",
    check: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    exp = {"type": kind, "kwargs": kwargs, "meta": {"check": check} if check else {}, "severity": severity}
    if description:
        exp["description"] = description
    return exp


def _gx() -> Any:
    # GX logs every registered function at INFO on import: thousands of lines in a task log.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


def preload() -> None:
    """Import Great Expectations now (``runtime.preload``: before a worker forks its tasks)."""
    _gx()


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
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"run.{name}")
    )
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
