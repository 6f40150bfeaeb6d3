"""The production topology as plain local processes, as ``docker-compose.yml`` runs it in containers.

PostgreSQL (Airflow's metadata and the goalwatch store, one role each) and Redis (the Celery
broker, and the channel whose messages announce new data) from Debian's packages; Airflow on
Postgres with the CeleryExecutor: api-server, scheduler, dag-processor, triggerer and one Celery
worker; Airflow's FAB auth manager with an ``admin`` user. Everything binds to 127.0.0.1 and is
stopped, and its data removed, when the stack stops. ``goalwatch dev stack`` (``make stack``), the
end-to-end tests and ``bench/latency.py`` start it.

:data:`SHARED` holds the settings both topologies use; ``tests/compose`` checks that
``docker-compose.yml`` sets the same. Secrets (:data:`SECRETS`) come from the environment (or
``.env``, which ``goalwatch dev stack`` reads) where set, else are generated for this stack only;
the admin password is written to a file only its owner can read, never to a log.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goalwatch.dev.services import Postgres, Redis, postgres, redis
from goalwatch.dev.stack import SERVICES, AirflowStack, free_port

__all__ = ["SECRETS", "SHARED", "ProductionStack", "secret_values"]

FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

# What the production topology sets, here and in docker-compose.yml (tests/compose checks it).
SHARED = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__AUTH_MANAGER": FAB,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS": "False",
    # Great Expectations and the pipeline imported once in the worker's main process, before it
    # forks its pool: a task starts with them in memory instead of importing them (about 2 s).
    "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"imports": ["goalwatch.runtime.preload"]}),
    "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
    "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
    # A task whose worker died is handed to another worker after this long (Redis's default is a day).
    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "600",
    "GOALWATCH_REDIS_CONN_ID": "redis_default",
    "GOALWATCH_REDIS_CHANNEL": "goalwatch",
}

# Set in the environment or .env, or generated. Database passwords, the admin's, and the keys
# every Airflow component must share (tasks fail their token checks otherwise).
SECRETS = (
    "POSTGRES_PASSWORD",
    "GOALWATCH_DB_PASSWORD",
    "AIRFLOW_ADMIN_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def secret_values(env: dict[str, str]) -> dict[str, str]:
    """Each of SECRETS from ``env`` where set (non-empty), else a fresh random value."""
    made = {name: env.get(name) or secrets.token_urlsafe(24) for name in SECRETS}
    made["AIRFLOW__CORE__FERNET_KEY"] = env.get("AIRFLOW__CORE__FERNET_KEY") or _fernet_key()
    return made


@dataclass
class ProductionStack:
    """Postgres, Redis and Airflow with Celery; ``home`` holds AIRFLOW_HOME, logs and the admin's password."""

    home: Path
    extra: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    redis_port: int | None = None
    postgres_port: int | None = None
    worker_concurrency: int = 4
    postgres: Postgres | None = None
    redis: Redis | None = None
    airflow: AirflowStack | None = None
    _exit: ExitStack = field(default_factory=ExitStack)

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin-password"

    def start(self) -> ProductionStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        base = {**os.environ, **self.extra}
        keys = secret_values(base)
        self.postgres = self._exit.enter_context(postgres(port=self.postgres_port))
        self.redis = self._exit.enter_context(redis(port=self.redis_port))
        pg = self.postgres
        for role, password_key in (("airflow", "POSTGRES_PASSWORD"), ("goalwatch", "GOALWATCH_DB_PASSWORD")):
            # On stdin, not the command line: another user's `ps` sees no password.
            pg.psql_stdin(f"CREATE ROLE {role} LOGIN PASSWORD '{_sql_text(keys[password_key])}'")
            pg.psql(f"CREATE DATABASE {role} OWNER {role}")
        airflow_db = _url(pg, "airflow", keys["POSTGRES_PASSWORD"])
        env = {
            **base,
            **SHARED,
            **{k: v for k, v in keys.items() if k.startswith("AIRFLOW__")},
            "AIRFLOW_HOME": str(self.home / "airflow"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{airflow_db}",
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
            "AIRFLOW_CONN_REDIS_DEFAULT": self.redis.connection_json(),
            "GOALWATCH_STORE_URL": _url(pg, "goalwatch", keys["GOALWATCH_DB_PASSWORD"]),
        }
        # A local stack runs its DAGs at once: the triggerer subscribes to the Redis channel on
        # the DAGs' first parse, not 30 s after someone unpauses them (compose keeps them paused).
        env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
        env.pop("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", None)
        Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
        self._airflow_cli(env, "db", "migrate")
        self._airflow_cli(
            env,
            *("users", "create", "--username", "admin", "--role", "Admin", "--email", "admin@example.invalid"),
            *("--firstname", "goalwatch", "--lastname", "admin", "--password", keys["AIRFLOW_ADMIN_PASSWORD"]),
        )
        self.home.mkdir(parents=True, exist_ok=True)
        self.admin_password_file.touch(mode=0o600)
        self.admin_password_file.write_text(keys["AIRFLOW_ADMIN_PASSWORD"] + "\n", encoding="utf-8")
        stack = AirflowStack.from_env(port=self.port or free_port(), extra=env)
        stack.services = (*SERVICES, "triggerer", "celery-worker")
        stack.credentials = ("admin", keys["AIRFLOW_ADMIN_PASSWORD"])
        self.airflow = stack
        self._exit.callback(stack.stop)  # before start: a start that fails halfway stops what it started
        stack.start()

    def wait_for_listener(self, *, timeout: float) -> None:
        """Wait until the triggerer listens on the Redis channel (pub/sub keeps nothing before)."""
        assert self.redis is not None and self.airflow is not None
        channel = self.airflow.env.get("GOALWATCH_REDIS_CHANNEL") or "goalwatch"
        client = self.redis.client()
        deadline = time.monotonic() + timeout
        while dict(client.pubsub_numsub(channel)).get(channel.encode(), 0) < 1:
            self.airflow.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no triggerer listens on Redis channel {channel} after {timeout:.0f} s")
            time.sleep(0.5)

    def _airflow_cli(self, env: dict[str, str], *args: str) -> None:
        command = [AirflowStack.airflow(), *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            # The command line may hold the admin's password: name only the subcommand.
            tail = done.stderr.strip().splitlines()[-5:]
            raise RuntimeError(f"airflow {' '.join(args[:2])} failed: " + " | ".join(tail))

    def stop(self) -> None:
        self._exit.close()

    def __enter__(self) -> ProductionStack:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def _url(pg: Postgres, role: str, password: str) -> str:
    from urllib.parse import quote

    return f"postgresql+psycopg://{role}:{quote(password, safe='')}@127.0.0.1:{pg.port}/{role}"


def _sql_text(value: str) -> str:
    """A value for a single-quoted SQL literal (DDL takes no bound parameters)."""
    return value.replace("'", "''")
