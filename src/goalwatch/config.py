"""goals.yml -> frozen pydantic models.

Called by the CLI (``goalwatch check``) and by every DAG file at parse time, so it stays light:
pydantic and PyYAML only. Every problem is reported as ``FILE:LINE: KEY: message`` in one
:class:`~goalwatch.errors.ConfigError` that lists all of them at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from goalwatch.errors import ConfigError

__all__ = [
    "Config",
    "FileSource",
    "Goal",
    "Metric",
    "Notify",
    "PERIODS",
    "SqlSource",
    "config_for_dags",
    "default_config_path",
    "load_config",
]

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# A channel name as Slack allows it (#lowercase-name) or a channel id (C0123ABCD).
Channel = Annotated[str, Field(pattern=r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,})$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SqlSource(_Model):
    """A query run through an Airflow connection; it returns ``day``, dimensions and ``value``."""

    conn_id: str
    sql: str = Field(min_length=1)


class FileSource(_Model):
    """A CSV or Parquet file with columns ``day``, dimensions and ``value``.

    A relative path is read from the directory that holds goals.yml.
    """

    path: str = Field(min_length=1)

    @field_validator("path")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if not value.lower().endswith((".csv", ".parquet")):
            raise ValueError(f"{value!r} is neither a .csv nor a .parquet file")
        return value


def _source_kind(value: Any) -> str:
    if isinstance(value, FileSource) or (isinstance(value, dict) and "path" in value):
        return "file"
    return "sql"


class Metric(_Model):
    source: Annotated[
        Annotated[SqlSource, Tag("sql")] | Annotated[FileSource, Tag("file")], Discriminator(_source_kind)
    ]
    dimensions: tuple[Name, ...] = ()
    unit: str | None = None
    non_negative: bool = True
    description: str = ""


class Notify(_Model):
    channel: Channel | None = None
    mention: tuple[str, ...] = ()


class Goal(_Model):
    name: Name
    metric: str
    period: Period
    target: float = Field(gt=0)
    warn_below: float = Field(default=0.97, gt=0, le=1)
    critical_below: float = Field(default=0.90, gt=0, le=1)
    pacing: Literal["linear"] = "linear"
    title: str | None = Field(default=None, max_length=150)
    notify: Notify = Notify()

    @field_validator("critical_below")
    @classmethod
    def _levels_in_order(cls, value: float, info: ValidationInfo) -> float:
        warn = info.data.get("warn_below")
        if warn is not None and value > warn:
            raise ValueError(f"critical_below ({value}) is above warn_below ({warn})")
        return value

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


class Config(_Model):
    timezone: str = "UTC"
    default_channel: Channel = "#goals"
    metrics: dict[Name, Metric]
    goals: tuple[Goal, ...]
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("goals")
    @classmethod
    def _some_goal(cls, value: tuple[Goal, ...]) -> tuple[Goal, ...]:
        if not value:
            raise ValueError("lists no goal: add at least one")
        return value

    @property
    def path(self) -> Path | None:
        """The file this config was loaded from, if any."""
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    def metric(self, name: str) -> Metric:
        return self.metrics[name]

    def channel_for(self, goal: Goal) -> str:
        return goal.notify.channel or self.default_channel

    def goal(self, name: str) -> Goal:
        for goal in self.goals:
            if goal.name == name:
                return goal
        raise KeyError(name)


def default_config_path() -> Path:
    """``$GOALWATCH_CONFIG``, else ``config/goals.yml`` in the working directory."""
    return Path(os.environ.get("GOALWATCH_CONFIG", "config/goals.yml"))


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate goals.yml; raise ConfigError naming every wrong key at once."""
    path = Path(path) if path is not None else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the file ({exc.strerror})"]) from exc
    try:
        data = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: not valid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping with 'metrics' and 'goals' at the top"])
    found: list[tuple[tuple[Any, ...], str]] = _cross_checks(data)
    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        found += [(err["loc"], _message(err)) for err in exc.errors()]
    if found:
        found.sort(key=lambda item: _line_of(lines, item[0]) or 0)
        raise ConfigError([_problem(path, lines, loc, msg) for loc, msg in found])
    assert config is not None
    config._path = path
    return config


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
        if isinstance(name, str):
            if name in seen:
                problems.append((("goals", i, "name"), f"{name!r} is already the name of goals[{seen[name]}]"))
            seen.setdefault(name, i)
    return problems


def _message(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not one of {ctx.get('expected')}"
    if err["type"] == "string_pattern_mismatch":
        return f"{err['input']!r} is not allowed here (it must match {ctx.get('pattern')})"
    if err["type"] == "extra_forbidden":
        return "is not a known key"
    if err["type"] == "missing":
        return "is required"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


# Names pydantic puts in an error's location for union branches: not keys the user wrote.
_BRANCHES = ("sql", "file")


def _key(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for i, p in enumerate(loc) if not (p in _BRANCHES and i and loc[i - 1] == "source"))


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in _key(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    key = _key(loc)
    while key and key not in lines:
        key = key[:-1]
    return lines.get(key)


def _problem(path: Path, lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...], msg: str) -> str:
    line = _line_of(lines, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {_dotted(loc) or '(top level)'}: {msg}"


def _key_lines(node: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path of the YAML document to its 1-based line number."""
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return lines
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*prefix, key_node.value)
            lines[key] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            key = (*prefix, i)
            lines[key] = item.start_mark.line + 1
            lines.update(_key_lines(item, key))
    return lines


def config_for_dags(dag_file: str) -> Config:
    """The config the DAG files use: ``$GOALWATCH_CONFIG``, else ``config/goals.yml`` beside ``dags/``."""
    path = os.environ.get("GOALWATCH_CONFIG") or Path(dag_file).resolve().parents[1] / "config" / "goals.yml"
    return load_config(path)
