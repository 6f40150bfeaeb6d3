"""Every DAG file imports cleanly, carries tags, retries and docs, and stays cheap to parse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DAG_FILES = sorted((ROOT / "dags").glob("*.py"))
HEAVY = ("pandas", "great_expectations", "slack_sdk", "matplotlib", "numpy", "pyarrow")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"goalwatch_ingest", "goalwatch_evaluate", "goalwatch_digest", "goalwatch_watchdog"}


@pytest.mark.parametrize("dag_id", ["goalwatch_ingest", "goalwatch_evaluate", "goalwatch_digest", "goalwatch_watchdog"])
def test_every_dag_has_tags_retries_and_docs(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "goalwatch" in dag.tags
    assert dag.doc_md and dag.doc_md.strip().startswith("### goalwatch")
    for task in dag.tasks:
        assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_evaluate_checks_each_metric_then_decides_in_one_task(dagbag):
    dag = dagbag.dags["goalwatch_evaluate"]
    # Two task starts from the event to Slack: the data checks (one per metric), then decide.
    check, decide, sweep = (dag.get_task(t) for t in ("check_data", "decide", "sweep"))
    assert type(check).__name__.endswith("MappedOperator")
    assert check.op_kwargs_expand_input.value == {"metric": ["new_users", "revenue"]}
    assert decide.upstream_task_ids == {"check_data"} and not decide.downstream_task_ids
    # The sweep waits for nothing and nothing waits for it: a failed decide still fails the run.
    assert not sweep.upstream_task_ids and not sweep.downstream_task_ids
    assert {t.task_id for t in dag.tasks} == {"check_data", "decide", "sweep"}


def test_ingest_fans_out_one_task_per_metric(dagbag):
    dag = dagbag.dags["goalwatch_ingest"]
    ingest = dag.get_task("ingest")
    assert type(ingest).__name__.endswith("MappedOperator")
    assert ingest.op_kwargs_expand_input.value == {"metric": ["new_users", "revenue"]}
    assert dag.get_task("publish").upstream_task_ids == {"ingest"}


def test_evaluate_is_scheduled_on_every_metric_asset_and_the_redis_messages(dagbag):
    from goalwatch.runtime.assets import metric_asset
    from goalwatch.runtime.events import MESSAGES_URI

    dag = dagbag.dags["goalwatch_evaluate"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # any one metric's new data starts a run
    assets = {a.uri: a for a in condition.objects}
    assert set(assets) == {metric_asset("new_users").uri, metric_asset("revenue").uri, MESSAGES_URI}
    # The triggerer listens on the channel goalwatch through redis_default, polling within a second.
    (watcher,) = assets[MESSAGES_URI].watchers
    kwargs = watcher.trigger.serialize()[1]
    assert kwargs["channels"] == ["goalwatch"]
    assert kwargs["redis_conn_id"] == "redis_default"
    assert 0 < kwargs["poll_interval"] <= 1


def test_redis_channel_none_turns_the_watcher_off(monkeypatch):
    from goalwatch.runtime.assets import messages_asset

    monkeypatch.setenv("GOALWATCH_REDIS_CHANNEL", "none")
    assert messages_asset().watchers == []
    monkeypatch.setenv("GOALWATCH_REDIS_CHANNEL", "orders-landed")
    monkeypatch.setenv("GOALWATCH_REDIS_CONN_ID", "queue")
    (watcher,) = messages_asset().watchers
    assert watcher.trigger.serialize()[1]["channels"] == ["orders-landed"]
    assert watcher.trigger.serialize()[1]["redis_conn_id"] == "queue"


def test_publish_announces_every_metric(dagbag):
    from goalwatch.runtime.assets import metric_asset

    publish = dagbag.dags["goalwatch_ingest"].get_task("publish")
    assert {o.uri for o in publish.outlets} == {metric_asset("new_users").uri, metric_asset("revenue").uri}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_parsing_imports_nothing_heavy(dag_file):
    """Parsing a DAG file must not import pandas, GX, slack_sdk or matplotlib."""
    code = (
        "import runpy, sys, json; runpy.run_path(sys.argv[1]); "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(dag_file)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


# The mistakes `goalwatch check` must name by file, line and key, made in the repository's goals.yml.
CONFIG_MISTAKES = [
    pytest.param(
        "    metric: revenue\n",
        "    metric: revnue\n",
        "goals[1].metric",
        "'revnue' is not a metric (known: 'new_users', 'revenue')",
        id="unknown-metric",
    ),
    pytest.param(
        "    period: month\n",
        "    period: fortnight\n",
        "goals[2].period",
        "'fortnight' is not one of",
        id="bad-period",
    ),
    pytest.param(
        "    target: 12000\n", "    target: 0\n", "goals[2].target", "must be greater than 0, not 0", id="zero-target"
    ),
    pytest.param(
        "    target: 2450000\n",
        "    target: -2450000\n",
        "goals[1].target",
        "must be greater than 0, not -2450000",
        id="negative-target",
    ),
    pytest.param(
        "  - name: monthly_new_users\n",
        "  - name: quarterly_new_users\n",
        "goals[2].name",
        "'quarterly_new_users' is already the name of goals[0]",
        id="duplicate-goal-name",
    ),
    pytest.param(
        "APAC: 9600}",
        "APAC: 9000}",
        "goals[0].segments.targets",
        "the segment targets add up to 47,400, not the goal's target 48,000",
        id="segments-do-not-add-up",
    ),
    pytest.param(
        '{channel: "#revenue-goals"}',
        '{channel: "Revenue Goals"}',
        "goals[1].notify.channel",
        "'Revenue Goals' is not allowed here",
        id="malformed-channel",
    ),
    pytest.param(
        "        SELECT date(paid_at)",
        "        DELETE FROM payments; SELECT date(paid_at)",
        "metrics.revenue.source.sql",
        "must be a single query, found 2 statements",
        id="sql-two-statements",
    ),
    pytest.param(
        "        SELECT date(paid_at) AS day, region, plan, currency, SUM(amount) AS value\n"
        "        FROM payments GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        "        UPDATE payments SET amount = 0",
        "metrics.revenue.source.sql",
        "must be a read-only query (SELECT or WITH ... SELECT), not UPDATE",
        id="sql-not-read-only",
    ),
]


@pytest.mark.parametrize(("before", "after", "key", "message"), CONFIG_MISTAKES)
def test_a_bad_config_is_one_paragraph_in_goalwatch_check_and_in_airflow(tmp_path, before, after, key, message):
    """`goalwatch check` names file, line and key; every DAG file fails to import with that same
    paragraph, as Airflow stores and shows it with the stack's settings (no traceback)."""
    from goalwatch.dev.stack import stack_env

    text = (ROOT / "config" / "goals.yml").read_text()
    assert before in text
    bad = tmp_path / "goals.yml"
    bad.write_text(text.replace(before, after, 1))
    # The line of the key: where the change is, or the `sql: >-` line above a query's text.
    line = text[: text.index(before)].count("\n") + 1 - key.endswith(".sql")

    check = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "goalwatch"), "check", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 2
    paragraph = check.stderr.strip().removeprefix("error: ")
    assert paragraph.startswith(f"{bad}:") and f": {key}: {message}" in paragraph
    assert f"{bad}:{line}: {key}:" in paragraph

    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"print(json.dumps(DagBag(dag_folder={str(ROOT / 'dags')!r}).import_errors))"
    )
    env = stack_env({**__import__("os").environ, "GOALWATCH_CONFIG": str(bad)}, port=8080)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(errors) == len(DAG_FILES)
    assert set(errors.values()) == {paragraph}


def test_a_bad_environment_variable_is_one_line_in_every_dags_import_error():
    """GOALWATCH_INGEST_RETRIES=abc: every DAG file fails to import with one line naming the
    variable (no bare int() error, no traceback), as with a bad goals.yml: the settings are read
    whole."""
    from goalwatch.dev.stack import stack_env

    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"print(json.dumps(DagBag(dag_folder={str(ROOT / 'dags')!r}).import_errors))"
    )
    env = stack_env({**__import__("os").environ, "GOALWATCH_INGEST_RETRIES": "abc"}, port=8080)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    line = "environment variable GOALWATCH_INGEST_RETRIES='abc': is not a whole number; fix or unset it"
    assert {Path(f).name: e for f, e in errors.items()} == {Path(f).name: line for f in DAG_FILES}
