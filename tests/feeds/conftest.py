"""A real CalDAV server (Radicale) and a real Celery worker for the feeds tests.

- `radicale` (session): `python -m radicale` on a free port, no auth, a
  temporary storage folder; it starts in about a second, stops on SIGTERM.
  `radicale_with_login` (session) is another one that checks passwords.
- `caldav_proxy`: a TCP proxy in front of Radicale that can be taken down
  (connection refused) and brought back on the same port, or made slow, so
  a test can stop "the CalDAV server" in the middle of an export.
- `redis_broker` + `celery_worker`: the test process publishes to Redis
  database 5, under a key prefix of its own (flushed first), and a real
  `celery worker` subprocess (prefork, one child) consumes it against this
  test's database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import icalendar
import pytest
import redis
from caldav.davclient import DAVClient
from django.db import connection

from clinic.models import Surgeon
from core.throttle import TokenThrottle
from feeds import links
from feeds.models import SurgeonCalendar
from followup import services
from followup.models import Visit
from tests.conftest import require
from tests.factories import SurgeonFactory, make_procedure, surgeon_with_login
from tests.processes import (
    celery_worker_command,
    free_port,
    stop_group,
    wait_for_port,
    wait_until,
    worker_database_url,
)

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/5"
# The cache and throttle counts that web processes share (CACHE_URL).
SHARED_REDIS_URL = "redis://127.0.0.1:6379/3"


@dataclass
class SharedRedis:
    """Redis db 3 as the web processes' shared cache, under a key prefix of
    this test's own: runs sharing the database (xdist workers, engineers, CI)
    never count or drop each other's keys."""

    client: redis.Redis
    prefix: str

    def own_keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=f"{self.prefix}*"))


@pytest.fixture
def shared_redis(
    own_feed_cache: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SharedRedis]:
    """CACHE_URL on Redis db 3: feed bodies through Django's cache, and the
    feed throttle's counts, both under this test's prefix."""
    from feeds import views

    client = redis.Redis.from_url(SHARED_REDIS_URL)
    try:
        client.ping()
        reachable = True
    except redis.RedisError:
        reachable = False
    require(reachable, f"needs Redis at {SHARED_REDIS_URL}")
    shared = SharedRedis(client, prefix=f"clinic-test-{uuid.uuid4().hex[:8]}:")
    settings.CACHE_URL = SHARED_REDIS_URL
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": SHARED_REDIS_URL,
            "KEY_PREFIX": shared.prefix,
        }
    }
    monkeypatch.setattr(
        views,
        "throttle",
        TokenThrottle(f"{shared.prefix}feeds", settings_prefix="FEED"),
    )
    yield shared
    if keys := shared.own_keys():
        client.delete(*keys)


@dataclass
class Radicale:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def new_calendar(self, *, base_url: str | None = None) -> str:
        """Create an empty calendar collection; returns its URL."""
        base = base_url or self.url
        client = DAVClient(url=self.url, timeout=5)
        owner = uuid.uuid4().hex[:12]
        assert client.mkcol(f"{self.url}{owner}/", "").status == 201
        assert client.mkcalendar(f"{self.url}{owner}/clinic/").status == 201
        return f"{base}{owner}/clinic/"

    def events(self, calendar_url: str) -> list[Any]:
        """Every VEVENT stored in the calendar, read back over CalDAV."""
        client = DAVClient(url=self.url, timeout=5)
        local = calendar_url.replace(
            calendar_url.split("/")[2], f"127.0.0.1:{self.port}"
        )
        calendar = client.calendar(url=local)
        found: list[Any] = []
        for obj in calendar.events():
            parsed = icalendar.Calendar.from_ical(obj.data)
            found.extend(parsed.walk("VEVENT"))
        return found

    def events_by_uid(self, calendar_url: str) -> dict[str, list[Any]]:
        by_uid: dict[str, list[Any]] = {}
        for event in self.events(calendar_url):
            by_uid.setdefault(str(event["UID"]), []).append(event)
        return by_uid


@contextlib.contextmanager
def _run_radicale(storage: Path, *options: str) -> Iterator[Radicale]:
    port = free_port()
    log = (storage / "radicale.log").open("wb")
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"127.0.0.1:{port}",
                "--storage-filesystem-folder",
                str(storage / "collections"),
                "--logging-level",
                "warning",
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    except OSError as exc:
        log.close()
        require(False, f"cannot start Radicale: {exc}")
        raise
    try:
        if not wait_for_port(port, timeout=15):
            tail = (storage / "radicale.log").read_text(errors="replace")[-2000:]
            require(False, f"Radicale did not start on port {port}: {tail}")
        yield Radicale(port=port, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    with _run_radicale(
        tmp_path_factory.mktemp("radicale"), "--auth-type", "none"
    ) as server:
        yield server


# The one account of `radicale_with_login`; `ana/clinic/` is its calendar.
RADICALE_USER, RADICALE_PASSWORD = "ana", "radicale-pw-1"


@pytest.fixture(scope="session")
def radicale_with_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """A Radicale that wants a user name and password, and lets each user
    use only their own calendars: a wrong password gets 401, another
    user's calendar 403."""
    storage = tmp_path_factory.mktemp("radicale-login")
    users = storage / "users"
    users.write_text(f"{RADICALE_USER}:{RADICALE_PASSWORD}\nbruno:bruno-pw-1\n")
    with _run_radicale(
        storage,
        "--auth-type",
        "htpasswd",
        "--auth-htpasswd-filename",
        str(users),
        "--auth-htpasswd-encryption",
        "plain",
        "--rights-type",
        "owner_only",
    ) as server:
        client = DAVClient(
            url=server.url, username=RADICALE_USER, password=RADICALE_PASSWORD
        )
        assert client.mkcalendar(f"{server.url}{RADICALE_USER}/clinic/").status == 201
        yield server


class CalDAVProxy:
    """A TCP proxy to Radicale: `down()` refuses connections, `up()` serves
    again on the same port, `delay` holds each new connection that long
    before its first byte reaches Radicale (a slow server, which still
    applies a request its client gave up on), `silent` accepts connections
    and never answers nor forwards them (a server or network gone quiet)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.delay = 0.0
        self.silent = False
        self.connections = 0
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def up(self) -> None:
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def close(self) -> None:
        self._closed.set()
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        self._sockets.append(client)
        if self.silent:
            # Read and drop until the client gives up: nothing reaches Radicale.
            with contextlib.suppress(OSError):
                while client.recv(65536):
                    pass
            client.close()
            return
        if self.delay:
            time.sleep(self.delay)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        self._sockets.append(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(
                target=self._pipe, args=(source, sink), daemon=True
            ).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        # One direction ended: end the other too (close is idempotent).
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def caldav_proxy(radicale: Radicale) -> Iterator[CalDAVProxy]:
    proxy = CalDAVProxy(radicale.port)
    yield proxy
    proxy.close()


@pytest.fixture
def make_surgeon_calendar(
    radicale: Radicale,
) -> Callable[..., SurgeonCalendar]:
    """A SurgeonCalendar pointing at a new, empty Radicale calendar."""

    def make(
        surgeon: Surgeon, *, base_url: str | None = None, **fields: object
    ) -> SurgeonCalendar:
        return SurgeonCalendar.objects.create(
            surgeon=surgeon, url=radicale.new_calendar(base_url=base_url), **fields
        )

    return make


# --- Celery on Redis ---------------------------------------------------------


def redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"cannot reach Redis at {REDIS_URL}: {exc}"
    return None


@dataclass
class RedisBroker:
    """Redis db 5 under a key prefix of this test's own: test runs sharing the
    database (several engineers, CI) never take each other's tasks."""

    url: str
    prefix: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def queued(self, queue: str = "celery") -> int:
        return int(self.client().llen(f"{self.prefix}{queue}"))

    def flush(self) -> None:
        """Drop every key of ours, as a Redis restarted without its data."""
        client = self.client()
        keys = list(client.scan_iter(match=f"{self.prefix}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def redis_broker() -> Iterator[RedisBroker]:
    """This test process publishes its tasks to Redis db 5, flushed first."""
    from config.celery import app

    problem = redis_problem()
    require(problem is None, problem or "")
    broker = RedisBroker(url=REDIS_URL, prefix=f"clinic-test-{uuid.uuid4().hex[:8]}:")
    broker.flush()
    saved = {
        "broker_url": app.conf.broker_url,
        "broker_transport_options": app.conf.broker_transport_options,
    }

    def reset_pools() -> None:
        # Celery builds its connection and producer pools on first use and
        # keeps them: drop them so the next send connects to the new broker.
        app._pool = None  # type: ignore[attr-defined]
        app.amqp._producer_pool = None  # type: ignore[attr-defined]

    app.conf.update(
        broker_url=REDIS_URL,
        broker_transport_options={
            "visibility_timeout": 5,
            "global_keyprefix": broker.prefix,
        },
    )
    reset_pools()
    yield broker
    app.conf.update(saved)
    reset_pools()
    broker.flush()


@dataclass
class WorkerProcess:
    """One `celery worker` subprocess; `start()` again after `kill()`."""

    log_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self, *, timeout: float = 30) -> None:
        self.runs += 1
        log = self.log_dir / f"worker-{self.runs}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.process = self._spawn(out)
        ready = wait_until(
            lambda: " ready." in log.read_text(errors="replace"), timeout=timeout
        )
        assert ready, f"the worker did not start:\n{self.output()}"

    def _spawn(self, out: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            celery_worker_command(
                f"export-test-{uuid.uuid4().hex[:8]}@%h", "-Q", "celery"
            ),
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group: kill() takes the pool child down too.
            start_new_session=True,
        )

    def pool_children(self) -> list[int]:
        """Pids of the prefork pool's processes (children of the worker)."""
        assert self.process is not None
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # "pid (name) state ppid ...": the name may hold spaces.
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    children.append(int(stat.parent.name))
        return children

    def kill(self) -> None:
        """SIGKILL the worker and its pool child, as a crash or OOM would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process, timeout=15)
        self.process = None

    def output(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-4000:] for log in self.logs)


@pytest.fixture
def celery_worker(redis_broker: RedisBroker, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A real worker on Redis db 5 and this test's database (needs
    `django_db(transaction=True)`: it reads only what the test committed)."""
    require(
        connection.vendor == "postgresql",
        f"the worker test needs PostgreSQL; DATABASE_URL points at {connection.vendor}",
    )
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": redis_broker.url,
        "CELERY_REDIS_KEY_PREFIX": redis_broker.prefix,
        # A killed worker's task comes back after 5 s, not 5 min.
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
    }
    worker = WorkerProcess(log_dir=tmp_path, env=env)
    yield worker
    worker.stop()


# --- the front desk's moves, through the booking services -------------------

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
# Before every slot below; the services refuse a booking in the past.
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
SURGERY_DATE = dt.date(2026, 12, 1)  # postop control window: 8-16 December


@pytest.fixture
def issued() -> links.IssuedLink:
    """A surgeon's calendar link, with its one-time URL."""
    surgeon = surgeon_with_login()
    return links.create_link(scope="surgeon", surgeon_id=surgeon.pk)


@pytest.fixture
def ana() -> Surgeon:
    return SurgeonFactory.create(given_name="Ana", family_name="Alvarez")


@pytest.fixture
def bruno() -> Surgeon:
    return SurgeonFactory.create(given_name="Bruno", family_name="Blanco")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A December 2026 wall-clock time in Madrid."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=MADRID)


def postop_visit(surgeon: Surgeon) -> Visit:
    procedure = make_procedure(surgery_date=SURGERY_DATE, surgeon=surgeon)
    return Visit.objects.get(procedure=procedure, rule__code="postop_control")


def book(visit: Visit, start: dt.datetime, surgeon: Surgeon | None = None) -> Visit:
    return services.book_visit(
        visit_id=visit.pk,
        start=start,
        surgeon_id=(surgeon or visit.procedure.surgeon).pk,
        actor=None,
        now=NOW,
    )


def reschedule(
    visit: Visit, start: dt.datetime, surgeon: Surgeon | None = None
) -> Visit:
    return services.reschedule_visit(
        visit_id=visit.pk,
        start=start,
        surgeon_id=(surgeon or visit.surgeon or visit.procedure.surgeon).pk,
        actor=None,
        now=NOW,
    )


def cancel(visit: Visit) -> Visit:
    return services.cancel_visit(
        visit_id=visit.pk, reason="Patient moved away", actor=None, now=NOW
    )
