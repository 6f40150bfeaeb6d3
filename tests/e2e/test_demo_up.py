"""``goalwatch demo up`` as a user runs it: a SIGTERM (kill, a service manager) stops every Airflow
process it started, just as Ctrl-C does; nothing is left running and the port is free again."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time

import psutil
import pytest

from goalwatch.dev.stack import free_port
from tests.conftest import bin_path

pytestmark = [pytest.mark.airflow, pytest.mark.e2e]


class Output:
    """The lines a subprocess prints, read on a thread so that waiting for one never blocks."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for(self, text: str, *, proc: subprocess.Popen[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                if proc.poll() is not None and not self._thread.is_alive():
                    pytest.fail(f"goalwatch demo up exited with {proc.returncode} before {text!r}:\n{self}")
                if time.monotonic() > deadline:
                    pytest.fail(f"goalwatch demo up did not print {text!r} within {timeout:.0f} s:\n{self}")
                self._changed.wait(timeout=1)

    def __str__(self) -> str:
        return "".join(self.lines)


def alive(process: psutil.Process) -> bool:
    """Still running: the same process (psutil checks the start time, so a reused PID does not count)
    and not a zombie waiting to be reaped."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def group_members(pgids: set[int]) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if os.getpgid(process.pid) in pgids and alive(process):
                members.append(process)
    return members


def process_groups(pid: int) -> set[int]:
    pgids = set()
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children():
            with contextlib.suppress(ProcessLookupError):
                pgids.add(os.getpgid(child.pid))
    return pgids


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def test_sigterm_stops_every_airflow_process_demo_up_started(airflow_env):
    port = free_port()
    demo = subprocess.Popen(
        [bin_path("goalwatch"), "demo", "up", "--port", str(port)],
        env={**airflow_env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # out of reach of signals meant for pytest
    )
    output = Output(demo)
    pgids: set[int] = set()
    try:
        output.wait_for("Airflow is up", proc=demo, timeout=360)  # slow when the machine is busy
        children = psutil.Process(demo.pid).children()
        # Each service runs in a session (and process group) of its own, with workers of its own.
        pgids = process_groups(demo.pid)
        descendants = [d for child in children for d in child.children(recursive=True)]
        assert len(children) == 4 and pgids == {child.pid for child in children}
        assert answers(port)

        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"goalwatch demo up was still running 60 s after SIGTERM:\n{output}")

        assert "stopping Airflow" in str(output), str(output)
        assert demo.returncode == 0, str(output)
        assert [p for p in children + descendants if alive(p)] == []
        assert group_members(pgids) == []
        assert not answers(port)
    finally:
        if demo.poll() is None:  # failed before the SIGTERM: find what it started before killing it
            pgids |= process_groups(demo.pid)
        for pgid in pgids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
