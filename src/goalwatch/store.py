"""The goalwatch store (SQLAlchemy): daily metric values as pulled (the alert ledger lives beside
them, see ``ledger``).

The ingest DAG writes metric values, the evaluate DAG reads them back.
SQLite by default (``settings.store_url``), Postgres in production. Values go in as bound
parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa

from goalwatch import settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Store"]

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
)

ingests = sa.Table(
    "ingests",
    _meta,
    sa.Column("metric", sa.String(64), primary_key=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
)

class Store:
    def __init__(self, *, url: str | None = None) -> None:
        self.url = url or settings.store_url()

    @cached_property
    def engine(self) -> sa.Engine:
        if self.url.startswith("sqlite:///"):
            from pathlib import Path

            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url)
        _meta.create_all(engine)
        return engine

    def replace_metric(
        self, metric: str, frame: pd.DataFrame, dimensions: Iterable[str], *, as_of: date, run_id: str | None
    ) -> int:
        """Replace everything stored for ``metric`` with ``frame`` in one transaction."""
        dims = list(dimensions)
        rows = [
            {
                "metric": metric,
                "day": day,
                "segment": json.dumps({d: seg[i] for i, d in enumerate(dims)}, sort_keys=True),
                "value": None if value != value else value,  # NaN -> NULL
            }
            for day, *seg, value in frame[["day", *dims, "value"]].itertuples(index=False, name=None)
        ]
        with self.engine.begin() as conn:
            conn.execute(metric_values.delete().where(metric_values.c.metric == metric))
            if rows:
                conn.execute(metric_values.insert(), rows)
            conn.execute(ingests.delete().where(ingests.c.metric == metric))
            conn.execute(ingests.insert(), [{"metric": metric, "as_of": as_of, "rows": len(rows), "run_id": run_id}])
        return len(rows)

    def metric_frame(self, metric: str, dimensions: Iterable[str]) -> pd.DataFrame:
        """The stored rows of ``metric`` as ``day``, dimensions..., ``value``."""
        import pandas as pd

        dims = list(dimensions)
        query = sa.select(metric_values.c.day, metric_values.c.segment, metric_values.c.value).where(
            metric_values.c.metric == metric
        ).order_by(metric_values.c.id)
        with self.engine.connect() as conn:
            fetched = conn.execute(query).all()
        records = []
        for day, segment, value in fetched:
            seg = json.loads(segment)
            records.append({"day": day, **{d: seg.get(d) for d in dims}, "value": value})
        frame = pd.DataFrame.from_records(records, columns=["day", *dims, "value"])
        frame["value"] = frame["value"].astype(float)
        return frame

    def versions(self, metrics: Iterable[str]) -> dict[str, str]:
        """Which ingest each metric's stored rows come from (run id and row count)."""
        wanted = list(metrics)
        query = sa.select(ingests.c.metric, ingests.c.run_id, ingests.c.rows).where(ingests.c.metric.in_(wanted))
        with self.engine.connect() as conn:
            found = {m: f"{run_id}:{rows}" for m, run_id, rows in conn.execute(query)}
        return {m: found.get(m, "none") for m in wanted}
