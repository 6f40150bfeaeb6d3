"""Great Expectations: the checks that decide whether data can be trusted and where a goal stands.

- ``suites``: running a GX suite on a frame; reading suites from ``expectations/``;
- ``quality``: a metric's data-quality suite generated from goals.yml (edits kept) and its run;
- ``days``: a metric's days (arrival, rows, totals against the weeks before) for the day checks;
- ``goals``: the goal checks on today's numbers, and the statuses they decide.

The only package that imports GX (inside functions: it costs seconds). Imports ``core``,
``config`` and ``errors``; used by ``pipeline`` and ``cli``.
"""

__all__ = ["days", "goals", "quality", "suites"]  # its modules: import the one you need
