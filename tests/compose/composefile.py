"""Reading docker-compose.yml and .env.example the way Compose does, for the tests beside this module.

Only what the checks need: ``${VAR}`` interpolation, a service's environment
in either syntax, every variable the file reads, and the names a ``.env`` file sets. No Docker,
no Airflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
POSTGRES_INIT = ROOT / "docker" / "postgres-init.sql"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
)

VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")
# Compose also reads $VAR without braces; $$ is a literal dollar for the container's shell.
BARE_VARIABLE = re.compile(r"\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
ENV_LINE = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Resolve ``${VAR}`` and its ``:-``, ``-``, ``:+``, ``+``, ``:?``, ``?`` forms like Compose (no nesting)."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if op in (":-", "-"):
            return (env.get(name) or arg) if op == ":-" else env.get(name, arg)
        if op in (":+", "+"):
            return arg if (env.get(name) if op == ":+" else name in env) else ""
        return env.get(name, "")

    return VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def blocks(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``x-`` extension blocks and the services: everything that may carry an environment."""
    found = {k: v for k, v in compose.items() if k.startswith("x-") and isinstance(v, dict)}
    found.update(compose.get("services") or {})
    return found


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{where}[{i}]")


def variables_used(compose: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    """(where, name, op, arg) of every variable Compose interpolates, in any value of the file."""
    found: list[tuple[str, str, str | None, str | None]] = []
    for where, text in _strings(compose, ""):
        text = text.replace("$$", "")
        for match in VARIABLE.finditer(text):
            found.append((where, match["name"], match["op"], match["arg"]))
        for match in BARE_VARIABLE.finditer(VARIABLE.sub("", text)):
            found.append((where, match["name"], None, None))
    return found


def env_file(text: str) -> dict[str, str]:
    """The names a ``.env`` file sets and their values (blank lines and ``#`` comments skipped)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and (match := ENV_LINE.match(line)):
            values[match["name"]] = match["value"].strip().strip("'\"")
    return values


def svc(**service: Any) -> dict[str, Any]:
    """A minimal service for the checkers' broken inputs."""
    return {"image": "x", **service}
