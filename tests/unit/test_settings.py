"""The GOALWATCH_* environment, read by one model: defaults, 'none' schedules, and a bad value
named in one line with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from goalwatch.config.settings import settings
from goalwatch.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    import os

    for key in [k for k in os.environ if k.startswith("GOALWATCH_")]:
        monkeypatch.delenv(key)


def test_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = settings()
    assert (env.ingest_schedule, env.digest_schedule, env.watchdog_schedule) == ("15 * * * *", "0 9 * * 1", "0 * * * *")
    assert (env.ingest_retries, env.ingest_timeout, env.slack_rate) == (2, 600, 1.0)
    assert (env.slack_conn_id, env.slack_webhook_conn_id) == ("slack_api_default", "slack_webhook_default")
    assert env.state_dir == tmp_path / ".goalwatch"
    assert env.store == f"sqlite:///{tmp_path / '.goalwatch' / 'store.db'}"
    assert env.outbox_dir == tmp_path / ".goalwatch" / "outbox"
    assert env.config is None


def test_the_environment_is_read_on_every_call(monkeypatch, tmp_path):
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "a"))
    assert settings().state_dir == tmp_path / "a"
    monkeypatch.setenv("GOALWATCH_HOME", str(tmp_path / "b"))
    monkeypatch.setenv("GOALWATCH_OUTBOX", str(tmp_path / "out"))
    monkeypatch.setenv("GOALWATCH_STORE_URL", "postgresql://goalwatch@db/goalwatch")
    assert (settings().state_dir, settings().outbox_dir, settings().store) == (
        tmp_path / "b",
        tmp_path / "out",
        "postgresql://goalwatch@db/goalwatch",
    )


@pytest.mark.parametrize("value", ["none", "None", " NONE "], ids=["lower", "title", "padded"])
def test_none_turns_a_schedule_off(monkeypatch, value):
    monkeypatch.setenv("GOALWATCH_INGEST_SCHEDULE", value)
    monkeypatch.setenv("GOALWATCH_DIGEST_SCHEDULE", "30 8 * * 1")
    assert (settings().ingest_schedule, settings().digest_schedule) == (None, "30 8 * * 1")


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("GOALWATCH_CONFIG", "")
    monkeypatch.setenv("GOALWATCH_INGEST_RETRIES", "")
    assert (settings().config, settings().ingest_retries) == (None, 2)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        pytest.param(
            "GOALWATCH_INGEST_RETRIES",
            "abc",
            "environment variable GOALWATCH_INGEST_RETRIES='abc': is not a whole number; fix or unset it",
            id="retries-not-a-number",
        ),
        pytest.param(
            "GOALWATCH_INGEST_RETRIES",
            "-1",
            "environment variable GOALWATCH_INGEST_RETRIES='-1': must be at least 0; fix or unset it",
            id="retries-negative",
        ),
        pytest.param(
            "GOALWATCH_INGEST_TIMEOUT",
            "0",
            "environment variable GOALWATCH_INGEST_TIMEOUT='0': must be greater than 0; fix or unset it",
            id="timeout-zero",
        ),
        pytest.param(
            "GOALWATCH_SLACK_RATE",
            "fast",
            "environment variable GOALWATCH_SLACK_RATE='fast': is not a number; fix or unset it",
            id="rate-not-a-number",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch, variable, value, problem):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        settings()
    assert caught.value.problems == [problem]


def test_every_bad_variable_is_named_at_once(monkeypatch):
    monkeypatch.setenv("GOALWATCH_INGEST_RETRIES", "two")
    monkeypatch.setenv("GOALWATCH_SLACK_TIMEOUT", "soon")
    with pytest.raises(ConfigError) as caught:
        settings()
    assert [p.split("=")[0] for p in caught.value.problems] == [
        "environment variable GOALWATCH_SLACK_TIMEOUT",
        "environment variable GOALWATCH_INGEST_RETRIES",
    ]


def test_the_config_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GOALWATCH_CONFIG", str(tmp_path / "goals.yml"))
    assert settings().config == Path(tmp_path / "goals.yml")
