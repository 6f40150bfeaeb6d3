"""goals.yml's models: frozen pydantic models whose validators say which key is wrong and why.

Read by ``loading.load_config``; used everywhere a goal, metric or channel is needed. Light:
pydantic only (sqlparse inside the SQL check), so DAG files may import it at parse time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    ValidationInfo,
    field_validator,
)

from goalwatch.core.periods import WEEKDAYS, Calendar, Period

__all__ = [
    "Config",
    "FileSource",
    "Goal",
    "Metric",
    "Notify",
    "Segments",
    "SilenceRule",
    "SqlSource",
]

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# A channel name as Slack allows it (#lowercase-name) or a channel id (C0123ABCD).
Channel = Annotated[str, Field(pattern=r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,})$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SqlSource(_Model):
    """A query run through an Airflow connection; it returns ``day``, dimensions and ``value``.

    It must be one read-only statement (SELECT, or WITH ... SELECT); it also runs read-only where
    the database allows it (see ``runtime.connections.read_sql``).
    """

    conn_id: str
    sql: str = Field(min_length=1)

    @field_validator("sql")
    @classmethod
    def _one_read_only_query(cls, value: str) -> str:
        import sqlparse

        statements = [s for s in sqlparse.parse(value) if s.token_first(skip_cm=True) is not None]
        if len(statements) != 1:
            raise ValueError(f"must be a single query, found {len(statements)} statements")
        kind = statements[0].get_type()
        if kind != "SELECT":
            raise ValueError(f"must be a read-only query (SELECT or WITH ... SELECT), not {kind}")
        return value


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
    # The values a dimension may take (its data checks flag any other); unlisted dimensions take any.
    values: dict[Name, tuple[str, ...]] = {}
    unit: str | None = None
    # Money in one currency: the source also gives a ``currency`` column, and every row must be in it.
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    # ``hour``: the source gives ``hour`` (a timestamp) instead of ``day``, one row per hour and
    # segment; the hours add up into days of the config's time zone, and a day must have as many
    # hours as it has there (23 or 25 when the clocks change).
    grain: Literal["day", "hour"] = "day"
    # A day's data is late when it has not arrived this many hours after the day ended.
    late_after_hours: float = Field(default=6, gt=0, le=24 * 14)
    non_negative: bool = True
    description: str = ""
    # Where data-issue alerts about this metric go: its data owners (default: default_channel).
    owner_channel: Channel | None = None

    @field_validator("values")
    @classmethod
    def _values_of_dimensions(
        cls, value: dict[str, tuple[str, ...]], info: ValidationInfo
    ) -> dict[str, tuple[str, ...]]:
        dims = info.data.get("dimensions") or ()
        for name, allowed in value.items():
            if name not in dims:
                raise ValueError(f"{name!r} is not one of the metric's dimensions ({', '.join(dims) or 'none'})")
            if not allowed:
                raise ValueError(f"{name}: list at least one value")
        return value

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns goalwatch keeps of the source, after hours are added up into days."""
        return ("day", *self.dimensions, *(("currency",) if self.currency else ()), "value")


# Who to mention on critical and missed: a user <@U0123ABCD>, a user group <!subteam^S0123ABCD>,
# or <!here> / <!channel>.
Mention = Annotated[str, Field(pattern=r"^(<@[UW][A-Z0-9]{2,}>|<!subteam\^S[A-Z0-9]{2,}>|<!here>|<!channel>)$")]


class Notify(_Model):
    channel: Channel | None = None
    mention: tuple[Mention, ...] = ()


class Segments(_Model):
    """Targets per segment: ``by`` names the dimensions, ``targets`` maps each segment to its
    share of the goal's target. A segment of several dimensions is written ``APAC/pro``."""

    by: tuple[Name, ...] = Field(min_length=1)
    targets: dict[str, Annotated[float, Field(gt=0)]] = Field(min_length=1)


class Goal(_Model):
    name: Name
    metric: str
    period: Period
    kind: Literal["total", "level", "ratio", "growth"] = "total"
    # ratio: metric / denominator; growth: against the previous period or the same one a year ago.
    denominator: str | None = None
    growth_vs: Literal["previous_period", "last_year"] = "last_year"
    target: float
    # Targets of particular periods, by the period's first day; others take ``target``.
    targets: dict[date, float] = {}
    # ``auto`` picks, per goal, the curve whose projections erred least on the goal's past periods.
    pacing: Literal["linear", "weekday", "seasonal", "trend", "auto"] = "linear"
    timezone: str | None = None
    warn_below: float = Field(default=0.97, gt=0, le=1)
    critical_below: float = Field(default=0.90, gt=0, le=1)
    # at_risk: the forecast ends below target with at least this probability.
    confidence: float = Field(default=0.8, ge=0.5, lt=1)
    # Width of the forecast's prediction interval.
    interval: float = Field(default=0.8, gt=0, lt=1)
    # Leaving a worse status needs this margin beyond the level that entered it.
    hysteresis: float = Field(default=0.02, ge=0, le=0.2)
    # No at_risk or off_track before this share of the period's pace is due (its weight, not its days).
    evidence: float = Field(default=0.1, ge=0, lt=1)
    # off_track only when the deficit to pace exceeds this many of the series' usual day-to-day swings.
    swing: float = Field(default=3.0, ge=0, le=10)
    segments: Segments | None = None
    title: str | None = Field(default=None, max_length=150)
    notify: Notify = Notify()

    @field_validator("target")
    @classmethod
    def _positive_target(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("kind") == "growth":
            if value <= -1:
                raise ValueError(f"a growth target of {value} would mean less than nothing; use e.g. 0.1 for +10%")
        elif value <= 0:
            raise ValueError(f"must be greater than 0, not {value}")
        return value

    @field_validator("targets")
    @classmethod
    def _positive_targets(cls, value: dict[date, float], info: ValidationInfo) -> dict[date, float]:
        if info.data.get("kind") != "growth":
            for day, target in value.items():
                if target <= 0:
                    raise ValueError(f"{day.isoformat()}: must be greater than 0, not {target}")
        return value

    @field_validator("timezone")
    @classmethod
    def _goal_zone(cls, value: str | None) -> str | None:
        return None if value is None else _zone(value)

    def target_for(self, period_start: date) -> float:
        return self.targets.get(period_start, self.target)

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

    @property
    def uses(self) -> tuple[str, ...]:
        """The metrics the goal is judged on: its metric, and a ratio's denominator."""
        return (self.metric, self.denominator) if self.denominator else (self.metric,)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone") from None
    return value


class SilenceRule(_Model):
    """A silence in goals.yml: the goal's alerts are recorded, not sent, through ``until``."""

    goal: str
    segment: str | None = None
    until: date
    reason: str = Field(min_length=1)


class Config(_Model):
    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    week_start: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    default_channel: Channel = "#goals"
    # A critical or missed status that persists is repeated in its thread every this many days.
    renotify_days: int = Field(default=3, ge=1)
    # The watchdog alerts when no evaluation has succeeded for this many hours.
    watchdog_hours: int = Field(default=30, ge=1)
    silences: tuple[SilenceRule, ...] = ()
    metrics: dict[Name, Metric]
    goals: tuple[Goal, ...]
    _path: Path | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)

    @property
    def calendar(self) -> Calendar:
        return Calendar(
            fiscal_year_start_month=self.fiscal_year_start_month, week_start=WEEKDAYS.index(self.week_start)
        )

    def timezone_of(self, goal: Goal) -> str:
        return goal.timezone or self.timezone

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

    def metrics_for(self, goals: Iterable[Goal] | None = None) -> list[str]:
        """The metrics ``goals`` (default: every goal) are judged on, sorted."""
        return sorted({m for goal in (self.goals if goals is None else goals) for m in goal.uses})

    def unit_of(self, goal: Goal) -> str | None:
        """The unit a goal's numbers are in: its metric's, none for a ratio."""
        return None if goal.kind == "ratio" else self.metrics[goal.metric].unit

    def channel_for(self, goal: Goal) -> str:
        return goal.notify.channel or self.default_channel

    def goal(self, name: str) -> Goal:
        for goal in self.goals:
            if goal.name == name:
                return goal
        raise KeyError(name)
