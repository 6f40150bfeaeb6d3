"""PostgreSQL and Redis as private local servers, from Debian's packages, on 127.0.0.1 only:
for ``goalwatch dev stack`` (``make stack``) and the tests that need them.

Each runs in a private folder (data, socket, log) removed when it stops, on a free port unless
one is given. PostgreSQL's initdb refuses to run as root (sessions and CI run as root), so a
server started by root runs as ``nobody``. ``.ci/run`` installs the packages where missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goalwatch.dev.stack import free_port

__all__ = ["Postgres", "Redis", "postgres", "redis"]


@dataclass(frozen=True)
class Postgres:
    port: int
    superuser: str
    bindir: Path
    socket_dir: Path
    ctl: tuple[str, ...] = ()  # pg_ctl with its data folder, options and log, as the server's user

    def psql_stdin(self, sql: str, *, database: str = "postgres") -> None:
        """Run SQL given on standard input (for statements that hold a secret)."""
        proc = subprocess.run(
            [
                *(str(self.bindir / "psql"), "-v", "ON_ERROR_STOP=1", "-X", "-q", "-h", str(self.socket_dir)),
                *("-p", str(self.port), "-U", self.superuser, "-d", database),
            ],
            input=sql,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.replace(sql, "<statement>"))

    def restart(self) -> None:
        """Stop the server (fast: open connections are cut) and start it again on the same port."""
        subprocess.run(
            [*self.ctl, "-m", "fast", "-w", "-t", "60", "restart"], check=True, capture_output=True, timeout=120
        )

    def url(self, user: str, password: str, database: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser over the server's private socket."""
        proc = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-v",
                "ON_ERROR_STOP=1",
                "-X",
                "-q",
                "-A",
                "-t",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        return proc.stdout.strip()


def _bindir() -> Path:
    try:
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(found) / "initdb").exists():
            return Path(found)
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql package (.ci/run does)")
    return candidates[-1].parent


@contextmanager
def postgres(*, port: int | None = None) -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster (superuser ``postgres``, trusted on its private socket only)."""
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="goalwatch-pg-"))
    data, run = folder / "data", folder / "run"
    run.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        shutil.chown(run, "nobody")
        folder.chmod(0o700)
        as_user = ["runuser", "-u", "nobody", "--"]
    port = port or free_port()
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={run} -c fsync=off"
    ctl = (*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"))
    subprocess.run([*ctl, "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=120)
    server = Postgres(port=port, superuser="postgres", bindir=bindir, socket_dir=run, ctl=ctl)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.psql("SELECT 1")
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Redis:
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis as redis_client

        return redis_client.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def connection_json(self) -> str:
        """The Airflow connection (``redis_default``) that reaches this server."""
        return json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": self.port, "extra": {"db": 0}})

    def start(self) -> None:
        command = [_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(self.folder / "log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([*command, "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.client().ping():
                    return
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    tail = (self.folder / "log").read_text()[-500:]
                    raise RuntimeError(f"redis-server did not start: {tail}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("redis-server not found: install Debian's redis-server package (.ci/run does)")
    return found


@contextmanager
def redis(*, port: int | None = None) -> Iterator[Redis]:
    """A Redis server that keeps nothing on disk (no RDB, no AOF); ``stop()`` and ``start()``
    take it down and up again on the same port."""
    server = Redis(port=port or free_port(), folder=Path(tempfile.mkdtemp(prefix="goalwatch-redis-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
