"""Where goalwatch keeps its state. Read from the environment so DAG tasks, the CLI and tests agree.

- ``GOALWATCH_HOME``: the state folder (default ``./.goalwatch``): the store, the outbox, the demo.
- ``GOALWATCH_STORE_URL``: a SQLAlchemy URL for the store (default SQLite in GOALWATCH_HOME).
- ``GOALWATCH_OUTBOX``: where alerts go when no Slack connection is configured.
- ``GOALWATCH_SLACK_CONN_ID``: the Slack connection (default ``slack_api_default``).
- ``GOALWATCH_DIGEST_SCHEDULE``: the digest DAG's cron (default ``0 9 * * 1``: Mondays at 09:00
  in the config's time zone); ``none`` turns it off.
- ``GOALWATCH_WATCHDOG_SCHEDULE``: the watchdog DAG's cron (default hourly); ``none`` turns it off.
- ``GOALWATCH_INGEST_RETRIES``: how often an ingest task is retried, with backoff (default 2).
- ``GOALWATCH_INGEST_TIMEOUT``: seconds an ingest may take before it is stopped, so a warehouse
  that hangs fails (and is retried, then reported) rather than blocking (default 600).
- ``GOALWATCH_INGEST_SCHEDULE``: the ingest DAG's cron (default ``15 * * * *``: hourly, so a day's
  data is picked up within the hour it lands and a day that has not landed is reported late
  within the hour after its deadline); ``none`` when ingests are only triggered from outside
  (REST, a sensor, the demo).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["digest_schedule", "home", "ingest_retries", "ingest_schedule", "ingest_timeout", "watchdog_schedule", "outbox_dir", "slack_conn_id", "store_url"]


def home() -> Path:
    return Path(os.environ.get("GOALWATCH_HOME", ".goalwatch")).absolute()


def store_url() -> str:
    return os.environ.get("GOALWATCH_STORE_URL") or f"sqlite:///{home() / 'store.db'}"


def outbox_dir() -> Path:
    return Path(os.environ.get("GOALWATCH_OUTBOX") or home() / "outbox").absolute()


def slack_conn_id() -> str:
    return os.environ.get("GOALWATCH_SLACK_CONN_ID", "slack_api_default")


def ingest_schedule() -> str | None:
    value = os.environ.get("GOALWATCH_INGEST_SCHEDULE", "15 * * * *").strip()
    return None if value.lower() in ("", "none") else value


def digest_schedule() -> str | None:
    value = os.environ.get("GOALWATCH_DIGEST_SCHEDULE", "0 9 * * 1").strip()
    return None if value.lower() in ("", "none") else value


def ingest_retries() -> int:
    return int(os.environ.get("GOALWATCH_INGEST_RETRIES", "2"))


def ingest_timeout() -> int:
    """Seconds an ingest task may take before Airflow stops it (and retries it)."""
    return int(os.environ.get("GOALWATCH_INGEST_TIMEOUT", "600"))


def watchdog_schedule() -> str | None:
    value = os.environ.get("GOALWATCH_WATCHDOG_SCHEDULE", "0 * * * *").strip()
    return None if value.lower() in ("", "none") else value
