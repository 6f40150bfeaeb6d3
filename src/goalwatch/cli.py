"""The ``goalwatch`` command. Thin: each command calls the same functions the DAGs call.

Its help text is the documentation: ``goalwatch --help`` and ``goalwatch COMMAND --help``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from goalwatch.errors import GoalwatchError

if TYPE_CHECKING:
    from goalwatch.core.verdicts import Verdict

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
    from goalwatch.pipeline import evaluate as run

    _logs_to_stderr()
    day = _date("--as-of", as_of)
    try:
        cfg = load_config(config)
        verdicts = run(cfg, _read(cfg, cfg.goals), day)
    except GoalwatchError as exc:
        _fail(exc)
    if as_json:
        return _print_json(verdicts)
    from rich.table import Table

    from goalwatch.alerting.render.messages import format_value

    table = Table(title=f"goalwatch — as of {day.isoformat()}")
    for column in ("goal", "period", "actual", "expected", "target", "% of pace", "forecast", "range",
                   "P(miss)", "status"):
        table.add_column(column, justify="left" if column in ("goal", "period", "status") else "right")
    for v in verdicts:
        fmt = lambda x: format_value(x, v.unit, kind=v.kind)  # noqa: E731
        table.add_row(
            v.key if v.segment is None else f"  {v.segment}", v.period_label, fmt(v.actual_to_date),
            fmt(v.expected_to_date), fmt(v.target), f"{v.pace_ratio:.1%}", fmt(v.forecast),
            f"{fmt(v.forecast_low)} – {fmt(v.forecast_high)}", f"{v.miss_probability:.0%}", _status(v),
        )
    _console().print(table)
    for note in sorted({f"{v.goal}: {v.note}" for v in verdicts if v.note}):
        typer.echo(note)


def _read(cfg: Any, goals: Any) -> dict[str, Any]:
    """Each metric the goals use (and ratios' denominators), read from its source."""
    from goalwatch.data.sources import load_connections, read_metric

    load_connections(cfg)
    return {m: read_metric(cfg, m) for m in sorted({m for g in goals for m in (g.metric, g.denominator) if m})}


def _print_json(verdicts: list[Verdict]) -> None:
    typer.echo(json.dumps([v.to_dict() for v in verdicts], indent=2))


def _status(v: Verdict) -> str:
    return v.status + (f" ({v.severity})" if v.severity else "")


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 140)


@app.command()
def replay(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    goal: Annotated[Optional[str], typer.Argument(help="The goal's name in goals.yml (default: every goal).")] = None,
    config: ConfigOption = Path("config/goals.yml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of verdicts, one per goal and day.")] = False,
    notify: Annotated[bool, typer.Option(
        "--notify", help="Send each day's alerts as the evaluate DAG would (to Slack, or to the outbox).")] = False,
) -> None:
    """The status timeline: each goal's verdict as of each day, from the data known that day.

    Answers "when did the miss first become predictable?". Each day runs the same steps as
    ``evaluate`` (data checks, pacing, GX goal checks, status with hysteresis). With --notify each
    day's verdicts also go through the alert ledger and out, like the evaluate DAG's notify task:
    a second replay of the same days sends nothing new.
    """
    from goalwatch.config import load_config
    from goalwatch.pipeline import replay as run
    from goalwatch.alerting.render.messages import format_value

    start, end = _date("--from", first), _date("--to", last)
    if end < start:
        typer.echo(f"error: --to {last} is before --from {first}", err=True)
        raise typer.Exit(code=2)
    _logs_to_stderr()
    try:
        cfg = load_config(config)
        if goal is not None and goal not in {g.name for g in cfg.goals}:
            known = ", ".join(g.name for g in cfg.goals)
            typer.echo(f"error: {config}: no goal named {goal!r} (goals: {known})", err=True)
            raise typer.Exit(code=2)
        goals = cfg.goals if goal is None else [cfg.goal(goal)]
        frames = _read(cfg, goals)
        verdicts = run(cfg, frames, goal, start, end, each_day=_notifier(cfg, frames) if notify else None)
    except GoalwatchError as exc:
        _fail(exc)
    if as_json:
        return _print_json(verdicts)
    from rich.table import Table

    table = Table(title=f"{goal or 'all goals'}: {start.isoformat()} to {end.isoformat()}")
    columns = ("as of", "goal", "period", "% of pace", "forecast", "range", "P(miss)", "status", "behind the gap")
    for column in columns:
        table.add_column(column, justify="right" if column in ("% of pace", "forecast", "range", "P(miss)") else "left")
    previous: dict[str, str] = {}
    for v in verdicts:
        fmt = lambda x: format_value(x, v.unit, kind=v.kind)  # noqa: E731
        status = _status(v)
        table.add_row(
            v.as_of.isoformat(), v.goal, v.period_label, f"{v.pace_ratio:.1%}", fmt(v.forecast),
            f"{fmt(v.forecast_low)} – {fmt(v.forecast_high)}", f"{v.miss_probability:.0%}",
            f"[bold]{status}[/bold]" if status != previous.get(v.goal) else status,
            ", ".join(f"{s} {share:.0%}" for s, share in v.explanation),
        )
        previous[v.goal] = status
    _console().print(table)
    for line in _first_warnings(verdicts):
        typer.echo(line)


def _notifier(cfg: Any, frames: dict[str, Any]) -> Any:
    """Each replayed day's alerts through the ledger and out, as the notify task sends them."""
    from goalwatch.alerting.plan import plan
    from goalwatch.alerting.delivery import choose_delivery, deliver
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.data.sources import load_slack_connections

    from goalwatch.pipeline import until
    from goalwatch.runtime.tasks import charts_for

    load_slack_connections()
    ledger, delivery = Ledger(), choose_delivery()

    def each_day(verdicts: list[Verdict]) -> None:
        day = verdicts[0].as_of
        chart = charts_for(cfg, lambda: {m: until(f, day) for m, f in frames.items()})
        plan(verdicts, [], config=cfg, ledger=ledger, run_id=f"replay:{day.isoformat()}", chart=chart)
        outcome = deliver(ledger, delivery)
        if outcome["failed"]:
            raise GoalwatchError("; ".join(outcome["failed"]))

    return each_day


def _first_warnings(verdicts: list[Verdict]) -> list[str]:
    """For each period that closed missed: the first day it was flagged, and how early that was."""
    lines = []
    for v in verdicts:
        if v.status != "missed":
            continue
        flagged = [w for w in verdicts if w.goal == v.goal and w.period_start == v.period_start
                   and w.status in ("at_risk", "off_track") and w.as_of < v.as_of]
        # The first day of the last unbroken run of warnings before the close.
        first = None
        for w in reversed(flagged):
            if first is not None and (first.as_of - w.as_of).days > 1:
                break
            first = w
        if first is None:
            lines.append(f"{v.goal}: {v.period_label} closed missed with no warning before the close.")
        else:
            lines.append(f"{v.goal}: {v.period_label} closed missed; goalwatch flagged it {first.status.replace('_', ' ')} "
                         f"from {first.as_of.isoformat()}, {(v.as_of - first.as_of).days} days before the close.")
    return lines


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"error: {option}: {value!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(code=2) from None


@demo_app.command("seed")
def demo_seed(
    path: Annotated[Optional[Path], typer.Option(help="Where to write the warehouse (default $GOALWATCH_HOME/demo/warehouse.db).")] = None,
) -> None:
    """Write the deterministic demo warehouse (SQLite): sign-ups and payments since July 2024."""
    from goalwatch.config import settings
    from goalwatch.dev.demo import seed

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
    from goalwatch.dev.stack import AirflowStack

    with AirflowStack.from_env() as stack:
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=timeout)
        run = stack.run_pipeline(logical_date=logical_date, timeout=timeout)
    typer.echo(f"ingest run {run['ingest']} and evaluate run {run['evaluate']} succeeded")


@demo_app.command("up")
def demo_up(port: Annotated[int, typer.Option(help="Port of the Airflow UI and API.")] = 8080) -> None:
    """Keep Airflow running (scheduler, dag-processor, triggerer, api-server) until Ctrl-C."""
    import time

    from goalwatch.dev.stack import SERVICES, AirflowStack

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
    from goalwatch.config import settings
    from goalwatch.alerting.delivery import readable

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


@silence_app.command("add")
def silence_add(
    goal: Annotated[str, typer.Argument(help="The goal's name in goals.yml.")],
    until: Annotated[str, typer.Option("--until", help="Last silenced day, YYYY-MM-DD (the goal's as-of day).")],
    reason: Annotated[str, typer.Option("--reason", help="Why: shown in the list and the logs.")],
    segment: Annotated[Optional[str], typer.Option("--segment", help="Only this segment (e.g. APAC/pro).")] = None,
    config: ConfigOption = Path("config/goals.yml"),
) -> None:
    """Silence a goal (or one segment) through a day, in the goalwatch store."""
    from goalwatch.config import load_config
    from goalwatch.alerting.ledger import Ledger

    day = _date("--until", until)
    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        _fail(exc)
    if goal not in {g.name for g in cfg.goals}:
        typer.echo(f"error: {config}: no goal named {goal!r} (goals: {', '.join(g.name for g in cfg.goals)})", err=True)
        raise typer.Exit(code=2)
    silence_id = Ledger().add_silence(goal=goal, segment=segment, until=day, reason=reason)
    typer.echo(f"silence {silence_id}: {goal}{f' [{segment}]' if segment else ''} until {day.isoformat()} ({reason})")


@silence_app.command("list")
def silence_list(config: ConfigOption = Path("config/goals.yml")) -> None:
    """List silences: those in goals.yml and those added with `silence add`."""
    from goalwatch.config import load_config
    from goalwatch.alerting.ledger import Ledger

    rows = [(f"goals.yml", s.goal, s.segment, s.until, s.reason) for s in _config_silences(config, load_config)]
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
    from goalwatch.config import load_config
    from goalwatch.pipeline import expectations_dir
    from goalwatch.checks.quality import data_quality_suite, merge_suite
    from goalwatch.checks.suites import goal_checks_suite, load_suite

    try:
        cfg = load_config(config)
        folder = expectations_dir(cfg)
        wanted = {Path("goal_checks.json"): goal_checks_suite()}
        for name, metric in cfg.metrics.items():
            wanted[Path("data_quality") / f"{name}.json"] = data_quality_suite(name, metric)
        for relative, default in wanted.items():
            path = folder / relative
            if path.exists():
                suite, added, refreshed = merge_suite(load_suite(folder, str(relative), default), default)
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
        _fail(exc)


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
