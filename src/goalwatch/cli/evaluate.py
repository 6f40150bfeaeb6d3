"""``goalwatch check``, ``evaluate`` and ``replay``: the evaluate path from the command line."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from goalwatch.cli.app import ConfigOption, app, console, fail, parse_date, print_json, status_text, use_airflow
from goalwatch.errors import DeliveryError, GoalwatchError

if TYPE_CHECKING:
    from goalwatch.config import Config, Goal
    from goalwatch.core.verdicts import Verdict

REPLAY_TRIES = 3  # a replayed day's notify, tried as the evaluate DAG's notify task (1 + 2 retries)


@app.command()
def check(config: ConfigOption = Path("config/goals.yml")) -> None:
    """Validate goals.yml: every problem is printed as FILE:LINE: KEY: message."""
    from goalwatch.config import load_config

    try:
        cfg = load_config(config)
    except GoalwatchError as exc:
        fail(exc)
    typer.echo(f"{config}: OK — {len(cfg.metrics)} metric(s), {len(cfg.goals)} goal(s)")


@app.command()
def evaluate(
    as_of: Annotated[
        str, typer.Option("--as-of", help="The day to evaluate, YYYY-MM-DD (data up to and including it).")
    ],
    config: ConfigOption = Path("config/goals.yml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of verdicts.")] = False,
) -> None:
    """Evaluate every goal as of a day, reading each metric from its source, and print the verdicts.

    Runs the same steps as the evaluate DAG (data-quality suite, pacing, GX goal checks,
    status) but sends nothing. A previous period whose final verdict was never sent (its last
    day never judged) is judged as of that day and printed first, as the DAG would send it.
    """
    from goalwatch.config import load_config
    from goalwatch.pipeline import evaluate as run

    use_airflow(config)
    day = parse_date("--as-of", as_of)
    try:
        cfg = load_config(config)
        frames = _read(cfg, cfg.goals)
        verdicts = run(cfg, frames, day)
        verdicts = [*_caught_up(cfg, frames, verdicts), *verdicts]
    except GoalwatchError as exc:
        fail(exc)
    if as_json:
        return print_json(verdicts)
    from rich.table import Table

    from goalwatch.alerting.render.messages import format_value

    table = Table(title=f"goalwatch — as of {day.isoformat()}")
    for column in (
        "goal",
        "period",
        "actual",
        "expected",
        "target",
        "% of pace",
        "forecast",
        "range",
        "P(miss)",
        "status",
    ):
        table.add_column(column, justify="left" if column in ("goal", "period", "status") else "right")
    for v in verdicts:
        fmt = functools.partial(format_value, unit=v.unit, kind=v.kind)
        table.add_row(
            v.key if v.segment is None else f"  {v.segment}",
            v.period_label,
            fmt(v.actual_to_date),
            fmt(v.expected_to_date),
            fmt(v.target),
            f"{v.pace_ratio:.1%}",
            fmt(v.forecast),
            _range(v, fmt),
            f"{v.miss_probability:.0%}",
            status_text(v),
        )
    console().print(table)
    for note in sorted({f"{v.goal}: {v.note}" for v in verdicts if v.note}):
        typer.echo(note)


def _caught_up(cfg: Config, frames: dict[str, Any], verdicts: list[Verdict]) -> list[Verdict]:
    """The final verdicts the evaluate DAG would catch up on this day (``alerting.catch_up``),
    judged on the source's data. The ledger is read, never written; without one, none."""
    from goalwatch.alerting.catch_up import judge
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.config.settings import settings

    url = settings().store
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []  # goalwatch has watched nothing here yet (and evaluate creates no store)
    return judge(cfg, Ledger(), verdicts, lambda _days: frames)[0]


def _read(cfg: Config, goals: Iterable[Goal]) -> dict[str, Any]:
    """Each metric the goals are judged on, read from its source (SQL through its Airflow connection)."""
    from goalwatch.data.sources import read_metric
    from goalwatch.runtime.connections import export_connections, read_sql

    export_connections(cfg)
    return {m: read_metric(cfg, m, query=read_sql) for m in cfg.metrics_for(goals)}


@app.command()
def replay(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    goal: Annotated[str | None, typer.Argument(help="The goal's name in goals.yml (default: every goal).")] = None,
    config: ConfigOption = Path("config/goals.yml"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of verdicts, one per goal and day.")
    ] = False,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Send each day's alerts as the evaluate DAG would (to Slack, or to the outbox)."),
    ] = False,
) -> None:
    """The status timeline: each goal's verdict as of each day, from the data known that day.

    Answers "when did the miss first become predictable?". Each day runs the same steps as
    ``evaluate`` (data checks, pacing, GX goal checks, status with hysteresis). With --notify each
    day's verdicts also go through the alert ledger and out, like the evaluate DAG's notify task:
    a second replay of the same days sends nothing new.
    """
    from goalwatch.alerting.render.messages import format_value
    from goalwatch.config import load_config
    from goalwatch.pipeline import replay as run

    start, end = parse_date("--from", first), parse_date("--to", last)
    if end < start:
        typer.echo(f"error: --to {last} is before --from {first}", err=True)
        raise typer.Exit(code=2)
    use_airflow(config)
    try:
        cfg = load_config(config)
        if goal is not None and goal not in {g.name for g in cfg.goals}:
            known = ", ".join(g.name for g in cfg.goals)
            typer.echo(f"error: {config}: no goal named {goal!r} (goals: {known})", err=True)
            raise typer.Exit(code=2)
        goals = cfg.goals if goal is None else [cfg.goal(goal)]
        frames = _read(cfg, goals)
        each_day = _notifier(cfg, frames) if notify else None
        verdicts = run(cfg, frames, goal, start, end, each_day=each_day)
        if each_day is not None:
            each_day(None)  # what a failed day left pending, once more
    except GoalwatchError as exc:
        fail(exc)
    if as_json:
        return print_json(verdicts)
    from rich.table import Table

    table = Table(title=f"{goal or 'all goals'}: {start.isoformat()} to {end.isoformat()}")
    columns = ("as of", "goal", "period", "% of pace", "forecast", "range", "P(miss)", "status", "behind the gap")
    for column in columns:
        table.add_column(column, justify="right" if column in ("% of pace", "forecast", "range", "P(miss)") else "left")
    previous: dict[str, str] = {}
    for v in verdicts:
        fmt = functools.partial(format_value, unit=v.unit, kind=v.kind)
        status = status_text(v)
        table.add_row(
            v.as_of.isoformat(),
            v.goal,
            v.period_label,
            f"{v.pace_ratio:.1%}",
            fmt(v.forecast),
            _range(v, fmt),
            f"{v.miss_probability:.0%}",
            f"[bold]{status}[/bold]" if status != previous.get(v.goal) else status,
            ", ".join(f"{s} {share:.0%}" for s, share in v.explanation),
        )
        previous[v.goal] = status
    console().print(table)
    for line in _first_warnings(verdicts):
        typer.echo(line)


def _notifier(cfg: Config, frames: dict[str, Any]) -> Callable[[list[Verdict] | None], None]:
    """Each replayed day's alerts through the ledger and out, as the notify task sends them. A
    call that fails for a passing reason is tried again, as Airflow retries the task, up to
    :data:`REPLAY_TRIES` times; after that it stays pending and the next day sends it first. Called
    with None after the last day: what is still pending is an error then. A period whose last day
    was not judged (its data failed that day) gets its final verdict first (``alerting.catch_up``)."""
    from goalwatch.alerting.catch_up import judge, plan_catch_up
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.notify import chart_maker, notify, send_pending
    from goalwatch.pipeline import until
    from goalwatch.runtime.connections import export_slack_connections
    from goalwatch.runtime.slack import choose_delivery

    export_slack_connections()
    ledger, delivery = Ledger(), choose_delivery()

    def each_day(verdicts: list[Verdict] | None) -> None:
        if verdicts is None:
            send_pending(ledger, delivery, config=cfg)
            return
        day = verdicts[0].as_of
        chart = chart_maker(cfg, lambda: {m: until(f, day) for m, f in frames.items()})
        # A replay says no data issue of a day it replays, nor of a period it catches up.
        closing, _ = judge(cfg, ledger, verdicts, lambda _days: frames)
        if closing:
            plan_catch_up(closing, [], config=cfg, ledger=ledger, run_id=f"replay:{day}", chart=chart)
        try:
            notify(verdicts, [], config=cfg, ledger=ledger, delivery=delivery, chart=chart, run_id=f"replay:{day}")
        except DeliveryError as exc:
            for attempt in range(2, REPLAY_TRIES + 1):
                typer.echo(f"warning: {day}: {exc}; try {attempt} of {REPLAY_TRIES}", err=True)
                try:
                    send_pending(ledger, delivery, config=cfg)
                    break
                except DeliveryError as again:
                    exc = again
            else:
                typer.echo(f"warning: {day}: {exc}; the next day sends it first", err=True)

    return each_day


def _first_warnings(verdicts: list[Verdict]) -> list[str]:
    """For each period that closed missed: the first day it was flagged, and how early that was.
    A window that starts after the period's first day, on a day already flagged, did not see the
    warning begin: that day is said as the window's start, not as the first warning."""
    lines = []
    for v in verdicts:
        if v.status != "missed":
            continue
        period = [w for w in verdicts if w.goal == v.goal and w.period_start == v.period_start and w.as_of < v.as_of]
        flagged = [w for w in period if w.status in ("at_risk", "off_track")]
        # The first day of the last unbroken run of warnings before the close.
        first = None
        for w in reversed(flagged):
            if first is not None and (first.as_of - w.as_of).days > 1:
                break
            first = w
        if first is None and not period and v.as_of > v.period_start:
            lines.append(f"{v.goal}: {v.period_label} closed missed; the window starts on the close.")
            continue
        if first is None:
            lines.append(f"{v.goal}: {v.period_label} closed missed with no warning before the close.")
            continue
        status, count = first.status.replace("_", " "), (v.as_of - first.as_of).days
        days = f"{count} day{'s' if count != 1 else ''}"
        window_start = min(w.as_of for w in period)
        if first.as_of == window_start and window_start > v.period_start:
            lines.append(
                f"{v.goal}: {v.period_label} closed missed; already {status} when the window starts "
                f"({window_start.isoformat()}), {days} before the close."
            )
        else:
            lines.append(
                f"{v.goal}: {v.period_label} closed missed; goalwatch flagged it {status} "
                f"from {first.as_of.isoformat()}, {days} before the close."
            )
    return lines


def _range(v: Verdict, fmt: Callable[[float], str]) -> str:
    """The forecast range, or a dash once the period closed (its outcome is known)."""
    return "—" if v.closed or v.forecast_low != v.forecast_low else f"{fmt(v.forecast_low)} – {fmt(v.forecast_high)}"
