"""Reading goals.yml: ``load_config`` turns the file into a frozen :class:`~goalwatch.config.models.Config`.

Called by the CLI (``goalwatch check``) and by every DAG file at parse time, so it stays light:
pydantic and PyYAML (its C parser where PyYAML has one) only, and an unchanged file is not
validated again: its config comes from ``cache`` (on disk, since the dag-processor parses each DAG
file in a new process). Every problem is reported as ``FILE:LINE: KEY: message`` in one
:class:`~goalwatch.errors.ConfigError` that lists all of them at once; checks across keys (a
goal's metric exists, segment targets add up) run on the raw YAML so they are reported together
with the problems of single fields.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from goalwatch.config import cache
from goalwatch.config.models import Config
from goalwatch.config.problems import key_lines, line_of, message, problem
from goalwatch.config.settings import settings
from goalwatch.errors import ConfigError

__all__ = ["config_for_dags", "default_config_path", "load_config"]


def default_config_path() -> Path:
    """``$GOALWATCH_CONFIG``, else ``config/goals.yml`` in the working directory."""
    return settings().config or Path("config/goals.yml")


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate goals.yml; raise ConfigError naming every wrong key at once.

    An unchanged file (the same bytes) is not validated again: its config comes from the cache.
    """
    path = Path(path) if path is not None else default_config_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror})"]) from exc
    key = cache.key_of(raw)
    config = cache.recall(path, key)
    if config is None:
        config = _validate(path, raw.decode("utf-8"))
        cache.keep(path, key, config)
    config._path = path
    return config


def _validate(path: Path, text: str) -> Config:
    node, data = _parse(path, text)
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping with 'metrics' and 'goals' at the top"])
    found: list[tuple[tuple[Any, ...], str]] = _cross_checks(data)
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        found += [(err["loc"], message(err)) for err in exc.errors()]
    if found:
        lines = key_lines(node)
        found.sort(key=lambda item: line_of(lines, item[0]) or 0)
        raise ConfigError([problem(path, lines, loc, msg) for loc, msg in found])
    assert config is not None
    return config


# libyaml's parser where PyYAML was built with it: about six times faster on a large goals.yml.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (its marks give each key's line) and the data built from it: one
    parse for both."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: not valid YAML: {reason}"]) from None
    finally:
        loader.dispose()


def _cross_checks(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """Checks across keys (a goal's metric exists, goal names are unique), on the raw YAML so
    they are reported together with the problems of single fields."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    metrics = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    goals = data.get("goals") if isinstance(data.get("goals"), list) else []
    seen: dict[str, int] = {}
    for i, goal in enumerate(goals):
        if not isinstance(goal, dict):
            continue
        metric, name = goal.get("metric"), goal.get("name")
        if isinstance(metric, str) and metrics and metric not in metrics:
            known = ", ".join(repr(m) for m in sorted(metrics))
            problems.append((("goals", i, "metric"), f"{metric!r} is not a metric (known: {known})"))
        denominator = goal.get("denominator")
        if goal.get("kind") == "ratio" and not denominator:
            problems.append((("goals", i, "kind"), "a ratio goal needs a denominator metric"))
        if isinstance(denominator, str) and metrics and denominator not in metrics:
            known = ", ".join(repr(m) for m in sorted(metrics))
            problems.append((("goals", i, "denominator"), f"{denominator!r} is not a metric (known: {known})"))
        problems += _segment_checks(i, goal, metrics)
        if isinstance(name, str):
            if name in seen:
                problems.append((("goals", i, "name"), f"{name!r} is already the name of goals[{seen[name]}]"))
            seen.setdefault(name, i)
    return problems


def _segment_checks(i: int, goal: dict[str, Any], metrics: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    segments = goal.get("segments")
    if not isinstance(segments, dict):
        return []
    by, targets = segments.get("by"), segments.get("targets")
    if not isinstance(by, list) or not isinstance(targets, dict) or not by:
        return []
    problems: list[tuple[tuple[Any, ...], str]] = []
    metric = metrics.get(goal.get("metric")) if isinstance(goal.get("metric"), str) else None
    dims = metric.get("dimensions") if isinstance(metric, dict) else None
    if isinstance(dims, list):
        for d in by:
            if d not in dims:
                problems.append(
                    (
                        ("goals", i, "segments", "by"),
                        f"{d!r} is not a dimension of metric {goal.get('metric')!r} (it has: {', '.join(dims) or 'none'})",
                    )
                )
    allowed = metric.get("values") if isinstance(metric, dict) else None
    if isinstance(allowed, dict):
        for key in targets:
            for d, part in zip(by, str(key).split("/")):
                if isinstance(allowed.get(d), list) and part not in map(str, allowed[d]):
                    problems.append(
                        (
                            ("goals", i, "segments", "targets", key),
                            f"{part!r} is not among the values of {d!r} in metric {goal.get('metric')!r}",
                        )
                    )
    for key in targets:
        if len(str(key).split("/")) != len(by):
            problems.append(
                (
                    ("goals", i, "segments", "targets", key),
                    f"{key!r} should name one value per dimension of {'/'.join(by)}",
                )
            )
    target = goal.get("target")
    numbers = [v for v in targets.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if (
        isinstance(target, (int, float))
        and len(numbers) == len(targets)
        and goal.get("kind", "total") in ("total", "level")
    ):
        total = sum(numbers)
        if abs(total - target) > 1e-6 * max(abs(target), 1):
            problems.append(
                (
                    ("goals", i, "segments", "targets"),
                    f"the segment targets add up to {total:,.10g}, not the goal's target {target:,.10g}",
                )
            )
    return problems


def config_for_dags(dag_file: str) -> Config:
    """The config the DAG files use: ``$GOALWATCH_CONFIG``, else ``config/goals.yml`` beside ``dags/``."""
    path = settings().config or Path(dag_file).resolve().parents[1] / "config" / "goals.yml"
    return load_config(path)
