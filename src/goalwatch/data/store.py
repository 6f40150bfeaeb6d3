"""The goalwatch store (SQLAlchemy): daily metric values as pulled (the alert ledger lives beside
them, see ``ledger``).

The ingest DAG writes metric values, the evaluate DAG reads them back.
SQLite by default (``GOALWATCH_STORE_URL``, see ``config.settings``), Postgres in production. Values go in as bound
parameters. The schema is made and upgraded by the migrations in ``data.migrations``, run when a
store's engine is first made; :func:`insert_ignore` is the one way to insert a row that must exist
once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from goalwatch.config.settings import settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Store", "insert_ignore"]

_meta = sa.MetaData()

# No uniqueness on (metric, day, segment): the store keeps what the source gave, so the
# data-quality suite can see duplicates instead of the database hiding them.
metric_values = sa.Table(
    "metric_values",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("metric", sa.String(64), nullable=False, index=True),
    sa.Column("day", sa.Date, nullable=True),
    sa.Column("segment", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("hours", sa.Integer, nullable=True),  # hourly sources: the hourly rows the day had
)

ingests = sa.Table(
    "ingests",
    _meta,
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("columns", sa.Text, nullable=True),  # the source's columns, as JSON, for the schema check
)


class Store:
    def __init__(self, *, url: str | None = None) -> None:
        self.url = url or settings().store

    @cached_property
    def engine(self) -> sa.Engine:
        if self.url.startswith("sqlite:///"):
            from pathlib import Path

            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        from goalwatch.data.migrations import upgrade

        # SQLite: a writer waits for another's transaction (a planner, a migration) this long.
        options = {"connect_args": {"timeout": 60}} if self.url.startswith("sqlite") else {}
        engine = sa.create_engine(self.url, **options)
        upgrade(engine)
        return engine

    def replace_metric(self, metric: str, frame: pd.DataFrame, *, as_of: date, run_id: str | None) -> int:
        """Replace everything stored for ``metric`` with ``frame`` in one transaction.

        Rows are kept as the source gave them: ``day`` and ``value`` (NULL where missing), every
        other column in ``segment``; the source's columns are recorded with the ingest.
        """
        columns = list(frame.attrs.get("columns") or frame.columns)
        others = [c for c in frame.columns if c not in ("day", "value", "hours")]
        rows = []
        for record in frame.to_dict("records"):
            value = record.get("value")
            hours = record.get("hours")
            rows.append(
                {
                    "metric": metric,
                    "day": _or_none(record.get("day")),
                    "segment": json.dumps({c: _or_none(record[c]) for c in others}, sort_keys=True, default=str),
                    "value": _or_none(value),
                    "hours": None if _or_none(hours) is None else int(hours),
                }
            )
        with self.engine.begin() as conn:
            conn.execute(metric_values.delete().where(metric_values.c.metric == metric))
            if rows:
                conn.execute(metric_values.insert(), rows)
            conn.execute(ingests.delete().where(ingests.c.metric == metric))
            conn.execute(
                ingests.insert(),
                [
                    {
                        "metric": metric,
                        "as_of": as_of,
                        "rows": len(rows),
                        "run_id": run_id,
                        "columns": json.dumps(columns),
                    }
                ],
            )
        return len(rows)

    def metric_frame(self, metric: str, dimensions: Iterable[str]) -> pd.DataFrame:
        """The stored rows of ``metric``: the source's columns as ingested (``day``, dimensions...,
        ``value``, and whatever else it gave), plus ``hours`` for an hourly source."""
        import pandas as pd

        query = (
            sa.select(metric_values.c.day, metric_values.c.segment, metric_values.c.value, metric_values.c.hours)
            .where(metric_values.c.metric == metric)
            .order_by(metric_values.c.id)
        )
        with self.engine.connect() as conn:
            fetched = conn.execute(query).all()
            recorded = conn.execute(sa.select(ingests.c.columns).where(ingests.c.metric == metric)).scalar()
        columns = json.loads(recorded) if recorded else ["day", *dimensions, "value"]
        hourly = any(hours is not None for *_, hours in fetched)
        records = []
        for day, segment, value, hours in fetched:
            seg = json.loads(segment)
            records.append({"day": day, "value": value, "hours": hours, **seg})
        wanted = [*columns, *(["hours"] if hourly else [])]
        frame = pd.DataFrame.from_records(records, columns=wanted)
        if "value" in frame.columns:
            frame["value"] = frame["value"].astype(float)
        frame.attrs["columns"] = columns
        return frame

    def versions(self, metrics: Iterable[str]) -> dict[str, str]:
        """Which ingest each metric's stored rows come from (run id and row count)."""
        wanted = list(metrics)
        query = sa.select(ingests.c.metric, ingests.c.run_id, ingests.c.rows).where(ingests.c.metric.in_(wanted))
        with self.engine.connect() as conn:
            found = {m: f"{run_id}:{rows}" for m, run_id, rows in conn.execute(query)}
        return {m: found.get(m, "none") for m in wanted}


def _or_none(value: object) -> object:
    """NaN and NaT become NULL."""
    return None if value is None or value != value else value


def insert_ignore(conn: sa.Connection, table: sa.Table, values: Mapping[str, Any], *, on: Sequence[str]) -> Any:
    """Insert a row unless one with the same ``on`` columns (a unique index) exists: the new row's
    primary key, or None when it existed. One statement (``INSERT ... ON CONFLICT DO NOTHING``) on
    SQLite and Postgres, so two transactions racing for the same key cannot both insert it: the
    second waits for the first and then inserts nothing."""
    key = next(iter(table.primary_key.columns))
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is not None:
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(on))
        return conn.execute(statement.returning(key)).scalar()
    try:  # another database: the unique index refuses the second row
        with conn.begin_nested():
            return conn.execute(table.insert().values(**values)).inserted_primary_key[0]
    except sa.exc.IntegrityError:
        return None
