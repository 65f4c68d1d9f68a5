"""The processes a benchmark starts (Celery workers, gunicorn) and what they
cost: started in a session of their own (stopped with their children by
`tests.processes.stop_group`), CPU read from /proc. Files starting with
"_" are helpers: `make bench` does not run them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import redis
from django.db import connection

from bench._throwaway_db import run_in_throwaway_db

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def start(
    command: list[str], *, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """`command` in a session of its own (so `stop` reaches its children),
    its output to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (a worker's pool, gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (name) state ppid ...": the name may hold spaces.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User plus system CPU the processes have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """Each live process's user plus system CPU so far."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def cpu_used(before: dict[int, float], pids: Iterable[int]) -> float:
    """CPU the processes used since `before`, counting only those alive at
    both reads (a PostgreSQL backend may come and go)."""
    after = cpu_by_pid(pids)
    return sum(after[pid] - before[pid] for pid in after if pid in before)


def backend_pids() -> list[int]:
    """PostgreSQL's server processes of the other sessions on this database
    (the started processes' connections)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run_with_redis(
    *, redis_url: str, keys: str, db_prefix: str, run: Callable[[], T]
) -> T | None:
    """`run` in a throwaway database, once Redis at `redis_url` answers; the
    Redis keys matching `keys` deleted afterwards. None (said on stderr)
    when Redis does not answer."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"needs Redis at {redis_url}: {exc}", file=sys.stderr)
        return None
    try:
        return run_in_throwaway_db(db_prefix, run)
    finally:
        left = list(client.scan_iter(match=keys))
        if left:
            client.delete(*left)


def verdict(line: str, missed: list[str]) -> int:
    """Print a benchmark's line; its exit status, 1 when a bar was missed."""
    if missed:
        print(f"missed bars: {', '.join(missed)}", file=sys.stderr)
    print(line)
    return 1 if missed else 0
