"""The ``goalwatch`` command. Thin: each command calls the same functions the DAGs call.

Its help text is the documentation: ``goalwatch --help`` and ``goalwatch COMMAND --help``.
"""

from __future__ import annotations

from goalwatch.cli import demo, evaluate, manage  # noqa: F401  (they register their commands)
from goalwatch.cli.app import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover - console entry
    app()
