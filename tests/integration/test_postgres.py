"""A real PostgreSQL server (Debian's package, on 127.0.0.1): a SQL source runs in a read-only
session through its Airflow connection, its errors name the metric and connection and never the
password, and the goalwatch store keeps values that look like SQL as plain values."""

from __future__ import annotations

import json
from datetime import date

import pytest

from goalwatch.config import load_config
from goalwatch.data.sources import read_metric
from goalwatch.errors import SourceError
from goalwatch.runtime.connections import read_sql
from tests.servers import postgres

# Assembled at run time, so no credential-shaped string is committed.
PASSWORD = "-".join(["canary", "pg", "password", "7f3a"])


@pytest.fixture(scope="module")
def server():
    with postgres() as pg:
        pg.psql(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
        pg.psql("CREATE DATABASE warehouse OWNER reader")
        pg.psql(
            """
            CREATE TABLE signups (created_at timestamptz NOT NULL, region text NOT NULL);
            INSERT INTO signups VALUES ('2026-11-01 10:00+00', 'NA'), ('2026-11-01 11:00+00', 'EU'),
                                       ('2026-11-02 09:00+00', 'NA');
            CREATE TABLE audit (note text);
            -- A function that writes: a SELECT can call it, and only a read-only session stops it.
            CREATE FUNCTION touch() RETURNS int LANGUAGE sql AS $$ INSERT INTO audit VALUES ('written'); SELECT 1 $$;
            ALTER TABLE signups OWNER TO reader; ALTER TABLE audit OWNER TO reader;
            ALTER FUNCTION touch() OWNER TO reader;
        """,
            database="warehouse",
        )
        yield pg


def config_with(tmp_path, sql: str):
    (tmp_path / "goals.yml").write_text(
        "timezone: UTC\n"
        "metrics:\n"
        f"  new_users: {{source: {{conn_id: pg_warehouse, sql: {json.dumps(sql)}}}, dimensions: [region]}}\n"
        "goals:\n  - {name: monthly_new_users, metric: new_users, period: month, target: 100}\n"
    )
    return load_config(tmp_path / "goals.yml")


@pytest.fixture
def connection(server, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PG_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": server.port,
                "login": "reader",
                "password": PASSWORD,
                "schema": "warehouse",
            }
        ),
    )
    return server


def test_a_postgres_source_is_read_through_its_connection(tmp_path, connection):
    config = config_with(
        tmp_path, "SELECT created_at::date AS day, region, COUNT(*) AS value FROM signups GROUP BY 1, 2 ORDER BY 1, 2"
    )
    frame = read_metric(config, "new_users", query=read_sql)

    assert frame.values.tolist() == [
        [date(2026, 11, 1), "EU", 1.0],
        [date(2026, 11, 1), "NA", 1.0],
        [date(2026, 11, 2), "NA", 1.0],
    ]


def test_a_select_that_writes_is_stopped_by_the_read_only_session(tmp_path, connection):
    # One SELECT, so goals.yml accepts it; the function it calls writes, and Postgres refuses.
    config = config_with(tmp_path, "SELECT created_at::date AS day, region, touch() AS value FROM signups")
    with pytest.raises(SourceError) as caught:
        read_metric(config, "new_users", query=read_sql)

    # What failed, in the database's words: the class and the first line of its message.
    assert str(caught.value) == (
        "metric 'new_users': query through connection 'pg_warehouse' failed: "
        "ReadOnlySqlTransaction: cannot execute INSERT in a read-only transaction"
    )
    assert connection.psql("SELECT count(*) FROM audit", database="warehouse") == "0"  # nothing was written


def test_a_failing_source_names_the_connection_not_the_password(tmp_path, connection, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PG_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": connection.port,
                "login": "reader",
                "password": PASSWORD + "-wrong",
                "schema": "warehouse",
            }
        ),
    )
    config = config_with(tmp_path, "SELECT created_at::date AS day, region, 1 AS value FROM signups")
    with pytest.raises(SourceError) as caught:
        read_metric(config, "new_users", query=read_sql)

    message = str(caught.value)
    assert "query through connection 'pg_warehouse' failed: OperationalError" in message
    assert PASSWORD not in message
    assert caught.value.__suppress_context__  # raised "from None": the driver's message is not chained to it


def test_the_store_on_postgres_keeps_sql_looking_values_as_values(server):
    import pandas as pd

    from goalwatch.data.store import Store

    server.psql(f"CREATE ROLE gw LOGIN PASSWORD '{PASSWORD}'")
    server.psql("CREATE DATABASE goalwatch OWNER gw")
    store = Store(url=server.url("gw", PASSWORD, "goalwatch").replace("postgresql://", "postgresql+psycopg2://"))
    hostile = "EU'); DROP TABLE metric_values; --"
    frame = pd.DataFrame(
        {"day": [date(2026, 11, 1), date(2026, 11, 2)], "region": [hostile, "NA"], "value": [3.0, 4.0]}
    )
    frame.attrs["columns"] = ["day", "region", "value"]

    assert store.replace_metric("new_users", frame, as_of=date(2026, 11, 2), run_id="manual__1") == 2
    back = store.metric_frame("new_users", ["region"])
    assert back.values.tolist() == [[date(2026, 11, 1), hostile, 3.0], [date(2026, 11, 2), "NA", 4.0]]
    store.engine.dispose()


@pytest.mark.airflow
def test_a_warehouse_that_hangs_is_stopped_and_reported_as_monitor_unhealthy(tmp_path, server, airflow_env, fake_slack):
    import subprocess
    import sys

    from tests.conftest import DEMO_LOGICAL_DATE, ROOT
    from tests.integration.test_dag_runs import RUN_DAG

    config_with(tmp_path, "SELECT current_date AS day, region, 1 AS value FROM signups, pg_sleep(20)")
    env = {
        **airflow_env,
        "GOALWATCH_CONFIG": str(tmp_path / "goals.yml"),
        "GOALWATCH_INGEST_RETRIES": "0",
        "GOALWATCH_INGEST_TIMEOUT": "3",
        "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json(),
        "AIRFLOW_CONN_PG_WAREHOUSE": json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": server.port,
                "login": "reader",
                "password": PASSWORD,
                "schema": "warehouse",
            }
        ),
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(ROOT / "dags" / "goalwatch_ingest.py"), DEMO_LOGICAL_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert "DAG RUN STATE: failed" in proc.stdout, proc.stdout[-2000:]
    (alert,) = fake_slack.posted()
    assert alert["blocks"][0]["text"]["text"] == ":rotating_light: Monitor unhealthy"
    assert "goalwatch_ingest.ingest[new_users] failed" in alert["text"] and "timed out after 3 s" in alert["text"]
    assert PASSWORD not in json.dumps(alert)
