"""The ``goalwatch`` command. Thin: each command calls the same functions the DAGs call.

Its help text is the documentation: ``goalwatch --help`` and ``goalwatch COMMAND --help``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from goalwatch.errors import GoalwatchError

app = typer.Typer(
    help="goalwatch: watch user and revenue goals; alert Slack when one is at risk, off track or missed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
demo_app = typer.Typer(help="The embedded demo: a seeded SQLite warehouse whose quarter misses its goals.",
                       no_args_is_help=True)
outbox_app = typer.Typer(help="Alerts written locally when no Slack connection is configured.",
                         no_args_is_help=True)
suites_app = typer.Typer(help="The Great Expectations suites in expectations/.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(outbox_app, name="outbox")
app.add_typer(suites_app, name="suites")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Path to goals.yml.")]


def _logs_to_stderr() -> None:
    """Airflow sends log records to stdout at INFO; a CLI keeps stdout for its output."""
    import logging

    import airflow.sdk  # noqa: F401  (it installs its handlers on import; replace them after)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.root.handlers = [handler]
    logging.root.setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _fail(exc: GoalwatchError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


@app.command()
def check(config: ConfigOption = Path("config/goals.yml")) -> None:
    """Validate goals.yml: every problem is printed as FILE:LINE: KEY: message."""
    from goalwatch.config import load_config

    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        _fail(exc)
    typer.echo(f"{config}: OK — {len(cfg.metrics)} metric(s), {len(cfg.goals)} goal(s)")


@app.command()
def evaluate(
    as_of: Annotated[str, typer.Option("--as-of", help="The day to evaluate, YYYY-MM-DD (data up to and including it).")],
    config: ConfigOption = Path("config/goals.yml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of verdicts.")] = False,
) -> None:
    """Evaluate every goal as of a day, reading each metric from its source, and print the verdicts.

    Runs the same steps as the evaluate DAG (data-quality suite, pacing, GX goal checks,
    status) but sends nothing.
    """
    from goalwatch.config import load_config
    from goalwatch.evaluation import evaluate as run
    from goalwatch.sources import read_metric

    _logs_to_stderr()
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        typer.echo(f"error: --as-of: {as_of!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(code=2) from None
    try:
        cfg = load_config(config)
        frames = {m: read_metric(cfg, m) for m in sorted({g.metric for g in cfg.goals})}
        verdicts = run(cfg, frames, day)
    except GoalwatchError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps([v.to_dict() for v in verdicts], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    from goalwatch.messages import format_value

    table = Table(title=f"goalwatch — as of {day.isoformat()}")
    for column in ("goal", "period", "actual", "expected", "target", "% of pace", "forecast", "status"):
        table.add_column(column, justify="left" if column in ("goal", "period", "status") else "right")
    for v in verdicts:
        table.add_row(
            v.goal, v.period_label, format_value(v.actual_to_date, v.unit), format_value(v.expected_to_date, v.unit),
            format_value(v.target, v.unit), f"{v.pace_ratio:.1%}", format_value(v.forecast, v.unit),
            v.status + (f" ({v.severity})" if v.severity else ""),
        )
    Console(width=None if sys.stdout.isatty() else 140).print(table)
    for v in verdicts:
        if v.note:
            typer.echo(f"{v.goal}: {v.note}")


@demo_app.command("seed")
def demo_seed(
    path: Annotated[Optional[Path], typer.Option(help="Where to write the warehouse (default $GOALWATCH_HOME/demo/warehouse.db).")] = None,
) -> None:
    """Write the deterministic demo warehouse (SQLite): sign-ups and payments since July 2024."""
    from goalwatch import settings
    from goalwatch.demo import seed

    target = seed(path or settings.home() / "demo" / "warehouse.db")
    typer.echo(str(target))


@demo_app.command("run")
def demo_run(
    logical_date: Annotated[str, typer.Option(help="Logical date of the ingest run (ISO 8601, with offset).")] = "2026-11-16T08:15:00+00:00",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the evaluate run.")] = 300.0,
) -> None:
    """Run the pipeline once through the real Airflow scheduler: ingest, asset event, evaluate.

    Needs AIRFLOW_HOME initialised (``airflow db migrate``) with the DAGs folder set; starts the
    scheduler, dag-processor and api-server on 127.0.0.1, waits for the evaluate run and stops them.
    """
    from goalwatch.devstack import AirflowStack

    with AirflowStack.from_env() as stack:
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=timeout)
        run = stack.run_pipeline(logical_date=logical_date, timeout=timeout)
    typer.echo(f"ingest run {run['ingest']} and evaluate run {run['evaluate']} succeeded")


@demo_app.command("up")
def demo_up(port: Annotated[int, typer.Option(help="Port of the Airflow UI and API.")] = 8080) -> None:
    """Keep Airflow running (scheduler, dag-processor, triggerer, api-server) until Ctrl-C."""
    import time

    from goalwatch.devstack import SERVICES, AirflowStack

    stack = AirflowStack.from_env(port=port)
    stack.services = (*SERVICES, "triggerer")
    with stack:
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=300)
        typer.echo(f"Airflow is up: {stack.url} (logs in {stack.log_dir}). Ctrl-C stops it.")
        try:
            while True:
                stack.check_alive()
                time.sleep(2)
        except KeyboardInterrupt:
            typer.echo("stopping Airflow")


@outbox_app.command("show")
def outbox_show(
    directory: Annotated[Optional[Path], typer.Option("--dir", help="The outbox (default $GOALWATCH_OUTBOX or $GOALWATCH_HOME/outbox).")] = None,
) -> None:
    """Print every payload in the outbox as a person would read it in Slack."""
    from goalwatch import settings
    from goalwatch.delivery import readable

    folder = directory or settings.outbox_dir()
    files = sorted(folder.rglob("*.json")) if folder.exists() else []
    if not files:
        typer.echo(f"The outbox {folder} is empty.")
        return
    for path in files:
        typer.echo(f"── {path.relative_to(folder)}")
        typer.echo(readable(json.loads(path.read_text(encoding="utf-8"))))
        typer.echo("")
    typer.echo(f"{len(files)} alert(s) in {folder}")


@suites_app.command("write")
def suites_write(config: ConfigOption = Path("config/goals.yml")) -> None:
    """Write the default suites into expectations/ for editing; files that exist are kept as they are."""
    from goalwatch.config import load_config
    from goalwatch.evaluation import expectations_dir
    from goalwatch.validation import data_quality_suite, goal_checks_suite

    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        _fail(exc)
    folder = expectations_dir(cfg)
    wanted = {Path("goal_checks.json"): goal_checks_suite()}
    for name, metric in cfg.metrics.items():
        wanted[Path("data_quality") / f"{name}.json"] = data_quality_suite(name, metric)
    for relative, suite in wanted.items():
        path = folder / relative
        if path.exists():
            typer.echo(f"kept    {path}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"wrote   {path}")


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
