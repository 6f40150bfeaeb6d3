"""Secrets, auth and the Slack token in docker-compose.yml and .env.example (issue 12, item 6).

Every secret is required from .env (``${VAR:?...}``): no plaintext, no default. The auth manager is
FAB, and airflow-init creates the admin user from AIRFLOW_ADMIN_PASSWORD. The Slack token is an
Airflow connection, never an environment variable of the file. .env.example lists exactly the
variables the file reads, with empty secrets. Each checker also runs on a small broken input, so
a checker that stopped finding anything fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from goalwatch.dev.production import SECRETS
from tests.compose.composefile import blocks, env_file, environment, variables_used
from tests.compose.composefile import svc as _svc

SECRET_KEY = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|FERNET|CREDENTIAL|_KEY$", re.IGNORECASE)
NOT_SECRET_KEY = re.compile(r"_(FILE|PATH|DIR|CMD)$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@]*:(?P<password>[^@]*)@", re.IGNORECASE)
# Slack's token prefixes (bot, user, app-level, refresh) and an incoming webhook's URL.
SLACK_SECRET = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+|\bxapp-\d-|hooks\.slack\.com/services/[A-Za-z0-9]")
SLACK_ENV = re.compile(r"^AIRFLOW_CONN_SLACK|SLACK\w*(TOKEN|WEBHOOK|SECRET)", re.IGNORECASE)
UNAUTHENTICATED = ("/api/v2/version", "/api/v2/monitor/health")  # airflow/api_fastapi/core_api/routes/public


def _is_secret(name: str) -> bool:
    return bool(SECRET_KEY.search(name)) and not NOT_SECRET_KEY.search(name)


def secret_problems(compose: dict[str, Any]) -> list[str]:
    """A secret is a required variable, ``${VAR:?message}`` whose message points at .env.example."""
    problems: list[str] = []
    for block_name, block in blocks(compose).items():
        for key, value in environment(block).items():
            candidates = [value] if _is_secret(key) else []
            if match := URL_PASSWORD.match(value):
                candidates.append(match["password"])
            for candidate in candidates:
                # A variable's form is judged below, wherever it is used; $$ is a literal dollar.
                if candidate and "$" not in candidate.replace("$$", ""):
                    problems.append(f"{block_name}: {key} carries a plaintext secret")
    for where, name, op, arg in variables_used(compose):
        if not _is_secret(name):
            continue
        if op != ":?":
            problems.append(f"{where}: {name} is not required (${{{name}:?...}}): it may be unset or defaulted")
        elif ".env.example" not in (arg or ""):
            problems.append(f"{where}: the error for an unset {name} does not say to copy .env.example")
    return problems


def test_every_secret_is_required_from_env(compose: dict[str, Any]) -> None:
    assert secret_problems(compose) == []


REQUIRED = "${POSTGRES_PASSWORD:?copy .env.example to .env and set it}"
BROKEN_SECRETS = {
    "literal-password": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "hunter2"})}},
        "plaintext",
    ),
    "literal-in-list-syntax": (
        {"services": {"db": _svc(environment=["API_TOKEN=not-a-variable"])}},
        "plaintext",
    ),
    "password-in-url": (
        {"x-common": {"environment": {"DB_URL": "postgresql://u:hunter2@postgres/db"}}},
        "plaintext",
    ),
    "default": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:-airflow}"})}},
        "not required",
    ),
    "default-if-unset": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD-airflow}"})}},
        "not required",
    ),
    "default-in-url": (
        {"services": {"a": _svc(environment={"URL": "redis://:${REDIS_PASSWORD:-redis}@redis:6379/0"})}},
        "not required",
    ),
    "alternative": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:+hunter2}"})}},
        "not required",
    ),
    "optional": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}"})}},
        "not required",
    ),
    "bare-dollar": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "$POSTGRES_PASSWORD"})}},
        "not required",
    ),
    "empty-allowed": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD?set it}"})}},
        "not required",
    ),
    "defaulted-in-a-command": (
        {"services": {"a": _svc(command=["sh", "-c", "login --password ${ADMIN_PASSWORD:-admin}"])}},
        "not required",
    ),
    "message-without-the-fix": (
        {"services": {"db": _svc(environment={"POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:?missing}"})}},
        "does not say to copy .env.example",
    ),
}


@pytest.mark.parametrize("compose_dict, expected", BROKEN_SECRETS.values(), ids=BROKEN_SECRETS.keys())
def test_secret_checker_finds(compose_dict: dict[str, Any], expected: str) -> None:
    problems = secret_problems(compose_dict)
    assert any(expected in p for p in problems), problems


def test_secret_checker_accepts_required_variables_and_commands() -> None:
    ok = {
        "services": {
            "a": _svc(
                environment={
                    "AIRFLOW__API_AUTH__JWT_SECRET": "${JWT_SECRET:?copy .env.example to .env and set it}",
                    "AIRFLOW__CORE__FERNET_KEY_CMD": "cat /run/secrets/fernet_key",
                    "DB_URL": f"postgresql://u:{REQUIRED}@postgres/db",
                },
                # $$ is the container shell's variable, not Compose's.
                command=["sh", "-c", 'login --password "$${ADMIN_PASSWORD}"'],
            )
        }
    }
    assert secret_problems(ok) == []


# --- auth --------------------------------------------------------------------------------------


def auth_problems(compose: dict[str, Any]) -> list[str]:
    """No SimpleAuthManager (dev-only) and none of its settings, anywhere in the file."""
    problems: list[str] = []
    for block_name, block in blocks(compose).items():
        env = environment(block)
        if "SimpleAuthManager" in env.get("AIRFLOW__CORE__AUTH_MANAGER", ""):
            problems.append(f"{block_name}: the auth manager is SimpleAuthManager")
        problems.extend(f"{block_name}: sets {k}" for k in env if "SIMPLE_AUTH_MANAGER" in k)
    return problems


def test_auth_manager_is_not_the_simple_one(compose: dict[str, Any]) -> None:
    assert auth_problems(compose) == []


SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
BROKEN_AUTH = {
    "simple-auth-manager": ({"x-a": {"environment": {"AIRFLOW__CORE__AUTH_MANAGER": SIMPLE}}}, "SimpleAuthManager"),
    "simple-users": (
        {"services": {"a": _svc(environment=["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin"])}},
        "SIMPLE_AUTH_MANAGER_USERS",
    ),
}


@pytest.mark.parametrize("compose_dict, expected", BROKEN_AUTH.values(), ids=BROKEN_AUTH.keys())
def test_auth_checker_finds(compose_dict: dict[str, Any], expected: str) -> None:
    assert any(expected in p for p in auth_problems(compose_dict))


def test_init_migrates_then_creates_the_admin_once(compose: dict[str, Any]) -> None:
    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"])
    migrate, listed, create = (
        script.find(s) for s in ("airflow db migrate", "airflow users list", "airflow users create")
    )
    # FAB's tables come with the migration; the user is created only where the list lacks it.
    assert 0 <= migrate < listed < create, script
    assert re.search(r"users create --username admin --role Admin\b", script)
    assert '--password "$${AIRFLOW_ADMIN_PASSWORD}"' in script
    # Only the init container holds the admin's password.
    assert "AIRFLOW_ADMIN_PASSWORD" in environment(init)
    holders = [name for name, block in blocks(compose).items() if "AIRFLOW_ADMIN_PASSWORD" in environment(block)]
    assert holders == ["airflow-init"]


def test_apiserver_healthcheck_needs_no_login(compose: dict[str, Any]) -> None:
    test = " ".join(compose["services"]["airflow-apiserver"]["healthcheck"]["test"])
    path = re.search(r"http://localhost:8080(/[\w/]+)", test)
    assert path and path[1] in UNAUTHENTICATED, test


# --- the Slack token ---------------------------------------------------------------------------


def slack_problems(compose: dict[str, Any], text: str) -> list[str]:
    """No Slack connection or token in the environment, and nothing shaped like a token in the text."""
    problems = [
        f"{block_name}: {key} puts Slack's credentials in an environment variable"
        for block_name, block in blocks(compose).items()
        for key in environment(block)
        if SLACK_ENV.search(key)
    ]
    problems.extend(
        f"{where}: {name} would carry Slack's credentials"
        for where, name, _, _ in variables_used(compose)
        if SLACK_ENV.search(name)
    )
    # Only the first characters: the report must not repeat a real token.
    problems.extend(f"a Slack token or webhook URL in the text: {m[0][:6]}..." for m in SLACK_SECRET.finditer(text))
    return problems


def test_no_slack_token_in_compose(compose: dict[str, Any], compose_text: str) -> None:
    assert slack_problems(compose, compose_text) == []


def test_header_says_how_to_add_the_slack_connection(header: str) -> None:
    assert re.search(r"docker compose run --rm airflow-cli connections add slack_api_default", header)
    assert "secrets backend" in header


BROKEN_SLACK = {
    "connection-json": (
        {"x-a": {"environment": {"AIRFLOW_CONN_SLACK_API_DEFAULT": '{"conn_type": "slack"}'}}},
        "",
        "AIRFLOW_CONN_SLACK_API_DEFAULT",
    ),
    "token-variable": ({"services": {"a": _svc(environment=["SLACK_BOT_TOKEN=${T:?x}"])}}, "", "SLACK_BOT_TOKEN"),
    "token-interpolated-into-a-command": (
        {"services": {"a": _svc(command="notify --token ${SLACK_TOKEN:?copy .env.example}")}},
        "",
        "SLACK_TOKEN would carry",
    ),
    "bot-token-in-a-comment": ({}, "# token: xoxb-1234-5678-abcdef\n", "token or webhook"),
    "app-token": ({}, "command: run --token xapp-1-A0B1C2\n", "token or webhook"),
    "webhook-url": ({}, "URL: https://hooks.slack.com/services/T000/B000/XXXX\n", "token or webhook"),
}


@pytest.mark.parametrize("compose_dict, text, expected", BROKEN_SLACK.values(), ids=BROKEN_SLACK.keys())
def test_slack_checker_finds(compose_dict: dict[str, Any], text: str, expected: str) -> None:
    assert any(expected in p for p in slack_problems(compose_dict, text))


# --- .env.example ------------------------------------------------------------------------------


def env_example_problems(compose: dict[str, Any], example: str) -> list[str]:
    """.env.example lists exactly what the file reads; its secrets are empty, so nothing real is committed."""
    listed = env_file(example)
    used = {name for _, name, _, _ in variables_used(compose)}
    problems = [f"{name} is read by docker-compose.yml but not in .env.example" for name in sorted(used - set(listed))]
    problems.extend(
        f"{name} is in .env.example but docker-compose.yml never reads it" for name in sorted(set(listed) - used)
    )
    problems.extend(
        f".env.example gives {name} a value: leave secrets empty"
        for name, v in listed.items()
        if _is_secret(name) and v
    )
    problems.extend(f".env.example: {p}" for p in slack_problems({}, example))
    return problems


def test_env_example_matches_compose(compose: dict[str, Any], env_example_text: str) -> None:
    assert env_example_problems(compose, env_example_text) == []


def test_env_example_says_how_to_make_the_keys(env_example_text: str) -> None:
    assert "secrets.token_urlsafe" in env_example_text
    assert "urlsafe_b64encode(os.urandom(32))" in env_example_text  # a Fernet key


def test_every_production_secret_is_taken_from_env(compose: dict[str, Any], env_example_text: str) -> None:
    """The keys are taken from .env, not generated by airflow-init: each of SECRETS is listed and required."""
    listed = env_file(env_example_text)
    required = {name for _, name, op, _ in variables_used(compose) if op == ":?"}
    assert [name for name in SECRETS if name not in listed] == []
    assert [name for name in SECRETS if name not in required] == []


USES_A = {"services": {"a": _svc(environment={"A_PASSWORD": "${A_PASSWORD:?copy .env.example}", "B": "$B"})}}
BROKEN_ENV_EXAMPLES = {
    "missing": (USES_A, "A_PASSWORD=\n", "B is read by docker-compose.yml but not"),
    "unused": (USES_A, "A_PASSWORD=\nB=1\n# a comment\nC=2\n", "C is in .env.example but"),
    "commented-out-is-not-listed": (USES_A, "A_PASSWORD=\n# B=1\n", "B is read by"),
    "secret-with-a-value": (USES_A, "A_PASSWORD=change-me\nB=1\n", "gives A_PASSWORD a value"),
    "quoted-secret-with-a-value": (USES_A, "export A_PASSWORD='x'\nB=1\n", "gives A_PASSWORD a value"),
    "token-in-a-comment": (USES_A, "A_PASSWORD=\nB=1\n# e.g. xoxb-1234-abcd\n", "Slack token"),
}


@pytest.mark.parametrize(
    "compose_dict, example, expected", BROKEN_ENV_EXAMPLES.values(), ids=BROKEN_ENV_EXAMPLES.keys()
)
def test_env_example_checker_finds(compose_dict: dict[str, Any], example: str, expected: str) -> None:
    problems = env_example_problems(compose_dict, example)
    assert any(expected in p for p in problems), problems
