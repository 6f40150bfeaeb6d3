"""Airflow's connections, inside a task and outside one: SQL sources read through their connection,
and what a command needs to see the connections a task would.

- :func:`unusable_connection` is the error for a connection that could not give a client.
- :func:`read_sql` runs a metric's query read-only through the Airflow connection goals.yml names
  (``data.sources.read_metric`` takes it as its ``query``): SQLite opened with ``mode=ro``,
  Postgres in a read-only session, other databases through their provider's hook.
- Outside a task (the CLI), hooks only see ``AIRFLOW_CONN_*`` variables: :func:`export_connections`
  reads each connection once from Airflow's secrets backends and metadata database into this
  process's environment, and :func:`find_airflow_home` uses the project's ``.airflow/`` (what
  ``make demo`` made) when ``AIRFLOW_HOME`` is not set.

Errors name the connection and what failed, never its URI or password.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goalwatch.config.settings import settings
from goalwatch.errors import DeliveryError, SourceError

if TYPE_CHECKING:
    import pandas as pd

    from goalwatch.config import Config

__all__ = [
    "export_connections",
    "export_slack_connections",
    "find_airflow_home",
    "logs_to_stderr",
    "read_sql",
    "unusable_connection",
]

_USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def read_sql(conn_id: str, sql: str) -> pd.DataFrame:
    """The rows of one read-only query through Airflow connection ``conn_id``."""
    import warnings

    import pandas as pd
    from airflow.sdk import BaseHook

    connection = _connection(conn_id)
    try:
        if connection.conn_type == "sqlite":
            import sqlite3
            from urllib.parse import quote

            with sqlite3.connect(f"file:{quote(connection.host or '')}?mode=ro", uri=True) as db:
                return pd.read_sql_query(sql, db)
        hook = BaseHook.get_hook(conn_id)
        if connection.conn_type == "postgres":
            db = hook.get_conn()
            try:
                if hasattr(db, "set_session"):  # psycopg2
                    db.set_session(readonly=True)
                else:  # psycopg 3, which the Postgres provider prefers when it is installed
                    db.read_only = True
                with warnings.catch_warnings():  # pandas names only SQLAlchemy and sqlite3; DB-API works
                    warnings.simplefilter("ignore", UserWarning)
                    return pd.read_sql_query(sql, db)
            finally:
                db.close()
        return hook.get_df(sql, df_type="pandas")
    except Exception as exc:  # the database's errors vary: say which, without a secret
        raise SourceError(f"query through connection {conn_id!r} failed: {_describe(exc, connection)}") from None


def _connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, under whichever module raises it
        if type(exc).__name__ != "AirflowNotFoundException":
            raise SourceError(f"connection {conn_id!r} could not be read: {_describe(exc, None)}") from None
        home = os.environ.get("AIRFLOW_HOME", "~/airflow")
        variable = f"AIRFLOW_CONN_{conn_id.upper()}"
        raise SourceError(
            f"Airflow has no connection {conn_id!r} (looked in AIRFLOW_HOME={home}, its secrets backends and "
            f"{variable}): add it with `airflow connections add {conn_id} --conn-type TYPE ...` in that Airflow, "
            f"or set {variable}"
        ) from None


def _describe(exc: BaseException, connection: Any) -> str:
    """``ClassName: first line of the message``, with the connection's password and URI taken out."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    secrets = [s for s in (getattr(connection, "password", None), _uri(connection)) if s]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(r"\1***@", text)
    text = text if len(text) <= 300 else text[:299] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _uri(connection: Any) -> str | None:
    try:
        return connection.get_uri()
    except Exception:  # a connection that cannot be written as a URI has none to leak
        return None


def export_connections(config: Config) -> None:
    """Make the config's SQL connections visible to hooks outside a task (the CLI), in this process."""
    from goalwatch.config import SqlSource

    for metric in config.metrics.values():
        if isinstance(metric.source, SqlSource):
            _export(metric.source.conn_id)


def export_slack_connections() -> None:
    """The Slack connections (bot token, webhook), for a command that sends alerts outside a task."""
    env = settings()
    for conn_id in (env.slack_conn_id, env.slack_webhook_conn_id):
        _export(conn_id)


def _export(conn_id: str) -> None:
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    if variable in os.environ:
        return
    try:
        from airflow.models.connection import Connection

        os.environ[variable] = Connection.get_connection_from_secrets(conn_id).as_json()
    except Exception:  # not defined anywhere: the caller finds it missing and says so
        return


def find_airflow_home(*places: Path) -> Path | None:
    """Use the first of ``places`` that holds an Airflow home (``.airflow/`` with its airflow.cfg
    or database) as ``AIRFLOW_HOME``, unless it is set already; before Airflow is imported. The
    same project's ``.goalwatch/`` becomes ``GOALWATCH_HOME`` when that is unset, so a command run
    from another folder reads the store and outbox of the Airflow it uses."""
    if os.environ.get("AIRFLOW_HOME") or "airflow" in sys.modules:
        return None
    for place in places:
        home = place / ".airflow"
        if (home / "airflow.cfg").exists() or (home / "airflow.db").exists():
            os.environ["AIRFLOW_HOME"] = str(home.absolute())
            os.environ.setdefault("GOALWATCH_HOME", str((place / ".goalwatch").absolute()))
            return home
    return None


def logs_to_stderr() -> None:
    """Airflow sends log records to stdout at INFO; a command keeps stdout for its output."""
    import logging

    import airflow.sdk  # noqa: F401  (it installs its handlers on import; replace them after)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.root.handlers = [handler]
    logging.root.setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def unusable_connection(
    conn_id: str, exc: Exception, what: str, *, conn_type: str, secret: str, variable: str
) -> DeliveryError:
    """The connection could not give a client. Only the exception's type is said: a secrets
    backend's message may quote what it read."""
    add = f"airflow connections add {conn_id} --conn-type {conn_type} --conn-password '{secret}'"
    if type(exc).__name__ == "AirflowNotFoundException":
        message = (
            f"Airflow has no usable connection {conn_id!r} for {what} (it is missing, or its password is empty): "
            f"add it with `{add}`, or name another in {variable}"
        )
    else:
        message = (
            f"the Airflow connection {conn_id!r} could not be read for {what} ({type(exc).__name__}): check its "
            f"fields and extras (`airflow connections get {conn_id}`) and the secrets backend, or add it anew "
            f"with `{add}`"
        )
    return DeliveryError(message)
