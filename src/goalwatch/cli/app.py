"""The ``goalwatch`` command's root: the Typer app, its command groups and what they share.

Commands live in ``evaluate`` (check, evaluate, replay), ``manage`` (silence, suites, outbox, slack)
and ``demo``; importing ``goalwatch.cli`` registers them all.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from goalwatch.errors import GoalwatchError

if TYPE_CHECKING:
    from goalwatch.core.verdicts import Verdict

__all__ = [
    "ConfigOption",
    "app",
    "console",
    "demo_app",
    "fail",
    "outbox_app",
    "parse_date",
    "print_json",
    "silence_app",
    "slack_app",
    "status_text",
    "suites_app",
    "use_airflow",
]

app = typer.Typer(
    help="goalwatch: watch user and revenue goals; alert Slack when one is at risk, off track or missed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
demo_app = typer.Typer(
    help="The embedded demo: a seeded SQLite warehouse whose quarter misses its goals.", no_args_is_help=True
)
outbox_app = typer.Typer(help="Alerts written locally when no Slack connection is configured.", no_args_is_help=True)
suites_app = typer.Typer(help="The Great Expectations suites in expectations/.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(outbox_app, name="outbox")
app.add_typer(suites_app, name="suites")
silence_app = typer.Typer(
    help="Silences: a goal's alerts are recorded but not sent until a day; then its current state is.",
    no_args_is_help=True,
)
app.add_typer(silence_app, name="silence")
slack_app = typer.Typer(help="The Slack app goalwatch posts as.", no_args_is_help=True)
app.add_typer(slack_app, name="slack")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Path to goals.yml.")]


def use_airflow(config: Path | None = None) -> None:
    """Before a command touches Airflow: use the project's ``.airflow/`` (what ``make demo`` made, in
    the working folder or beside the config's folder) unless AIRFLOW_HOME is set, and keep
    Airflow's log records off stdout."""
    from goalwatch.runtime.connections import find_airflow_home, logs_to_stderr

    places = [Path.cwd(), *([config.absolute().parent.parent] if config is not None else [])]
    find_airflow_home(*places)
    logs_to_stderr()


@app.callback()
def _environment_first() -> None:
    """A bad GOALWATCH_* variable stops every command with one line naming it."""
    from goalwatch.config.settings import settings

    try:
        settings()
    except GoalwatchError as exc:
        fail(exc)


def fail(exc: GoalwatchError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def print_json(verdicts: list[Verdict]) -> None:
    typer.echo(json.dumps([v.to_dict() for v in verdicts], indent=2))


def status_text(v: Verdict) -> str:
    return v.status + (f" ({v.severity})" if v.severity else "")


def console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 140)


def parse_date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"error: {option}: {value!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(code=2) from None
