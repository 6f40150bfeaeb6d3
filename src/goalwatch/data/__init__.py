"""Data in and kept: metric sources and the goalwatch store.

- ``sources``: a metric's rows from a CSV or Parquet file, or from SQL through the ``query`` its
  caller passes, normalised to ``day``, dimensions and ``value``;
- ``store``: the SQLAlchemy store (SQLite by default, Postgres in production) of metric values,
  and the engine the alert ledger shares.

Imports ``config`` and ``errors``; used by ``pipeline``, ``alerting``, ``runtime``, ``dev`` and
``cli``.
"""

__all__ = ["sources", "store"]  # its modules: import the one you need
