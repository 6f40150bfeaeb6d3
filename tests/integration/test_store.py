"""The goalwatch store on SQLite: a store made by an older version keeps working."""

from __future__ import annotations

from datetime import date


def test_a_store_made_by_an_older_version_gains_the_new_columns(tmp_path):
    import sqlite3

    import pandas as pd

    from goalwatch.data.store import Store

    path = tmp_path / "store.db"
    with sqlite3.connect(path) as db:  # the tables as the first version made them
        db.executescript(
            "CREATE TABLE metric_values (id INTEGER PRIMARY KEY, metric VARCHAR(64) NOT NULL, day DATE,"
            " segment TEXT NOT NULL, value FLOAT);"
            "CREATE TABLE ingests (metric VARCHAR(64) PRIMARY KEY, as_of DATE NOT NULL, rows INTEGER NOT NULL,"
            " run_id VARCHAR(250));"
        )
    frame = pd.DataFrame({"day": [date(2026, 11, 1)], "value": [3.0]})
    for _ in range(2):  # the second store finds the columns already there
        store = Store(url=f"sqlite:///{path}")
        assert store.replace_metric("users", frame, as_of=date(2026, 11, 1), run_id="r") == 1
    assert store.metric_frame("users", ()).values.tolist() == [[date(2026, 11, 1), 3.0]]
