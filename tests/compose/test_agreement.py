"""docker-compose.yml sets what goalwatch.dev.production sets (issue 12, item 1).

The production topology runs twice: as local processes (goalwatch.dev.production, which the
end-to-end tests and the latency benchmark start) and as containers (docker-compose.yml, which
no test here can start). What the first proves holds for the second only where they agree, so
every Airflow service of the compose file must set each key of SHARED to the same string, and
reach Redis through the connection SHARED names. Importing goalwatch.dev.production imports
goalwatch's config layer and httpx, not Airflow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from goalwatch.dev.production import FAB, SHARED
from tests.compose.composefile import AIRFLOW_SERVICES, blocks, environment
from tests.compose.composefile import svc as _svc


def shared_problems(compose: dict[str, Any], shared: dict[str, str]) -> list[str]:
    """Each Airflow service (and the x-airflow-common block they merge) sets every key of ``shared`` alike."""
    problems: list[str] = []
    every = blocks(compose)
    names = [name for name in ("x-airflow-common", *AIRFLOW_SERVICES) if name in every]
    if not names:
        return ["no x-airflow-common block and no Airflow service"]
    for name in names:
        env = environment(every[name])
        for key, value in shared.items():
            if key not in env:
                problems.append(f"{name}: {key} is not set (goalwatch.dev.production sets {value!r})")
            elif env[key] != value:
                problems.append(f"{name}: {key} is {env[key]!r}, goalwatch.dev.production sets {value!r}")
    return problems


def test_compose_sets_what_production_sets(compose: dict[str, Any]) -> None:
    assert shared_problems(compose, SHARED) == []


def test_shared_names_the_fab_auth_manager_and_celery() -> None:
    # The two settings the issue names: a regression in SHARED itself must not pass unnoticed.
    assert (
        SHARED["AIRFLOW__CORE__AUTH_MANAGER"]
        == FAB
        == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    assert SHARED["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


AGREED = {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
BROKEN_AGREEMENT = {
    "missing-key": ({"x-airflow-common": {"environment": {"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}}}, "not set"),
    "other-case": (
        {"x-airflow-common": {"environment": {**AGREED, "AIRFLOW__CORE__LOAD_EXAMPLES": "false"}}},
        "'false'",
    ),
    "service-overrides": (
        {
            "x-airflow-common": {"environment": AGREED},
            "services": {"airflow-worker": _svc(environment={**AGREED, "AIRFLOW__CORE__EXECUTOR": "LocalExecutor"})},
        },
        "airflow-worker: AIRFLOW__CORE__EXECUTOR is 'LocalExecutor'",
    ),
    "list-syntax": (
        {"services": {"airflow-init": _svc(environment=["AIRFLOW__CORE__EXECUTOR=LocalExecutor"])}},
        "AIRFLOW__CORE__LOAD_EXAMPLES is not set",
    ),
    "nothing-to-check": ({"services": {"web": _svc()}}, "no x-airflow-common"),
}


@pytest.mark.parametrize("compose_dict, expected", BROKEN_AGREEMENT.values(), ids=BROKEN_AGREEMENT.keys())
def test_agreement_checker_finds(compose_dict: dict[str, Any], expected: str) -> None:
    problems = shared_problems(compose_dict, AGREED)
    assert any(expected in p for p in problems), problems


def test_redis_connection_reaches_the_redis_service(compose: dict[str, Any]) -> None:
    """The triggerer's watcher and the ingest read Redis through GOALWATCH_REDIS_CONN_ID's connection."""
    key = "AIRFLOW_CONN_" + SHARED["GOALWATCH_REDIS_CONN_ID"].upper()
    for name in AIRFLOW_SERVICES:
        connection = json.loads(environment(compose["services"][name])[key])
        assert connection["conn_type"] == "redis", name
        assert connection["host"] == "redis" and "redis" in compose["services"], name
        assert (connection["port"], connection["extra"]["db"]) == (6379, 0), name
