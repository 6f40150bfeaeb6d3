"""``goalwatch dev stack`` (``make stack``): the production topology as local processes; and
``goalwatch announce``: tell Airflow a metric has new data, through its REST API."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from goalwatch.cli.app import app, fail, parse_date
from goalwatch.errors import GoalwatchError

if TYPE_CHECKING:
    from goalwatch.dev.production import ProductionStack

dev_app = typer.Typer(help="Development topologies: the production stack as local processes.", no_args_is_help=True)
app.add_typer(dev_app, name="dev")


@app.command("announce")
def announce(
    metric: Annotated[str, typer.Argument(help="The metric with new data (a name in goals.yml's metrics).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day the data is complete through, YYYY-MM-DD.")
    ] = None,
    moment: Annotated[
        str | None, typer.Option("--moment", help="Or the instant it landed (ISO 8601 with offset).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="goals.yml, to check the metric.")] = None,
) -> None:
    """Post an asset event for METRIC to Airflow (GOALWATCH_API_URL): the evaluate DAG runs on it.

    Credentials: GOALWATCH_API_TOKEN, or GOALWATCH_API_USER and GOALWATCH_API_PASSWORD (never on
    the command line). Without --as-of or --moment the run's own time says the day.
    """
    from goalwatch.config import load_config
    from goalwatch.config.settings import settings
    from goalwatch.runtime.api import announce as post

    day = parse_date("--as-of", as_of) if as_of else None
    instant = None
    if moment:
        try:
            instant = datetime.fromisoformat(moment)
        except ValueError:
            instant = None
        if instant is None or instant.tzinfo is None:
            typer.echo(f"error: --moment: {moment!r} is not an ISO 8601 instant with a UTC offset", err=True)
            raise typer.Exit(code=2)
    try:
        cfg = load_config(config)
        if metric not in cfg.metrics:
            known = ", ".join(sorted(cfg.metrics))
            raise GoalwatchError(f"{cfg.path}: metrics: no metric {metric!r} (known: {known})")
        event = post(metric, env=settings(), as_of=day, moment=instant)
    except GoalwatchError as exc:
        fail(exc)
    typer.echo(f"asset event {event['id']} for {metric} ({json.dumps(event.get('extra') or {})})")


@dev_app.command("stack")
def stack(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI and API.")] = 8080,
    redis_port: Annotated[int, typer.Option(help="Port of Redis.")] = 6379,
    postgres_port: Annotated[int, typer.Option(help="Port of PostgreSQL (0: any free one).")] = 0,
    home: Annotated[
        Path, typer.Option(help="Where the stack keeps Airflow's home, logs and the admin password.")
    ] = Path(".stack"),
) -> None:
    """Run the production topology until Ctrl-C or SIGTERM: PostgreSQL and Redis (Debian's
    packages), Airflow on Postgres with Celery (api-server, scheduler, dag-processor, triggerer,
    one worker, FAB login), the goalwatch store on Postgres, the demo warehouse as the source.

    Secrets come from the environment or ./.env (see .env.example), else are generated for this
    run. Everything is on 127.0.0.1; the databases are removed when the stack stops.
    """
    from dotenv import dotenv_values

    from goalwatch.config.settings import settings
    from goalwatch.dev.demo import seed
    from goalwatch.dev.production import ProductionStack
    from goalwatch.dev.stack import _Interrupts

    home = home.absolute()
    env = settings()
    warehouse = seed(home / "goalwatch" / "demo" / "warehouse.db")
    extra = {k: v for k, v in dotenv_values(".env").items() if v} if Path(".env").exists() else {}
    extra.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path("dags").absolute()))
    extra.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(Path("plugins").absolute()))
    extra.setdefault("GOALWATCH_HOME", str(home / "goalwatch"))
    extra.setdefault("GOALWATCH_CONFIG", str((env.config or Path("config/goals.yml")).absolute()))
    # The demo warehouse ends on 2026-11-15: ingest when told to, not on the clock.
    extra.setdefault("GOALWATCH_INGEST_SCHEDULE", "none")
    extra.setdefault("AIRFLOW_CONN_GOALWATCH_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    production = ProductionStack(
        home=home, extra=extra, port=port, redis_port=redis_port, postgres_port=postgres_port or None
    )
    interrupts = _Interrupts()
    with interrupts:
        try:
            production.start()
            assert production.airflow is not None and production.redis is not None
            production.airflow.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=300)
            production.wait_for_listener(timeout=120)
            _say_ready(production, port=port, redis_port=production.redis.port)
            while True:
                production.airflow.check_alive()
                time.sleep(2)
        except KeyboardInterrupt:
            typer.echo("stopping the stack")
        except GoalwatchError as exc:
            fail(exc)
        finally:
            interrupts.armed = False
            production.stop()


def _say_ready(production: ProductionStack, *, port: int, redis_port: int) -> None:
    assert production.airflow is not None
    url = f"http://127.0.0.1:{port}"
    typer.echo(
        f"""The stack is up: {url} (user admin, password in {production.admin_password_file}).
Logs: {production.airflow.log_dir}. Alerts go to the outbox in {production.home / "goalwatch"} unless a
slack_api_default connection is set. Ctrl-C or SIGTERM stops everything.

New data lands three ways:
  goalwatch announce new_users --as-of 2026-11-15      (GOALWATCH_API_USER=admin, GOALWATCH_API_PASSWORD=...)
  redis-cli -p {redis_port} PUBLISH goalwatch '{{"metric": "new_users", "as_of": "2026-11-15"}}'
  the ingest DAG: trigger goalwatch_ingest in the UI"""
    )
