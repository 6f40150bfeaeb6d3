"""Shared fixtures. Tests never touch a developer's Airflow or goalwatch state: a private
AIRFLOW_HOME is set here, before anything imports airflow, and removed at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_PRIVATE_HOME = tempfile.mkdtemp(prefix="goalwatch-tests-")
for _key in [k for k in os.environ if k.startswith(("AIRFLOW", "GOALWATCH_"))]:
    del os.environ[_key]
os.environ.update(
    AIRFLOW_HOME=str(Path(_PRIVATE_HOME) / "airflow"),
    AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    GOALWATCH_HOME=str(Path(_PRIVATE_HOME) / "goalwatch"),
    GOALWATCH_INGEST_SCHEDULE="none",
)

DEMO_LOGICAL_DATE = "2026-11-16T08:15:00+00:00"  # 00:15 in Los Angeles: the run is about 15 Nov


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_PRIVATE_HOME, ignore_errors=True)


def bin_path(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from goalwatch.dev.demo import seed

    return seed(tmp_path_factory.mktemp("demo") / "warehouse.db")


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow metadata DB migrated once; each Airflow test starts from a copy of it."""
    home = tmp_path_factory.mktemp("airflow-template")
    env = {**os.environ, "AIRFLOW_HOME": str(home)}
    subprocess.run([bin_path("airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    return home / "airflow.db"


@pytest.fixture
def airflow_env(tmp_path: Path, migrated_db: Path, demo_warehouse: Path) -> Iterator[dict[str, str]]:
    """Environment for Airflow subprocesses: a fresh AIRFLOW_HOME, goalwatch state and the demo."""
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copy(migrated_db, home / "airflow.db")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "GOALWATCH_HOME": str(tmp_path / "goalwatch"),
        "GOALWATCH_CONFIG": str(ROOT / "config" / "goals.yml"),
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": f'{{"conn_type": "sqlite", "host": "{demo_warehouse}"}}',
    }
    yield env


@pytest.fixture
def fake_slack() -> Iterator[object]:
    from tests.fakes.slack import FakeSlack

    with FakeSlack(token="xoxb-test-not-a-real-token") as slack:
        yield slack
