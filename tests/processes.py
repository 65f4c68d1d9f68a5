"""Helpers for the processes tests and benchmarks start (Radicale, gunicorn,
Celery workers): a free port, waiting for one to answer or for a condition,
a Celery worker's command line, the database URL to hand it, and stopping
it with its children. Shared by tests/ and bench/."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from django.db import connection


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float) -> bool:
    """Whether something answers on 127.0.0.1:`port` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.2),
        ):
            return True
        time.sleep(0.05)
    return False


def wait_until(
    check: Callable[[], bool], *, timeout: float, every: float = 0.2
) -> bool:
    """Poll `check` until it holds or the timeout passes; never sleeps forever."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


def celery_worker_command(name: str, *options: str) -> list[str]:
    """The command of one Celery worker of this project: prefork, one child,
    named `name`, no gossip or mingle (they slow its start), INFO lines."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=prefork",
        "--concurrency=1",
        *options,
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]


def worker_database_url() -> str:
    """The URL of the database this process is connected to (a test's
    test_*, a benchmark's throwaway one), for the processes it starts."""
    settings = connection.settings_dict
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


def stop_group(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM a process started in a session of its own, with its children
    (a worker's pool, gunicorn's workers); SIGKILL what is left after
    `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
