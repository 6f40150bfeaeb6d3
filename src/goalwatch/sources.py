"""Read a metric from its source into a frame with columns ``day``, dimensions..., ``value``.

Called by the ingest DAG and by ``goalwatch evaluate``. SQL runs through the Airflow connection
named in goals.yml (the hook comes from the connection type), files are CSV or Parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from goalwatch.config import Config, FileSource, Metric
from goalwatch.errors import SourceError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_connections", "load_slack_connections", "normalise", "read_metric"]


def load_slack_connections() -> None:
    """The Slack connections (bot token, webhook), for a command that sends alerts outside a task."""
    import os

    from goalwatch import settings

    for conn_id in (settings.slack_conn_id(), os.environ.get("GOALWATCH_SLACK_WEBHOOK_CONN_ID", "slack_webhook_default")):
        _export(conn_id)


def _export(conn_id: str) -> None:
    import os

    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    if variable in os.environ:
        return
    try:
        from airflow.models.connection import Connection

        os.environ[variable] = Connection.get_connection_from_secrets(conn_id).as_json()
    except Exception:  # not defined anywhere: the caller finds it missing and says so
        return


def load_connections(config: Config) -> None:
    """Make the config's Airflow connections visible to hooks outside a task (the CLI).

    Inside a task, hooks ask the task's supervisor for connections. A command run outside one
    only sees ``AIRFLOW_CONN_*`` variables, so each SQL source's connection is read once from
    Airflow's secrets backends and metadata database and put there, in this process only.
    """
    from goalwatch.config import SqlSource

    for metric in config.metrics.values():
        if isinstance(metric.source, SqlSource):
            _export(metric.source.conn_id)


def read_metric(config: Config, name: str) -> pd.DataFrame:
    """Pull metric ``name`` from its source; raise SourceError naming the metric on failure."""
    metric = config.metric(name)
    source = metric.source
    if isinstance(source, FileSource):
        frame = _read_file(config.base_dir / source.path, name)
        where = str(config.base_dir / source.path)
    else:
        frame = _read_sql(source.conn_id, source.sql, name)
        where = f"connection {source.conn_id!r}"
    return normalise(frame, metric, name=name, where=where)


def normalise(frame: pd.DataFrame, metric: Metric, *, name: str, where: str) -> pd.DataFrame:
    """Keep ``day``, the dimensions and ``value``; ``day`` becomes a date, ``value`` a float."""
    import pandas as pd

    wanted = ["day", *metric.dimensions, "value"]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise SourceError(
            f"metric {name!r} from {where}: missing column(s) {', '.join(missing)}; "
            f"got {', '.join(map(str, frame.columns)) or 'no columns'}"
        )
    frame = frame[wanted].copy()
    days = pd.to_datetime(frame["day"], errors="coerce")
    bad = days.isna() & frame["day"].notna()
    if bad.any():
        row = int(bad.idxmax())
        raise SourceError(f"metric {name!r} from {where}: row {row}: day {frame['day'][row]!r} is not a date")
    frame["day"] = days.dt.date
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = values.isna() & frame["value"].notna()
    if bad.any():
        row = int(bad.idxmax())
        raise SourceError(
            f"metric {name!r} from {where}: row {row}: value {frame['value'][row]!r} is not a number"
        )
    frame["value"] = values.astype(float)
    return frame.reset_index(drop=True)


def _read_file(path: Path, name: str) -> pd.DataFrame:
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        # Only an empty field is missing: "NA" is North America, not a null.
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise SourceError(f"metric {name!r}: cannot read {path}: {exc}") from exc


def _read_sql(conn_id: str, sql: str, name: str) -> pd.DataFrame:
    """Run the query read-only where the database allows it: SQLite opened with ``mode=ro``,
    Postgres in a read-only session; other databases through their hook as configured."""
    import pandas as pd
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
        if connection.conn_type == "sqlite":
            import sqlite3
            from urllib.parse import quote

            with sqlite3.connect(f"file:{quote(connection.host or '')}?mode=ro", uri=True) as db:
                return pd.read_sql_query(sql, db)
        hook = BaseHook.get_hook(conn_id)
        if connection.conn_type == "postgres":
            db = hook.get_conn()
            try:
                db.set_session(readonly=True)
                return pd.read_sql_query(sql, db)
            finally:
                db.close()
        return hook.get_df(sql, df_type="pandas")
    except Exception as exc:  # the database's errors vary; the message names ours and no secret
        raise SourceError(
            f"metric {name!r}: query through connection {conn_id!r} failed: {type(exc).__name__}"
        ) from None
