"""Every DAG file imports cleanly, carries tags, retries and docs, and stays cheap to parse."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_evaluate_runs_the_checks_in_order(dagbag):
    dag = dagbag.dags["goalwatch_evaluate"]
    order = [t.task_id for t in dag.topological_sort()]
    assert order.index("check_data") < order.index("pace") < order.index("check_goals") < order.index("notify")


def test_evaluate_is_scheduled_on_every_metric_asset(dagbag):
    from goalwatch.assets import metric_asset

    dag = dagbag.dags["goalwatch_evaluate"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # any one metric's new data starts a run
    assets = {a.uri for a in condition.objects}
    assert assets == {metric_asset("new_users").uri, metric_asset("revenue").uri}


def test_publish_announces_every_metric(dagbag):
    from goalwatch.assets import metric_asset

    publish = dagbag.dags["goalwatch_ingest"].get_task("publish")
    assert {o.uri for o in publish.outlets} == {metric_asset("new_users").uri, metric_asset("revenue").uri}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_parsing_imports_nothing_heavy(dag_file):
    """Parsing a DAG file must not import pandas, GX, slack_sdk or matplotlib."""
    code = (
        "import runpy, sys, json; runpy.run_path(sys.argv[1]); "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(dag_file)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_a_bad_config_is_an_import_error_that_names_the_key(tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    bad = tmp_path / "goals.yml"
    bad.write_text((ROOT / "config" / "goals.yml").read_text().replace("period: quarter", "period: quartr", 1))
    monkeypatch.setenv("GOALWATCH_CONFIG", str(bad))
    errors = DagBag(dag_folder=str(ROOT / "dags")).import_errors
    assert len(errors) == 4
    for message in errors.values():
        assert f"{bad}:" in message and "goals[0].period: 'quartr' is not one of" in message
