"""The ``goalwatch`` command's root: the Typer app, its command groups and what they share.

Commands live in ``evaluate`` (check, evaluate, replay), ``manage`` (silence, suites, outbox) and
``demo``; importing ``goalwatch.cli`` registers them all.
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

__all__ = ["ConfigOption", "app", "console", "demo_app", "fail", "logs_to_stderr", "outbox_app", "parse_date", "print_json", "silence_app", "status_text", "suites_app"]

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
silence_app = typer.Typer(help="Silences: a goal's alerts are recorded but not sent until a day; then its current state is.",
                          no_args_is_help=True)
app.add_typer(silence_app, name="silence")

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Path to goals.yml.")]


def logs_to_stderr() -> None:
    """Airflow sends log records to stdout at INFO; a CLI keeps stdout for its output."""
    import logging

    import airflow.sdk  # noqa: F401  (it installs its handlers on import; replace them after)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.root.handlers = [handler]
    logging.root.setLevel(logging.WARNING)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


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
