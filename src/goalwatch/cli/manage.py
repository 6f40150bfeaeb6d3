"""``goalwatch silence``, ``suites``, ``outbox`` and ``slack``: what an operator manages between runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from goalwatch.cli.app import (
    ConfigOption,
    fail,
    outbox_app,
    parse_date,
    silence_app,
    slack_app,
    suites_app,
    use_airflow,
)
from goalwatch.errors import GoalwatchError


@outbox_app.command("show")
def outbox_show(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="The outbox (default $GOALWATCH_OUTBOX or $GOALWATCH_HOME/outbox).")
    ] = None,
) -> None:
    """Print every payload in the outbox as a person would read it in Slack."""
    from goalwatch.alerting.delivery import readable
    from goalwatch.config.settings import settings

    folder = directory or settings().outbox_dir
    files = sorted(folder.rglob("*.json")) if folder.exists() else []
    if not files:
        typer.echo(f"The outbox {folder} is empty.")
        return
    for path in files:
        typer.echo(f"── {path.relative_to(folder)}")
        typer.echo(readable(json.loads(path.read_text(encoding="utf-8"))))
        typer.echo("")
    typer.echo(f"{len(files)} alert(s) in {folder}")


@silence_app.command("add")
def silence_add(
    goal: Annotated[str, typer.Argument(help="The goal's name in goals.yml.")],
    until: Annotated[str, typer.Option("--until", help="Last silenced day, YYYY-MM-DD (the goal's as-of day).")],
    reason: Annotated[str, typer.Option("--reason", help="Why: shown in the list and the logs.")],
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment (e.g. APAC/pro).")] = None,
    config: ConfigOption = Path("config/goals.yml"),
) -> None:
    """Silence a goal (or one segment) through a day, in the goalwatch store."""
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.config import load_config

    day = parse_date("--until", until)
    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        fail(exc)
    if goal not in {g.name for g in cfg.goals}:
        typer.echo(f"error: {config}: no goal named {goal!r} (goals: {', '.join(g.name for g in cfg.goals)})", err=True)
        raise typer.Exit(code=2)
    silence_id = Ledger().add_silence(goal=goal, segment=segment, until=day, reason=reason)
    typer.echo(f"silence {silence_id}: {goal}{f' [{segment}]' if segment else ''} until {day.isoformat()} ({reason})")


@silence_app.command("list")
def silence_list(config: ConfigOption = Path("config/goals.yml")) -> None:
    """List silences: those in goals.yml and those added with `silence add`."""
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.config import load_config

    rows = [("goals.yml", s.goal, s.segment, s.until, s.reason) for s in _config_silences(config, load_config)]
    rows += [(str(s.id), s.goal, s.segment, s.until, s.reason) for s in Ledger().silences()]
    if not rows:
        typer.echo("No silences.")
    for source, goal, segment, until, reason in rows:
        typer.echo(f"{source:>9}  {goal}{f' [{segment}]' if segment else ''} until {until.isoformat()}: {reason}")


def _config_silences(config: Path, load: Any) -> tuple[Any, ...]:
    try:
        return load(config).silences
    except GoalwatchError:
        return ()


@silence_app.command("remove")
def silence_remove(silence_id: Annotated[int, typer.Argument(help="The id `silence list` shows.")]) -> None:
    """Remove a silence added with `silence add` (edit goals.yml for its own)."""
    from goalwatch.alerting.ledger import Ledger

    if not Ledger().remove_silence(silence_id):
        typer.echo(f"error: no silence {silence_id}", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"removed silence {silence_id}")


@suites_app.command("write")
def suites_write(config: ConfigOption = Path("config/goals.yml")) -> None:
    """Write the default suites, generated from goals.yml, into expectations/ for editing.

    A file that exists keeps your edits: checks whose arguments you changed stay as you wrote
    them; checks still as generated follow goals.yml (new values, a new dimension), and default
    checks the file lacks are added. The evaluate run applies goals.yml the same way, file or
    not. Turn a check off with ``"meta": {"enabled": false}`` rather than deleting it.
    """
    from goalwatch.checks.goals import GOAL_CHECK_NAMES, goal_checks_suite
    from goalwatch.checks.quality import data_quality_suite, merge_suite
    from goalwatch.checks.suites import load_suite
    from goalwatch.config import load_config
    from goalwatch.pipeline import expectations_dir

    try:
        cfg = load_config(config)
        folder = expectations_dir(cfg)
        wanted = {Path("goal_checks.json"): goal_checks_suite()}
        for name, metric in cfg.metrics.items():
            wanted[Path("data_quality") / f"{name}.json"] = data_quality_suite(name, metric)
        for relative, default in wanted.items():
            path = folder / relative
            if path.exists():
                names = GOAL_CHECK_NAMES if relative.name == "goal_checks.json" else None
                stored = load_suite(folder, str(relative), default, check_names=names)
                suite, added, refreshed = merge_suite(stored, default)
                if not added and not refreshed:
                    typer.echo(f"kept    {path}")
                    continue
                verb = f"added {added} and refreshed {refreshed} check(s) in"
            else:
                suite, verb = default, "wrote  "
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
            typer.echo(f"{verb} {path}")
    except GoalwatchError as exc:
        fail(exc)


@slack_app.command("check")
def slack_check(config: ConfigOption = Path("config/goals.yml")) -> None:
    """Before the first alert: the bot token works, has every scope goalwatch needs, and is a member
    of every channel goals.yml names. Exits 1 with what to fix when something is wrong."""
    from goalwatch.config import load_config
    from goalwatch.config.settings import settings

    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        fail(exc)
    use_airflow(config)
    from goalwatch.runtime.connections import export_slack_connections
    from goalwatch.runtime.preflight import check_slack
    from goalwatch.runtime.slack import connection_exists

    export_slack_connections()
    conn_id = settings().slack_conn_id
    if not connection_exists(conn_id):
        typer.echo(
            f"error: Airflow has no connection {conn_id!r}: add the bot token with "
            f"`airflow connections add {conn_id} --conn-type slack --conn-password xoxb-...`",
            err=True,
        )
        raise typer.Exit(code=1)
    result = check_slack(cfg, conn_id=conn_id)
    for line in result.lines():
        typer.echo(line)
    if not result.ok:
        raise typer.Exit(code=1)
