"""goalwatch's environment: every ``GOALWATCH_*`` variable, read by one pydantic-settings model.

DAG files (at parse time), tasks, the CLI and tests all call :func:`settings`, which reads the
environment afresh, so they agree and a test may change a variable between calls. A bad value is
one :class:`~goalwatch.errors.ConfigError` line naming the variable and what it must be, at DAG
import (the DAG's import error) and in the CLI; a URL's value is never echoed (it may carry a
password).

=============================  ==========================================================
``GOALWATCH_HOME``             state folder: the store, the outbox, the demo (``./.goalwatch``)
``GOALWATCH_CONFIG``           goals.yml (DAGs: ``config/goals.yml`` beside ``dags/``)
``GOALWATCH_STORE_URL``        SQLAlchemy URL of the store (SQLite in GOALWATCH_HOME)
``GOALWATCH_OUTBOX``           where alerts go when no Slack connection is configured
``GOALWATCH_SLACK_CONN_ID``    the bot-token connection (``slack_api_default``)
``GOALWATCH_SLACK_WEBHOOK_CONN_ID``  the incoming-webhook fallback (``slack_webhook_default``)
``GOALWATCH_SLACK_RATE``       Slack calls a second per channel (1; 0 = no pacing)
``GOALWATCH_SLACK_BACKOFF``    slack_sdk's retry backoff factor in seconds (0.5)
``GOALWATCH_SLACK_TIMEOUT``    seconds a Slack call may take (30)
``GOALWATCH_INGEST_SCHEDULE``  the ingest DAG's cron (``15 * * * *``: hourly, so a day's data is
                               picked up within the hour it lands and a late day is reported
                               within the hour after its deadline); ``none`` when ingests are
                               only triggered (REST, a sensor, the demo)
``GOALWATCH_DIGEST_SCHEDULE``  the digest DAG's cron (``0 9 * * 1``: Mondays 09:00); ``none``
``GOALWATCH_WATCHDOG_SCHEDULE``  the watchdog DAG's cron (``0 * * * *``); ``none``
``GOALWATCH_INGEST_RETRIES``   retries of an ingest task, with backoff (2)
``GOALWATCH_INGEST_TIMEOUT``   seconds an ingest may run before it is stopped, so a warehouse
                               that hangs fails, is retried, then reported (600)
``GOALWATCH_REDIS_CHANNEL``    the Redis pub/sub channel whose JSON messages announce new data
                               (``goalwatch``); ``none`` when nothing publishes to Redis
``GOALWATCH_REDIS_CONN_ID``    the Airflow connection to that Redis (``redis_default``)
``GOALWATCH_REDIS_POLL``       seconds the triggerer waits for a message before it looks again (0.5)
``GOALWATCH_API_URL``          the Airflow api-server ``goalwatch announce`` posts to
                               (``http://127.0.0.1:8080``)
``GOALWATCH_API_TOKEN``        a JWT for it; or ``GOALWATCH_API_USER`` and ``GOALWATCH_API_PASSWORD``
                               (none: the local demo's simple auth manager gives one)
=============================  ==========================================================

Cron schedules are in the config's time zone. A variable set to the empty string counts as unset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from goalwatch.errors import ConfigError

__all__ = ["Settings", "settings"]


def _schedule(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in ("", "none") else text


Schedule = Annotated[str | None, BeforeValidator(_schedule)]
# A name that ``none`` (or the empty string) turns off.
Optional = Schedule


class Settings(BaseSettings):
    """The ``GOALWATCH_*`` environment (the module docstring lists each variable)."""

    model_config = SettingsConfigDict(env_prefix="GOALWATCH_", env_ignore_empty=True, frozen=True, extra="ignore")

    home: Path = Path(".goalwatch")
    config: Path | None = None
    store_url: str | None = None
    outbox: Path | None = None
    slack_conn_id: str = Field(default="slack_api_default", min_length=1)
    slack_webhook_conn_id: str = Field(default="slack_webhook_default", min_length=1)
    slack_rate: float = Field(default=1.0, ge=0)
    slack_backoff: float = Field(default=0.5, ge=0)
    slack_timeout: int = Field(default=30, gt=0)
    ingest_schedule: Schedule = "15 * * * *"
    digest_schedule: Schedule = "0 9 * * 1"
    watchdog_schedule: Schedule = "0 * * * *"
    ingest_retries: int = Field(default=2, ge=0)
    ingest_timeout: int = Field(default=600, gt=0)
    redis_channel: Optional = "goalwatch"
    redis_conn_id: str = Field(default="redis_default", min_length=1)
    redis_poll: float = Field(default=0.5, gt=0, le=60)
    api_url: str = "http://127.0.0.1:8080"
    api_token: str | None = Field(default=None, repr=False)
    api_user: str | None = None
    api_password: str | None = Field(default=None, repr=False)

    @property
    def state_dir(self) -> Path:
        return self.home.absolute()

    @property
    def store(self) -> str:
        """The store's SQLAlchemy URL: ``GOALWATCH_STORE_URL``, else SQLite in the state folder."""
        return self.store_url or f"sqlite:///{self.state_dir / 'store.db'}"

    @property
    def outbox_dir(self) -> Path:
        return (self.outbox or self.state_dir / "outbox").absolute()


_SECRET_FIELDS = ("store_url", "api_token", "api_password")
_WORDS = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not true or false",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "must not be empty",
}


def settings() -> Settings:
    """The environment as it is now; a bad value is a ConfigError naming each variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError([_problem(err) for err in exc.errors()]) from None


def _problem(err: Any) -> str:
    field = str(err["loc"][0]) if err.get("loc") else "?"
    variable = f"GOALWATCH_{field.upper()}"
    words = _WORDS.get(err["type"])
    reason = words.format(**(err.get("ctx") or {})) if words else str(err["msg"])
    shown = "" if field in _SECRET_FIELDS else f"={err.get('input')!r}"
    return f"environment variable {variable}{shown}: {reason}; fix or unset it"
