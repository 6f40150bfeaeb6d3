"""For the tests that run on a SQLite file and on the real Postgres (``tests/servers.py``): a fresh
store database per test, and a function run in processes that start together.

Imported by ``test_store_migrations`` and ``test_ledger_once``."""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.servers import postgres

# Assembled at run time, so no credential-shaped string is committed.
PASSWORD = "-".join(["canary", "store", "password", "51c2"])
KINDS = ["sqlite", "postgres"]


@contextmanager
def postgres_databases() -> Iterator[Callable[[], str]]:
    """A Postgres server; calling what it yields makes an empty database and gives its URL."""
    with postgres() as pg:
        pg.psql(f"CREATE ROLE gw LOGIN PASSWORD '{PASSWORD}'")

        def fresh() -> str:
            name = f"store_{uuid.uuid4().hex[:12]}"
            pg.psql(f"CREATE DATABASE {name} OWNER gw")
            return pg.url("gw", PASSWORD, name).replace("postgresql://", "postgresql+psycopg2://")

        yield fresh


def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store database of the kind the test is parametrized with (``sqlite`` or
    ``postgres``; the module's ``databases`` fixture starts the server when first needed)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("databases")()


def _run(target: Callable[..., Any], results: Any, barrier: Any, n: int, args: tuple[Any, ...]) -> None:
    try:
        results.put((n, True, target(barrier, n, *args)))
    except BaseException:
        results.put((n, False, traceback.format_exc()))
        raise


def race(target: Callable[..., Any], *args: Any, processes: int = 2, timeout: float = 180) -> list[Any]:
    """Run ``target(barrier, n, *args)`` in ``processes`` spawned processes (n = 0, 1, ...), which
    call ``barrier.wait()`` to start each step together; their results, in the order of n. A
    process that raised fails the test with its traceback."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes, timeout=timeout)
    results = context.Queue()
    workers = [context.Process(target=_run, args=(target, results, barrier, n, args)) for n in range(processes)]
    for worker in workers:
        worker.start()
    found = {}
    try:
        for _ in workers:
            n, ok, value = results.get(timeout=timeout)
            found[n] = (ok, value)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    failed = [value for ok, value in found.values() if not ok]
    if failed:
        pytest.fail("a racing process failed:\n" + "\n".join(failed))
    return [found[n][1] for n in range(processes)]
