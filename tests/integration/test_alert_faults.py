"""Randomized fault injection (``tests/faults.py``): 200 sequences of a month of evaluations whose
Slack calls meet every documented failure, passing and permanent, through the alert ledger and
the real slack_sdk client against the fake Slack Web API. After healing, every sequence holds one
message per goal and period, each transition once, nothing lost that Slack accepted, each refusal
said once in the default channel, and the channels that did not refuse delivered in full."""

from __future__ import annotations

import os

from tests.faults import Figures, run_sequence

SEQUENCES = int(os.environ.get("FAULT_SEQUENCES", "200"))


def test_randomized_faults_never_lose_or_repeat_an_alert(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALWATCH_SLACK_BACKOFF", "0.01")
    monkeypatch.setenv("GOALWATCH_SLACK_TIMEOUT", "1")
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", "{}")  # each sequence points it at its own fake
    figures = Figures()
    for seed in range(SEQUENCES):
        figures.add(run_sequence(seed, tmp_path / str(seed)))
    # The faults really happened, every mode of them, and some made twins that healing removed.
    modes = {"429", "500-stored", "500", "503", "drop", "late", "busy", "refused-content", "deleted", "not_in_channel"}
    assert {m for m in modes if figures.injected[m] == 0} == set(), figures.as_dict()
    assert figures.duplicates_after_healing == 0
    assert figures.refused_intents > 0 and figures.notices > 0
