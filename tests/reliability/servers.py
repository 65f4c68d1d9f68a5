"""The processes the fault and load tests run against, each started on a
free loopback port and stopped at the end, with every wait bounded:

- `Gunicorn`: `gunicorn -c config/gunicorn.py config.wsgi:application`
  with several sync workers, as production runs it.
- `ThrowawayPostgres`: a PostgreSQL 15 cluster of the test's own (initdb +
  pg_ctl as the `postgres` user, in a temporary folder, trust on
  loopback), so a test may restart it; the shared server on 5432 is never
  touched.
- `terminate_backends`: `pg_terminate_backend` on every other connection
  to one database (never another database's).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.conftest import require
from tests.feeds.conftest import (
    ROOT,
    free_port,
    stop_group,
    wait_for_port,
    wait_until,
)

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class Gunicorn:
    env: dict[str, str]
    log: Path
    workers: int | None = 3  # None: the production default (config/gunicorn.py)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30) -> None:
        env = {
            **self.env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        if self.workers is not None:
            env["GUNICORN_WORKERS"] = str(self.workers)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "config/gunicorn.py",
                    # No access log: writing a line per request would cost
                    # the load tests' 2 cores more than some requests do.
                    "--access-logfile",
                    "/dev/null",
                    "config.wsgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = wait_for_port(self.port, timeout=timeout)
        assert started, f"gunicorn did not start:\n{self.output()}"

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process, timeout=20)
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@contextlib.contextmanager
def run_gunicorn(
    env: dict[str, str], log: Path, *, workers: int | None = 3
) -> Iterator[Gunicorn]:
    server = Gunicorn(env=env, log=log, workers=workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def terminate_backends(database_url: str, *, spare: int | None = None) -> int:
    """Kill every session on this URL's database but ours and `spare` (the
    test process's own); returns how many."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND pid IS DISTINCT FROM %s",
            [spare],
        ).fetchall()
    return sum(1 for (done,) in rows if done)


@dataclass
class ThrowawayPostgres:
    """A cluster of the test's own; `restart()` it at will."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stderr}"

    def init(self) -> None:
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            # Loopback only, its own port and socket folder, no durability
            # cost (a throwaway), enough connections for gunicorn + a worker.
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.folder}'\n"
                "fsync = off\nfull_page_writes = off\nmax_connections = 60\n"
            )

    def pg_ctl(self, *args: str) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            *args,
        )

    def start(self) -> None:
        self.pg_ctl("start")
        assert wait_for_port(self.port, timeout=30), self.server_log()

    def restart(self) -> None:
        """A fast restart: every session is cut, as in a failover."""
        self.pg_ctl("restart", "-m", "fast")
        assert wait_until(self.accepts_connections, timeout=30), self.server_log()

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.pg_ctl("stop", "-m", "immediate")

    def accepts_connections(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def server_log(self) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """initdb, start; at the end stop and remove. Missing PostgreSQL 15
    binaries skip, or fail under CI=true."""
    require(
        (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None,
        f"needs PostgreSQL 15's initdb and pg_ctl in {PG_BIN}, and runuser",
    )
    folder = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
    shutil.chown(folder, user="postgres", group="postgres")
    cluster = ThrowawayPostgres(folder=folder)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def copy_database(source_url: str, cluster: ThrowawayPostgres, name: str) -> str:
    """A copy of the source database (schema and rows) in the cluster."""
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = cluster.url(name)
    dump = subprocess.run(
        [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", source_url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    restore = subprocess.run(
        [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", target],
        input=dump.stdout,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr.decode(errors="replace")[-3000:]
    return target


def backend_pids(database_url: str) -> list[int]:
    """PostgreSQL's server processes of this database's sessions now."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]
