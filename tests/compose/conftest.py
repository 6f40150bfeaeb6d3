from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.compose.composefile import COMPOSE, ENV_EXAMPLE


@pytest.fixture(scope="package")
def compose_text() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="package")
def compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="package")
def header(compose_text: str) -> str:
    """The comment block above ``---``: the file's documentation."""
    return compose_text.split("\n---", 1)[0]


@pytest.fixture(scope="package")
def env_example_text() -> str:
    return ENV_EXAMPLE.read_text(encoding="utf-8")
