"""The ``goalwatch`` command. Thin: each command calls the same functions the DAGs call.

Its help text is the documentation: ``goalwatch --help`` and ``goalwatch COMMAND --help``.
Called by the ``goalwatch`` console script (``goalwatch.cli:app``), the Makefile and the tests;
it imports every other subpackage, and nothing imports it.
"""

from __future__ import annotations

from goalwatch.cli import demo, dev, evaluate, manage  # noqa: F401  (they register their commands)
from goalwatch.cli.app import app

__all__ = ["app"]
