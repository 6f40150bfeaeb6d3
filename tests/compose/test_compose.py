"""docker-compose.yml, the Dockerfile and docker/postgres-init.sql: the Compose spec and the wiring.

Two layers: the Compose spec itself (check-jsonschema's bundled compose-spec schema, run as a
subprocess exactly as a developer would), and the references the schema cannot see (a
depends_on naming a missing service, an undeclared named volume, a bind mount of a path that
is not in the repo, a build context without a Dockerfile, ports published where nobody meant
to). Secrets and auth are test_security's, the agreement with goalwatch.dev.production
test_agreement's. Each checker also runs on a small broken input, so a checker that stopped
finding anything fails here. No Airflow imports: this runs in about a second.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.compose.composefile import (
    AIRFLOW_SERVICES,
    COMPOSE,
    DOCKERFILE,
    POSTGRES_INIT,
    ROOT,
    environment,
    interpolate,
)
from tests.compose.composefile import svc as _svc

REQUIRED_SERVICES = ("postgres", "redis", *AIRFLOW_SERVICES)
# The only published port: the UI/API on loopback. {service: {(host_ip, host_port, target)}}
EXPECTED_PORTS = {"airflow-apiserver": {("127.0.0.1", "8080", "8080")}}


def _depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    return {name: {} for name in deps} if isinstance(deps, list) else {k: v or {} for k, v in deps.items()}


def _volume_source(volume: str | dict[str, Any]) -> tuple[str, str | None]:
    """(type, source) of a service volume in short or long syntax."""
    if isinstance(volume, dict):
        return volume.get("type", "volume"), volume.get("source")
    parts = interpolate(volume).split(":")
    if len(parts) == 1:
        return "volume", None  # anonymous volume
    source = parts[0]
    return ("bind" if source.startswith((".", "/", "~")) else "volume"), source


def reference_problems(compose: dict[str, Any], root: Path) -> list[str]:
    """What `docker compose up` would trip over that the Compose schema does not catch."""
    problems: list[str] = []
    services: dict[str, Any] = compose.get("services") or {}
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for dep, spec in _depends_on(service).items():
            if dep not in services:
                problems.append(f"{name}: depends_on names undefined service {dep!r}")
                continue
            condition = spec.get("condition")
            if condition == "service_healthy" and "healthcheck" not in services[dep]:
                problems.append(f"{name}: waits for {dep!r} to be healthy but it has no healthcheck")
            if condition == "service_completed_successfully" and services[dep].get("restart") in (
                "always",
                "unless-stopped",
            ):
                problems.append(f"{name}: waits for {dep!r} to complete but it restarts forever")
        for volume in service.get("volumes") or []:
            kind, source = _volume_source(volume)
            if kind == "volume" and source and source not in declared_volumes:
                problems.append(f"{name}: named volume {source!r} is not declared under top-level volumes")
            if kind == "bind" and source and not (root / source).exists():
                problems.append(f"{name}: bind mount source {source!r} does not exist")
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (root / interpolate(context) / dockerfile).is_file():
                problems.append(f"{name}: build context {context!r} has no {dockerfile}")
    return problems


def port_problems(compose: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, service in (compose.get("services") or {}).items():
        published: set[tuple[str, str, str]] = set()
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                published.add(
                    (
                        port.get("host_ip", "0.0.0.0"),
                        str(port.get("published", "")),
                        str(port["target"]),
                    )
                )
                continue
            parts = interpolate(str(port)).split("/")[0].split(":")
            host_ip = parts[0] if len(parts) == 3 else "0.0.0.0"
            host_port = parts[-2] if len(parts) >= 2 else ""
            published.add((host_ip, host_port, parts[-1]))
        expected = EXPECTED_PORTS.get(name, set())
        if published != expected:
            problems.append(f"{name}: publishes {sorted(published)}, expected {sorted(expected)}")
    return problems


# --- the Compose spec -----------------------------------------------------------------------

BROKEN_SPEC = {
    "unknown-service-key": "services:\n  web:\n    image: nginx\n    imagee: nginx\n",
    "ports-not-a-list": "services:\n  web:\n    image: nginx\n    ports: {http: 80}\n",
    "unknown-top-level-key": "servics:\n  web:\n    image: nginx\n",
}


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_file_matches_compose_spec() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("text", BROKEN_SPEC.values(), ids=BROKEN_SPEC.keys())
def test_compose_spec_check_rejects_broken_file(text: str, tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_text(text, encoding="utf-8")
    assert _check_jsonschema(path).returncode != 0


# --- references -----------------------------------------------------------------------------


def test_compose_references_resolve(compose: dict[str, Any]) -> None:
    assert reference_problems(compose, ROOT) == []


BROKEN_REFERENCES = {
    "depends-on-undefined-service": (
        {"services": {"a": _svc(depends_on=["nope"])}},
        "undefined service 'nope'",
    ),
    "depends-on-mapping-undefined": (
        {"services": {"a": _svc(depends_on={"nope": {"condition": "service_started"}})}},
        "undefined service 'nope'",
    ),
    "healthy-without-healthcheck": (
        {"services": {"a": _svc(depends_on={"b": {"condition": "service_healthy"}}), "b": _svc()}},
        "has no healthcheck",
    ),
    "completed-but-restarts": (
        {
            "services": {
                "a": _svc(depends_on={"b": {"condition": "service_completed_successfully"}}),
                "b": _svc(restart="always"),
            }
        },
        "restarts forever",
    ),
    "undeclared-named-volume": (
        {"services": {"a": _svc(volumes=["data:/data"])}},
        "named volume 'data'",
    ),
    "undeclared-long-syntax-volume": (
        {"services": {"a": _svc(volumes=[{"type": "volume", "source": "data", "target": "/data"}])}},
        "named volume 'data'",
    ),
    "missing-bind-source": (
        {"services": {"a": _svc(volumes=["./no-such-dir:/x:ro"])}},
        "bind mount source './no-such-dir'",
    ),
    "missing-bind-source-interpolated": (
        {"services": {"a": _svc(volumes=["${PROJ:-.}/no-such-dir:/x"])}},
        "bind mount source './no-such-dir'",
    ),
    "build-context-without-dockerfile": (
        {"services": {"a": {"build": "./docker"}}},
        "has no Dockerfile",
    ),
}


@pytest.mark.parametrize("compose_dict, expected", BROKEN_REFERENCES.values(), ids=BROKEN_REFERENCES.keys())
def test_reference_checker_finds(compose_dict: dict[str, Any], expected: str) -> None:
    problems = reference_problems(compose_dict, ROOT)
    assert any(expected in p for p in problems), problems


def test_required_services_exist(compose: dict[str, Any]) -> None:
    missing = set(REQUIRED_SERVICES) - set(compose["services"])
    assert not missing


def test_airflow_services_share_the_built_image(compose: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service.get("image") == "goalwatch-airflow:latest", name
        assert service.get("build") == ".", name


def test_airflow_wiring(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        # Executor, auth manager and the rest of SHARED: test_agreement.
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
        assert env["GOALWATCH_CONFIG"] == "/opt/airflow/config/goals.yml", name
        assert env["GOALWATCH_HOME"] == "/opt/airflow/goalwatch", name
        # Each URL must name the service that really answers it.
        hosts = {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": ("postgres", "/airflow"),
            "AIRFLOW__CELERY__RESULT_BACKEND": ("postgres", "/airflow"),
            "AIRFLOW__CELERY__BROKER_URL": ("redis", "/0"),
            "GOALWATCH_STORE_URL": ("postgres", "/goalwatch"),
        }
        for key, (host, path) in hosts.items():
            url = interpolate(env[key])
            assert re.search(rf"(^|@){host}(:\d+)?{re.escape(path)}$", url.split("//", 1)[1]), (
                name,
                key,
                url,
            )
            assert host in services


def test_goalwatch_database_is_created_for_the_store_url(compose: dict[str, Any]) -> None:
    store_url = interpolate(environment(compose["x-airflow-common"])["GOALWATCH_STORE_URL"])
    user, database = re.match(r"postgresql\+psycopg2?://([^:]+):[^@]*@[^/]+/(\w+)$", store_url).groups()
    sql = POSTGRES_INIT.read_text(encoding="utf-8")
    assert re.search(rf"CREATE ROLE {user} LOGIN PASSWORD :'\w+'", sql)
    assert re.search(rf"CREATE DATABASE {database} OWNER {user}", sql)
    postgres = compose["services"]["postgres"]
    assert any(
        str(v).startswith("./docker/postgres-init.sql:/docker-entrypoint-initdb.d/") for v in postgres["volumes"]
    )
    assert "GOALWATCH_DB_PASSWORD" in environment(postgres)


def test_backing_services_have_healthchecks(compose: dict[str, Any]) -> None:
    assert str(compose["services"]["postgres"]["image"]).startswith("postgres:16")
    assert str(compose["services"]["redis"]["image"]).startswith("redis:7.2")
    for name in ("postgres", "redis"):
        assert compose["services"][name]["healthcheck"]["test"], name


# --- ports -------------------------------------------------------------------------------


def test_ports_published_only_where_expected(compose: dict[str, Any]) -> None:
    assert port_problems(compose) == []


BROKEN_PORTS = {
    "postgres-published": {
        "services": {
            "airflow-apiserver": _svc(ports=["127.0.0.1:8080:8080"]),
            "postgres": _svc(ports=["5432:5432"]),
        }
    },
    "apiserver-on-all-interfaces": {"services": {"airflow-apiserver": _svc(ports=["8080:8080"])}},
    "apiserver-long-syntax-all-interfaces": {
        "services": {"airflow-apiserver": _svc(ports=[{"target": 8080, "published": "8080"}])},
    },
    "apiserver-not-published": {"services": {"airflow-apiserver": _svc()}},
}


@pytest.mark.parametrize("compose_dict", BROKEN_PORTS.values(), ids=BROKEN_PORTS.keys())
def test_port_checker_finds(compose_dict: dict[str, Any]) -> None:
    assert port_problems(compose_dict)


# --- the Dockerfile -------------------------------------------------------------------------


def dockerfile_problems(text: str, context: Path) -> list[str]:
    problems: list[str] = []
    lines = re.sub(r"\\\n", " ", text).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not instructions or instructions[0].split()[:2] != ["FROM", "python:3.11-slim-bookworm"]:
        problems.append("first instruction is not FROM python:3.11-slim-bookworm")
    for line in instructions:
        if line.startswith(("COPY", "ADD")) and "--from=" not in line:
            sources = [part for part in line.split()[1:-1] if not part.startswith("--")]
            problems.extend(f"{line!r}: {s} is not in the build context" for s in sources if not (context / s).exists())
    if not any("--require-hashes" in line and "requirements.lock" in line for line in instructions):
        problems.append("the lock is not installed with --require-hashes")
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image runs as root")
    return problems


def test_dockerfile(compose: dict[str, Any]) -> None:
    assert dockerfile_problems(DOCKERFILE.read_text(encoding="utf-8"), ROOT) == []


GOOD_FROM = "FROM python:3.11-slim-bookworm\n"
HASHED = "RUN pip install --require-hashes -r requirements.lock\n"
BROKEN_DOCKERFILES = {
    "wrong-base": ("FROM python:3.12\n" + HASHED + "USER 50000\n", "FROM"),
    "missing-copy-source": (GOOD_FROM + "COPY nope ./nope\n" + HASHED + "USER 1\n", "nope"),
    "no-hashes": (GOOD_FROM + "RUN pip install -r requirements.lock\nUSER 1\n", "--require-hashes"),
    "root-user": (GOOD_FROM + HASHED + "USER 50000\nUSER root\n", "root"),
    "no-user": (GOOD_FROM + HASHED, "root"),
}


@pytest.mark.parametrize("text, expected", BROKEN_DOCKERFILES.values(), ids=BROKEN_DOCKERFILES.keys())
def test_dockerfile_checker_finds(text: str, expected: str) -> None:
    assert any(expected in p for p in dockerfile_problems(text, ROOT))
