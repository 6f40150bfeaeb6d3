"""For trying goalwatch out and testing it: the demo warehouse and Airflow as local processes.

- ``demo``: the deterministic demo warehouse (SQLite) whose Q4 misses its goals;
- ``stack``: Airflow's scheduler, dag-processor, triggerer and api-server as processes on
  127.0.0.1 (``goalwatch demo run`` / ``up``, the end-to-end tests, the latency benchmark).

Imports nothing of goalwatch's layers above ``config``; used by ``cli``, the tests and ``bench/``.
"""

__all__ = ["demo", "stack"]  # its modules: import the one you need
