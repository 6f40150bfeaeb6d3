"""Airflow's services as plain local processes: scheduler, dag-processor and api-server on 127.0.0.1.

Used by ``goalwatch demo run`` (``make demo``), ``goalwatch demo up`` (``make up``), the end-to-end
tests and the latency benchmark, so that all of them drive the real scheduler the same way.
It needs an initialised AIRFLOW_HOME (``airflow db migrate``); every process it starts it stops.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import httpx

__all__ = ["AirflowStack", "free_port", "stack_env"]

SERVICES = ("scheduler", "dag-processor", "api-server")
# Ctrl-C, kill (and service managers, docker stop), a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(base: dict[str, str], *, port: int) -> dict[str, str]:
    """The settings every service of the stack shares (on top of ``base``)."""
    env = dict(base)
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "4")
    env.setdefault("AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG", "4")
    env.setdefault("AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "5")
    env.setdefault("AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES", "1")
    env.setdefault("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC", "1")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    # A DAG file that meets a bad goals.yml shows the config's one-paragraph error, not a traceback.
    env.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS", "False")
    # LocalExecutor's workers come from a forkserver that imported GX, pandas and the pipeline
    # once: a task starts with them in memory instead of importing them (about 2 s each).
    env.setdefault("AIRFLOW__SCHEDULER__MP_START_METHOD", "forkserver")
    env.setdefault("AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD", "goalwatch.runtime.preload")
    # Tasks report back to the api-server; every service must sign and check the same tokens.
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(32))
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{port}/execution/"
    env["AIRFLOW__API__BASE_URL"] = f"http://127.0.0.1:{port}"
    return env


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing is left in that session
        os.killpg(pgid, signum)


class _Interrupts:
    """While active, the first of ``signums`` raises KeyboardInterrupt and any later one is ignored.

    The services run in sessions of their own, so a SIGTERM or SIGHUP sent to this process reaches
    none of them: unhandled, it would kill this process and leave them running. Raising the
    KeyboardInterrupt that Ctrl-C raises sends all of them down one path, to ``AirflowStack.stop()``.
    Only the first interrupts: a second Ctrl-C or SIGTERM while ``stop()`` waits for the services
    would break it off halfway (before its SIGKILLs) and leave them behind. Signals ignored on entry
    stay ignored (``nohup`` ignores SIGHUP), and the previous handlers come back on exit.
    """

    def __init__(self, signums: tuple[int, ...] = STOP_SIGNALS) -> None:
        self.signums = signums
        self.armed = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        for signum in self.signums:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self._interrupt)
        self.armed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.armed = False
        for signum, handler in self._previous.items():
            # None: a handler installed outside Python; the default is the closest we can restore.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._previous.clear()

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt(signal.Signals(signum).name)


@dataclass
class AirflowStack:
    env: dict[str, str]
    port: int
    log_dir: Path
    services: tuple[str, ...] = SERVICES
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # (user, password) for a real auth manager; None: the simple auth manager's all-admins mode.
    credentials: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, *, port: int | None = None, extra: dict[str, str] | None = None) -> AirflowStack:
        port = port or free_port()
        env = stack_env({**os.environ, **(extra or {})}, port=port)
        home = Path(env.get("AIRFLOW_HOME", "~/airflow")).expanduser()
        return cls(env=env, port=port, log_dir=home / "stack-logs")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def airflow() -> str:
        return shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"

    def start(self) -> AirflowStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in self.services:
            self.launch(name)
        self._wait_for_api(timeout=90)
        return self

    def launch(self, name: str) -> None:
        """Start one service (again: its log goes on where it stopped)."""
        commands = {
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "triggerer": ["triggerer", "--skip-serve-logs"],
            "celery-worker": ["celery", "worker", "--skip-serve-logs", "--without-mingle", "--without-gossip"],
        }
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            [self.airflow(), *commands[name]],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self, name: str) -> None:
        """Kill one service and everything it started, at once (SIGKILL): a crash, not a shutdown."""
        proc = self.processes.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        # Each service's whole session, even one whose leader already exited: its children
        # (task processes, a worker's pool) may still run.
        for proc in self.processes.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _signal_group(proc.pid, signal.SIGKILL)
        self.processes.clear()

    def __enter__(self) -> AirflowStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def serve(self, *, ready: Callable[[], object] = lambda: None, say: Callable[[str], object] = print) -> None:
        """Start the services and keep them up until Ctrl-C, SIGTERM or SIGHUP; then stop them all.

        For ``goalwatch demo up``, which is stopped by ``kill`` and service managers as often as by
        Ctrl-C: every one of these signals ends it the same way, with "stopping Airflow" and
        ``stop()``, even while it is still starting (see ``_Interrupts``). ``ready`` runs once the
        api-server answers (to wait for the DAGs and say where the UI is). A service that dies, or
        a ``ready`` that fails, stops the others and raises. Call it from the main thread.
        """
        interrupts = _Interrupts()
        with interrupts:
            try:
                self.start()
                ready()
                while True:
                    self.check_alive()
                    time.sleep(2)
            except KeyboardInterrupt:
                say("stopping Airflow")
            finally:
                # First, and with no call before it: a signal from here on cannot break off stop().
                interrupts.armed = False
                self.stop()

    # -- the REST API ---------------------------------------------------------------------------

    def token(self) -> str:
        """A JWT for the REST API: the admin's, or any caller's under the simple auth manager."""
        if self.credentials is None:
            answer = httpx.get(f"{self.url}/auth/token", timeout=10)
        else:
            user, password = self.credentials
            answer = httpx.post(f"{self.url}/auth/token", json={"username": user, "password": password}, timeout=10)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def client(self) -> httpx.Client:
        token = self.token()
        return httpx.Client(base_url=f"{self.url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def _wait_for_api(self, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the api-server did not answer on {self.url} within {timeout:.0f} s; see {self.log_dir}")

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with code {proc.returncode}; see {self.log_dir / name}.log")

    def wait_for_dags(self, dag_ids: list[str], *, timeout: float) -> None:
        """Wait until the dag-processor has serialized every DAG, then unpause them."""
        deadline = time.monotonic() + timeout
        with self.client() as api:
            for dag_id in dag_ids:
                while api.get(f"/dags/{dag_id}").status_code != 200:
                    self.check_alive()
                    if time.monotonic() > deadline:
                        errors = api.get("/importErrors").json()
                        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout:.0f} s: {errors}")
                    time.sleep(0.5)
                api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, *, logical_date: str | None, conf: dict[str, Any] | None = None) -> str:
        with self.client() as api:
            response = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": conf or {}})
            response.raise_for_status()
            return response.json()["dag_run_id"]

    def wait_for_run(
        self, dag_id: str, *, run_id: str | None = None, after: set[str] | None = None, timeout: float
    ) -> dict[str, Any]:
        """Wait for run ``run_id`` (or the first run not in ``after``) to finish; fail unless it succeeded."""
        deadline = time.monotonic() + timeout
        with self.client() as api:
            while time.monotonic() < deadline:
                self.check_alive()
                runs = api.get(f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after"}).json()["dag_runs"]
                for run in runs:
                    if (run_id and run["dag_run_id"] != run_id) or (after is not None and run["dag_run_id"] in after):
                        continue
                    if run["state"] == "success":
                        return run
                    if run["state"] == "failed":
                        raise RuntimeError(f"{dag_id} run {run['dag_run_id']} failed; see {self.log_dir}")
                time.sleep(0.5)
        raise TimeoutError(f"no finished {dag_id} run within {timeout:.0f} s; see {self.log_dir}")

    def run_ids(self, dag_id: str) -> set[str]:
        with self.client() as api:
            return {r["dag_run_id"] for r in api.get(f"/dags/{dag_id}/dagRuns").json()["dag_runs"]}

    def run_pipeline(self, *, logical_date: str, timeout: float) -> dict[str, str]:
        """Trigger ingest at ``logical_date``; wait for it and for the evaluate run its assets start."""
        before = self.run_ids("goalwatch_evaluate")
        ingest = self.trigger("goalwatch_ingest", logical_date=logical_date)
        self.wait_for_run("goalwatch_ingest", run_id=ingest, timeout=timeout)
        evaluate = self.wait_for_run("goalwatch_evaluate", after=before, timeout=timeout)
        return {"ingest": ingest, "evaluate": evaluate["dag_run_id"]}
