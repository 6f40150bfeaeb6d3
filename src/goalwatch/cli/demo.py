"""``goalwatch demo``: the embedded demo's warehouse and its Airflow, as local processes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goalwatch.cli.app import demo_app


@demo_app.command("seed")
def demo_seed(
    path: Annotated[
        Path | None, typer.Option(help="Where to write the warehouse (default $GOALWATCH_HOME/demo/warehouse.db).")
    ] = None,
) -> None:
    """Write the deterministic demo warehouse (SQLite): sign-ups and payments since July 2024."""
    from goalwatch.config.settings import settings
    from goalwatch.dev.demo import seed

    target = seed(path or settings().state_dir / "demo" / "warehouse.db")
    typer.echo(str(target))


@demo_app.command("run")
def demo_run(
    logical_date: Annotated[
        str, typer.Option(help="Logical date of the ingest run (ISO 8601, with offset).")
    ] = "2026-11-16T08:15:00+00:00",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the evaluate run.")] = 300.0,
) -> None:
    """Run the pipeline once through the real Airflow scheduler: ingest, asset event, evaluate.

    Needs AIRFLOW_HOME initialised (``airflow db migrate``) with the DAGs folder set; starts the
    scheduler, dag-processor and api-server on 127.0.0.1, waits for the evaluate run and stops them.
    """
    from goalwatch.dev.stack import AirflowStack

    with AirflowStack.from_env() as stack:
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=timeout)
        run = stack.run_pipeline(logical_date=logical_date, timeout=timeout)
    typer.echo(f"ingest run {run['ingest']} and evaluate run {run['evaluate']} succeeded")


@demo_app.command("up")
def demo_up(port: Annotated[int, typer.Option(help="Port of the Airflow UI and API.")] = 8080) -> None:
    """Keep Airflow running (scheduler, dag-processor, triggerer, api-server) until Ctrl-C or SIGTERM."""
    from goalwatch.dev.stack import SERVICES, AirflowStack

    stack = AirflowStack.from_env(port=port)
    stack.services = (*SERVICES, "triggerer")

    def ready() -> None:
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=300)
        typer.echo(f"Airflow is up: {stack.url} (logs in {stack.log_dir}). Ctrl-C or SIGTERM stops it.")

    stack.serve(ready=ready, say=typer.echo)
