"""Data quality: the default suite of a metric, generated from goals.yml, and running it on the
metric's stored rows and on its days.

Called by ``pipeline.check_data`` (the evaluate DAG's ``check_data`` task, ``goalwatch
evaluate`` and ``replay``) and by ``goalwatch suites write``. A failure becomes a
:class:`~goalwatch.core.findings.Finding` in words, with example rows or days; the days come
from ``checks.days``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from goalwatch.checks.days import DAY_CHECKS, days_frame
from goalwatch.checks.suites import expectation, run_suite
from goalwatch.config import Metric
from goalwatch.core.findings import Finding, QualityReport

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["data_quality_suite", "merge_suite", "validate_data"]

EXAMPLES = 5  # example rows (or days) named per failed expectation


def data_quality_suite(name: str, metric: Metric) -> dict[str, Any]:
    """The default data-quality suite of a metric, generated from its config.

    Most expectations run on the rows as ingested. Those with ``meta.on: days`` run on the
    metric's days instead (see :func:`days_frame`): one row per day from the first to the run's
    day, with how the data arrived, its row count and total against the trailing baseline, and,
    for an hourly source, its hours. ``description`` is what the data-issue alert calls a failure.
    """
    exps = [*_row_checks(metric), *_day_checks(metric)]
    for exp in exps:
        exp["meta"]["generated"] = _fingerprint(exp["kwargs"])
    return {"name": f"data_quality.{name}", "expectations": exps, "meta": {"metric": name, "days": dict(DAY_CHECKS)}}


def _row_checks(metric: Metric) -> list[dict[str, Any]]:
    """Expectations on the rows as ingested: schema, rows present, nulls, values, duplicates, sets."""
    columns = list(metric.columns)
    keys = ["day", *metric.dimensions, *(["currency"] if metric.currency else [])]
    exps: list[dict[str, Any]] = [
        expectation(
            "expect_table_columns_to_match_set",
            {"column_set": columns, "exact_match": True},
            description="The source's columns changed (a renamed, missing or new column)",
        ),
        expectation(
            "expect_table_row_count_to_be_between", {"min_value": 1}, description="The source returned no rows"
        ),
    ]
    exps += [
        expectation("expect_column_values_to_not_be_null", {"column": c}, description=f"Rows without a {c}")
        for c in columns
    ]
    if metric.non_negative:
        exps.append(
            expectation(
                "expect_column_values_to_be_between", {"column": "value", "min_value": 0}, description="Negative values"
            )
        )
    duplicates = f"Duplicate rows: more than one per {' × '.join(keys)}"
    if len(keys) > 1:
        exps.append(expectation("expect_compound_columns_to_be_unique", {"column_list": keys}, description=duplicates))
    else:
        exps.append(expectation("expect_column_values_to_be_unique", {"column": "day"}, description=duplicates))
    for dim, allowed in metric.values.items():
        exps.append(
            expectation(
                "expect_column_values_to_be_in_set",
                {"column": dim, "value_set": list(allowed)},
                description=f"Unknown {dim} values",
            )
        )
    if metric.currency:
        exps.append(
            expectation(
                "expect_column_values_to_be_in_set",
                {"column": "currency", "value_set": [metric.currency]},
                description=f"Amounts not in {metric.currency} (mixed currencies)",
            )
        )
    return exps


def _day_checks(metric: Metric) -> list[dict[str, Any]]:
    """Expectations on the metric's days (``meta.on: days``): arrival, row counts, spikes, hours."""
    exps: list[dict[str, Any]] = []

    def on_days(kind: str, kwargs: dict[str, Any], description: str, check: str | None = None) -> dict[str, Any]:
        exp = expectation(kind, kwargs, description=description, check=check)
        exp["meta"]["on"] = "days"
        return exp

    pair = {"ignore_row_if": "either_value_is_missing"}
    exps += [
        on_days(
            "expect_column_values_to_not_be_in_set",
            {"column": "arrival", "value_set": ["late"]},
            "Data late: a day had not arrived by its deadline",
            check="late",
        ),
        on_days(
            "expect_column_values_to_not_be_in_set",
            {"column": "arrival", "value_set": ["missing"]},
            "Missing days: no rows for a day between days that have rows",
            check="missing",
        ),
        on_days(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "rows", "column_B": "rows_low", "or_equal": True, **pair},
            "Fewer rows than usual for a day (a partial day?)",
        ),
        on_days(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "rows_high", "column_B": "rows", "or_equal": True, **pair},
            "More rows than usual for a day",
        ),
        on_days(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {"column_A": "total_high", "column_B": "total", "or_equal": True, **pair},
            "An absurd spike: a day's total far above the days before it",
        ),
    ]
    if metric.grain == "hour":
        exps.append(
            on_days(
                "expect_column_pair_values_to_be_equal",
                {"column_A": "hours", "column_B": "hours_in_day", **pair},
                "Days without their hours: hourly rows do not match the hours the day had",
            )
        )
    return exps


def merge_suite(existing: dict[str, Any], default: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """``existing`` brought up to date with goals.yml, keeping your edits.

    A default check the file lacks is appended. A check the file has (same kind, columns and
    finding) whose arguments are still as generated (``meta.generated`` is their fingerprint)
    takes the new default's arguments (a value added to ``values`` in goals.yml, a new
    dimension in the column set), or goes when goals.yml no longer asks for it. A check whose
    arguments you edited, or that you added, is kept as you wrote it, and so are descriptions,
    severities and ``meta.enabled``. Returns the suite and how many checks were added and
    refreshed.
    """
    wanted = {_identity(e) for e in default["expectations"]}
    expectations = [
        dict(e) for e in existing.get("expectations", []) if _identity(e) in wanted or not _unedited(e)
    ]  # goals.yml no longer asks for it
    by_identity = {_identity(e): e for e in expectations}
    added = refreshed = 0
    for exp in default["expectations"]:
        have = by_identity.get(_identity(exp))
        if have is None:
            expectations.append(exp)
            added += 1
        elif _unedited(have) and have["kwargs"] != exp["kwargs"]:
            have["kwargs"] = exp["kwargs"]
            have["meta"] = {**(have.get("meta") or {}), "generated": exp["meta"]["generated"]}
            refreshed += 1
    meta = {**default.get("meta", {}), **existing.get("meta", {})}
    return {**existing, "expectations": expectations, "meta": meta}, added, refreshed


def _unedited(exp: Mapping[str, Any]) -> bool:
    """Generated by goalwatch, and its arguments still as generated."""
    return (exp.get("meta") or {}).get("generated") == _fingerprint(exp.get("kwargs"))


def _fingerprint(kwargs: Any) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(kwargs, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _identity(exp: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two expectations the same check: kind, columns, where it runs, the finding."""
    kwargs = exp.get("kwargs") or {}
    meta = exp.get("meta") or {}
    where = tuple(str(kwargs.get(k)) for k in ("column", "column_A", "column_B") if k in kwargs)
    return exp.get("type"), where, meta.get("on", "rows"), meta.get("check")


def validate_data(
    metric: str,
    frame: pd.DataFrame,
    suite: Mapping[str, Any],
    *,
    as_of: date | None = None,
    deadline: Callable[[date], datetime] | None = None,
    moment: datetime | None = None,
    timezone: str = "UTC",
) -> QualityReport:
    """Run a metric's data-quality suite on its stored rows (and its days); failures name the
    rows or days that broke them.

    ``as_of`` is the run's day: days after the last one with rows, up to it, are late once
    ``moment`` is past their ``deadline`` (always, without a moment), and otherwise not due yet.
    """
    frame = frame.reset_index(drop=True)
    rows_frame = frame.drop(columns=["hours"], errors="ignore")
    settings = {**DAY_CHECKS, **((suite.get("meta") or {}).get("days") or {})}
    days = days_frame(frame, as_of=as_of, deadline=deadline, moment=moment, timezone=timezone, settings=settings)
    exps = [e for e in suite["expectations"] if (e.get("meta") or {}).get("enabled", True) is not False]
    findings = []
    for on, checked in (("rows", rows_frame), ("days", days)):
        part = [e for e in exps if (e.get("meta") or {}).get("on", "rows") == on]
        if not part:
            continue
        sub = {**suite, "name": f"{suite['name']}.{on}", "expectations": part}
        for res in run_suite(sub, checked, parameters={}, index_columns=None):
            if not res.success:
                finding = _finding(res, checked, on)
                if finding is not None:
                    findings.append(finding)
    # Complete through the day before the first one still to come (only worth saying when the
    # data passes: a report that fails gives no verdict at all).
    waiting = days[days["arrival"].isin(["not_due", "late"])]["day"] if len(days) and not findings else []
    through = None
    if len(waiting) and (days["arrival"] == "not_due").any():
        through = (date.fromisoformat(min(waiting)) - timedelta(days=1)).isoformat()
    return QualityReport(
        metric=metric,
        rows=len(frame),
        findings=tuple(findings),
        through=through,
        as_of=as_of.isoformat() if as_of else None,
    )


def _finding(res: Any, frame: pd.DataFrame, on: str) -> Finding | None:
    config = res.expectation_config
    kwargs = config.kwargs
    named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(
        kwargs.get("column_list") or []
    )
    if _raised(res):
        if any(c not in frame.columns for c in named):
            return None  # a missing column: the schema expectation reports it
        raise_message = next(
            (i.get("exception_message") for i in _exception_infos(res) if i.get("raised_exception")), ""
        )
        return Finding(
            expectation=config.type,
            column=None,
            unexpected=0,
            examples=(f"could not run: {raise_message}",),
            title=config.description or "",
            on=on,
        )
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    if column is None and "column_A" in kwargs:
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    result = res.result or {}
    indexes = result.get("unexpected_index_list") or result.get("partial_unexpected_index_list") or []
    shown = ["day", *named] if on == "days" else None
    if on == "days" and "late" in (kwargs.get("value_set") or ()):
        shown = ["day", "arrival", "due"]
    examples = tuple(_example(frame, row, shown) for row in indexes[:EXAMPLES])
    if config.type == "expect_table_columns_to_match_set":
        mismatched = (result.get("details") or {}).get("mismatched") or {}
        examples = (
            *(f"missing column {c}" for c in mismatched.get("missing") or ()),
            *(f"unexpected column {c}" for c in mismatched.get("unexpected") or ()),
        )
    elif config.type == "expect_table_row_count_to_be_between":
        examples = (f"{result.get('observed_value')} rows",)
    late = on == "days" and kwargs.get("column") == "arrival" and "late" in (kwargs.get("value_set") or ())
    return Finding(
        expectation=config.type,
        column=column,
        unexpected=int(result.get("unexpected_count") or 0),
        examples=examples,
        title=config.description or "",
        on=on,
        late=late,
    )


def _exception_infos(res: Any) -> list[dict[str, Any]]:
    info = res.exception_info or {}
    if "raised_exception" in info:
        return [info]
    return [v for v in info.values() if isinstance(v, dict)]


def _raised(res: Any) -> bool:
    return any(i.get("raised_exception") for i in _exception_infos(res))


def _example(frame: pd.DataFrame, row: Any, columns: list[str] | None = None) -> str:
    index = row if isinstance(row, int) else None
    if index is None or index >= len(frame):
        return str(row)
    record = frame.iloc[index].to_dict()
    if columns is not None:
        return ", ".join(f"{k}={_plain(record[k])}" for k in dict.fromkeys(columns) if k in record)
    return f"row {index}: " + ", ".join(f"{k}={_plain(v)}" for k, v in record.items())


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return "empty" if value != value else f"{value:.10g}"
    return "empty" if value is None else str(value)
