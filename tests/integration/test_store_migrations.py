"""The store's schema comes from its migrations, on a SQLite file and on the real Postgres: a fresh
store ends at the newest revision, with the schema the code defines; a store made by the release
before revisions is adopted with every row (duplicate keys and numbers made unique); Airflow's
own version table is never touched; two tasks opening a fresh store at once both work."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.integration.stores import KINDS, postgres_databases, race, store_url


@pytest.fixture(scope="module")
def databases():
    with postgres_databases() as fresh:
        yield fresh


@pytest.fixture(params=KINDS)
def url(request, tmp_path):
    return store_url(request, tmp_path)


def differences(engine: sa.Engine) -> list[object]:
    """What the migrated schema lacks or has beyond the tables the code defines (Alembic's
    autogenerate comparison; the version tables aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import goalwatch.alerting.tables  # noqa: F401  (the ledger's tables join the store's metadata)
    from goalwatch.data.store import _meta

    def ours(name, kind, parent):
        return kind != "table" or name not in ("goalwatch_alembic_version", "alembic_version")

    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"include_name": ours}), _meta)


def test_a_fresh_store_reaches_the_newest_revision_and_leaves_airflows_version_alone(url):
    from goalwatch.data.migrations import current, head
    from goalwatch.data.store import Store

    airflow = sa.create_engine(url)
    with airflow.begin() as conn:  # Airflow's metadata database shares it
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('29ce7909c52b')"))

    store = Store(url=url)
    assert current(store.engine) == head() == "0004"
    assert differences(store.engine) == []
    with airflow.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == ["29ce7909c52b"]
        counters = dict(conn.execute(sa.text("SELECT name, value FROM alert_counters")).all())
    assert counters == {"intent_seq": 0, "plan": 0}
    assert current(Store(url=url).engine) == "0004"  # a second store finds nothing to do
    store.engine.dispose()
    airflow.dispose()


def released_tables(meta: sa.MetaData) -> dict[str, sa.Table]:
    """The tables as ``create_all`` made them before revisions, from a release old enough to lack
    ``metric_values.hours`` and ``ingests.columns``."""
    c = sa.Column
    tables = [
        sa.Table("metric_values", meta, c("id", sa.Integer, primary_key=True), c("metric", sa.String(64), nullable=False,
                 index=True), c("day", sa.Date), c("segment", sa.Text, nullable=False), c("value", sa.Float)),
        sa.Table("ingests", meta, c("metric", sa.String(64), primary_key=True), c("as_of", sa.Date, nullable=False),
                 c("rows", sa.Integer, nullable=False), c("run_id", sa.String(250))),
        sa.Table("alert_state", meta, c("goal", sa.String(64), primary_key=True), c("period_start", sa.Date,
                 primary_key=True), c("segment", sa.String(200), primary_key=True), c("status", sa.String(16),
                 nullable=False), c("severity", sa.String(16)), c("message_id", sa.Integer), c("last_notified", sa.Date),
                 c("silenced", sa.Boolean, nullable=False), c("as_of", sa.Date, nullable=False)),
        sa.Table("alert_transitions", meta, c("id", sa.Integer, primary_key=True), c("goal", sa.String(64),
                 nullable=False, index=True), c("period_start", sa.Date, nullable=False), c("segment", sa.String(200),
                 nullable=False), c("from_status", sa.String(32)), c("to_status", sa.String(32), nullable=False),
                 c("as_of", sa.Date, nullable=False), c("run_id", sa.String(250)), c("silenced", sa.Boolean,
                 nullable=False)),
        sa.Table("alert_messages", meta, c("id", sa.Integer, primary_key=True), c("channel", sa.String(128),
                 nullable=False), c("channel_id", sa.String(64)), c("ts", sa.String(64)), c("parent_id", sa.Integer),
                 c("key", sa.String(300), nullable=False)),
        sa.Table("alert_intents", meta, c("id", sa.String(32), primary_key=True), c("seq", sa.Integer, nullable=False,
                 index=True), c("kind", sa.String(16), nullable=False), c("message_id", sa.Integer, nullable=False),
                 c("payload", sa.Text, nullable=False), c("key", sa.String(300), nullable=False), c("as_of", sa.Date,
                 nullable=False), c("attempts", sa.Integer, nullable=False), c("state", sa.String(16), nullable=False)),
        sa.Table("alert_heartbeats", meta, c("name", sa.String(64), primary_key=True), c("moment",
                 sa.DateTime(timezone=True), nullable=False), c("run_id", sa.String(250))),
        sa.Table("alert_silences", meta, c("id", sa.Integer, primary_key=True), c("goal", sa.String(64), nullable=False),
                 c("segment", sa.String(200)), c("until", sa.Date, nullable=False), c("reason", sa.Text, nullable=False)),
    ]  # fmt: skip
    return {t.name: t for t in tables}


NOV_10, NOV_11 = date(2026, 11, 10), date(2026, 11, 11)
MESSAGES = [  # id, key: the released keys repeated across periods, and a race made a reply twice
    (1, "g.off_track"),
    (2, "g.transition.2026-11-11"),
    (3, "g.transition.2026-11-11"),
    (4, "g.off_track"),
]
INTENTS = [  # id, seq, message: two planners once both took seq 2
    ("a", 1, 1, "pending"),
    ("b", 2, 2, "sent"),
    ("c", 2, 3, "sent"),
    ("d", 3, 4, "pending"),
]


def make_released_store(url: str) -> None:
    engine = sa.create_engine(url)
    t = released_tables(sa.MetaData())
    for table in t.values():
        table.create(engine)
    with engine.begin() as conn:
        conn.execute(t["metric_values"].insert(), [
            {"metric": "users", "day": NOV_10, "segment": "{}", "value": 3.0},
            {"metric": "users", "day": NOV_11, "segment": "{}", "value": 4.0},
        ])  # fmt: skip
        conn.execute(t["ingests"].insert().values(metric="users", as_of=NOV_11, rows=2, run_id="r1"))
        conn.execute(t["alert_state"].insert().values(goal="g", period_start=date(2026, 11, 1), segment="",
                     status="off_track", severity="critical", message_id=1, silenced=False, as_of=NOV_11))  # fmt: skip
        conn.execute(t["alert_messages"].insert(), [{"id": i, "channel": "#growth", "key": k} for i, k in MESSAGES])
        conn.execute(t["alert_intents"].insert(), [
            {"id": i, "seq": seq, "kind": "post", "message_id": m, "payload": "{}", "key": "k", "as_of": NOV_11,
             "attempts": 0, "state": state}
            for i, seq, m, state in INTENTS
        ])  # fmt: skip
    engine.dispose()


def test_a_store_made_before_revisions_is_adopted_with_every_row(url):
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.data.migrations import current
    from goalwatch.data.store import Store

    make_released_store(url)
    store = Store(url=url)
    ledger = Ledger(store)

    assert current(store.engine) == "0004"
    assert differences(store.engine) == []  # the missing columns and tables were added
    assert store.metric_frame("users", ()).values.tolist() == [[NOV_10, 3.0], [NOV_11, 4.0]]
    assert store.versions(["users"]) == {"users": "r1:2"}
    (state,) = ledger.states([("g", date(2026, 11, 1), "")]).values()
    assert (state.status, state.severity, state.message_id) == ("off_track", "critical", 1)
    # The oldest message of each key keeps it; the others are renamed after their id.
    assert [ledger.message(i).key for i, _ in MESSAGES] == [
        "g.off_track",
        "g.transition.2026-11-11",
        "g.transition.2026-11-11~3",
        "g.off_track~4",
    ]
    # Numbered again in their order, ties by id: a 1, b 2, c 3, d 4; the counter goes on from 4.
    assert [(i.id, i.seq, i.state, i.first_attempt, i.error) for i in ledger.intents()] == [
        ("a", 1, "pending", None, None),
        ("b", 2, "sent", None, None),
        ("c", 3, "sent", None, None),
        ("d", 4, "pending", None, None),
    ]
    with store.engine.begin() as conn:
        new = ledger.add_intent(conn, kind="update", message_id=1, payload={}, key="g.update", as_of=NOV_11)
    assert [i.seq for i in ledger.intents() if i.id == new] == [5]
    store.engine.dispose()


def open_and_write(barrier, n: int, url: str) -> str | None:
    """Open the store the moment the other process does, then write to it."""
    import pandas as pd

    from goalwatch.data.migrations import current
    from goalwatch.data.store import Store

    barrier.wait()
    store = Store(url=url)
    frame = pd.DataFrame({"day": [NOV_10], "value": [float(n)]})
    store.replace_metric(f"metric_{n}", frame, as_of=NOV_10, run_id=f"run_{n}")
    revision = current(store.engine)
    store.engine.dispose()
    return revision


@pytest.mark.parametrize("made", ["fresh", "released"])
def test_two_tasks_opening_a_store_at_once_both_work(url, made):
    from goalwatch.data.store import Store

    if made == "released":
        make_released_store(url)
    assert race(open_and_write, url) == ["0004", "0004"]
    store = Store(url=url)
    assert store.versions(["metric_0", "metric_1"]) == {"metric_0": "run_0:1", "metric_1": "run_1:1"}
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM goalwatch_alembic_version")).scalars().all() == ["0004"]
    store.engine.dispose()
