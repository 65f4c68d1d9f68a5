"""Serve the patient's booking page (`/p/<token>/`) for 1,000 links through
gunicorn, side by side with a static file of the same size.

Run with DATABASE_URL pointing at PostgreSQL and Redis on 127.0.0.1:6379::

    PYTHONPATH=. .venv/bin/python bench/booking_link.py [--links N]

It never touches the developer's data: it creates and migrates a throwaway
database (`bench_booking_link_<pid>`) and drops it at the end. It registers
1,000 patients, each with a post-operative control whose window opens
tomorrow, among ten surgeons on the clinic's hours; books a third of them
through the booking service (so the others' free slots skip those); and
makes each visit's link with `booking_links.services.issue_link`.

Then it starts gunicorn as production does (`-c config/gunicorn.py`, its
default number of sync workers, access lines to a log file) on this
database, with the shared cache (and so the links' throttle) in Redis db 7.
Every request comes from 127.0.0.1, and the links' throttle would answer
429 after 60 an hour per link and 600 per address: the bench raises those
limits (`BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR`, `..._PER_IP_HOUR`) to a
billion in gunicorn's environment, so the throttle still runs (its Redis
round trip is part of every request) but never refuses. The static file
is the size of a booking page, served by the same gunicorn (WhiteNoise)
from a temporary `DJANGO_STATIC_ROOT`.

Clients (`CONCURRENCY` threads, a new connection per request, as gunicorn's
sync workers close each one) request every link's page in a shuffled
order, then the static file as many times, then as many unknown tokens, in
alternating rounds so that a noisy machine weighs on all alike. Every page
must be a 200 with the patient's name, every unknown token the 404 page.
The unknown token is the floor under the page: the same path through
gunicorn and Django, the throttle's round trips and the link's lookup, but
no slot, no audit row and a page of a few lines (the guess allowance is
raised like the others, so that it is never a 429).

It prints each target's latency percentiles, requests per second and the
server's CPU per request (gunicorn's workers and their PostgreSQL
backends), `unknown_token_vs_static=<ratio>` (the floor), and last
`booking_page_p99_ms=<x> booking_page_vs_static=<ratio>`, the ratio being
the static file's requests per second over the page's. Bars: p99 under
100 ms and a ratio under 3 (exit status 1 when missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The bookings made here tell the calendars' export tasks after commit:
# into memory, never to the developer's broker.
os.environ["CELERY_BROKER_URL"] = "memory://"

import django

django.setup()

from django.utils import timezone  # noqa: E402

from bench import _processes as processes  # noqa: E402
from booking_links.services import issue_link  # noqa: E402
from clinic.clock import local  # noqa: E402
from clinic.models import Patient, Procedure, Surgeon  # noqa: E402
from followup import services  # noqa: E402
from followup.models import FollowUpRule, Visit, VisitStatus  # noqa: E402
from tests.processes import (  # noqa: E402
    free_port,
    stop_group,
    wait_for_port,
    worker_database_url,
)

LINKS = 1_000
SURGEONS = 10
CONCURRENCY = 4
ROUNDS = 3
CACHE_URL = "redis://127.0.0.1:6379/7"
BARS = {"booking_page_p99_ms": 100.0, "booking_page_vs_static": 3.0}
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py"]


def make_links(count: int, now: dt.datetime) -> list[str]:
    """`count` visits to book from tomorrow, a third of them booked, each
    with its booking link; the links' paths."""
    surgeons = Surgeon.objects.bulk_create(
        Surgeon(given_name="Ana", family_name=f"Bench {n}") for n in range(SURGEONS)
    )
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"L{n:07d}",
            given_name="Lucia",
            family_name="Garcia",
            birth_date=dt.date(1970, 1, 1),
        )
        for n in range(count)
    )
    surgery = local(now).date() - dt.timedelta(days=6)
    procedures = Procedure.objects.bulk_create(
        Procedure(
            patient=patient,
            surgeon=surgeons[n % SURGEONS],
            kind="endoscopic",
            surgery_date=surgery,
        )
        for n, patient in enumerate(patients)
    )
    rule = FollowUpRule.objects.get(code="postop_control")
    opens = local(now).date() + dt.timedelta(days=1)
    visits = Visit.objects.bulk_create(
        Visit(
            procedure=procedure,
            patient_id=procedure.patient_id,
            rule=rule,
            occurrence=1,
            due_date=opens + dt.timedelta(days=3),
            window_start=opens,
            window_end=opens + dt.timedelta(days=8),
            duration_minutes=rule.duration_minutes,
            status=VisitStatus.TO_BOOK,
        )
        for procedure in procedures
    )
    for visit in visits[::3]:
        slot = services.free_slots(visit=visit, now=now, limit=1)[0]
        services.book_visit(
            visit_id=visit.pk,
            start=slot.start,
            surgeon_id=slot.surgeon_id,
            actor=None,
            now=now,
        )
    return [issue_link(visit_id=v.pk, actor=None, now=now).path for v in visits]


@dataclass
class Burst:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float = 0.0
    wrong: int = 0

    def add(self, other: Burst) -> None:
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.seconds += other.seconds
        self.server_cpu += other.server_cpu
        self.wrong += other.wrong

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def fetch(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def burst(port: int, paths: list[str], expect: bytes, server: list[int]) -> Burst:
    """Every path once, by `CONCURRENCY` threads taking the next in turn."""
    result, lock, queue = Burst(), threading.Lock(), list(reversed(paths))

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            started = time.perf_counter()
            status, body = fetch(port, path)
            took = time.perf_counter() - started
            with lock:
                result.latencies.append(took)
                result.statuses[status] += 1
                result.wrong += expect not in body

    cpu_before = processes.cpu_by_pid(server)
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.server_cpu = processes.cpu_used(cpu_before, server)
    return result


def gunicorn_env(static_root: Path) -> dict[str, str]:
    huge = str(10**9)
    return {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CACHE_URL": CACHE_URL,
        # One address asks for every link, thousands of times: the throttle
        # counts, but never refuses.
        "BOOKING_LINK_REQUESTS_PER_TOKEN_HOUR": huge,
        "BOOKING_LINK_REQUESTS_PER_IP_HOUR": huge,
        "BOOKING_LINK_GUESSES_PER_IP_HOUR": huge,
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }


def start_gunicorn(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**gunicorn_env(folder / "static"), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    server = processes.start(
        [*GUNICORN, "config.wsgi:application"],
        env=env,
        log=folder / "gunicorn.log",
    )
    if not wait_for_port(port, timeout=30):
        stop_group(server, timeout=20)
        raise RuntimeError((folder / "gunicorn.log").read_text()[-3000:])
    return server, port


def measure(paths: list[str], folder: Path) -> dict[str, Burst]:
    static = folder / "static"
    static.mkdir()
    server, port = start_gunicorn(folder)
    try:
        status, page = fetch(port, paths[0])
        assert status == 200, (status, page[:300])
        (static / "page-sized.html").write_bytes(b"x" * len(page))
        stop_group(server, timeout=20)
        server, port = start_gunicorn(folder)  # WhiteNoise reads its files once
        for warm in (paths[:50], ["/static/page-sized.html"] * 50):
            burst(port, warm, b"", [])
        # After the warm-up: every worker forked and holding its connection.
        workers = processes.children(server.pid)
        pids = [*workers, *processes.backend_pids()]
        print(f"page_bytes={len(page)} gunicorn_workers={len(workers)}")
        results = {"page": Burst(), "static": Burst(), "unknown": Burst()}
        rng = random.Random(7)
        unknown = [f"/p/{token_urlsafe(32)}/" for _ in paths]  # 43 characters
        for _ in range(ROUNDS):
            shuffled = rng.sample(paths, len(paths))
            server_pids = [*pids, *processes.backend_pids()]
            results["page"].add(burst(port, shuffled, b"Hello Lucia", server_pids))
            statics = ["/static/page-sized.html"] * len(paths)
            results["static"].add(burst(port, statics, b"xxx", server_pids))
            gone = burst(port, unknown, b"This link does not work", server_pids)
            results["unknown"].add(gone)
        return results
    finally:
        stop_group(server, timeout=20)


def run(count: int) -> dict[str, float]:
    logging.getLogger("followup").setLevel(logging.WARNING)  # a line a booking
    now = timezone.now()
    started = time.perf_counter()
    paths = make_links(count, now)
    print(
        f"links={len(paths)} setup_seconds={time.perf_counter() - started:.1f} "
        f"concurrency={CONCURRENCY} load_before={processes.load_average()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-booking-link-") as folder:
        results = measure(paths, Path(folder))
    for name, result in results.items():
        print(
            f"{name}: requests={len(result.latencies)} "
            f"statuses={dict(result.statuses)} wrong={result.wrong} "
            f"p50_ms={result.percentile_ms(0.5):.1f} "
            f"p99_ms={result.percentile_ms(0.99):.1f} "
            f"mean_ms={statistics.fmean(result.latencies) * 1000:.1f} "
            f"per_second={result.per_second:.0f} "
            f"server_cpu_ms={result.server_cpu / len(result.latencies) * 1000:.2f}"
        )
    print(f"load_after={processes.load_average()}")
    page, static, unknown = results["page"], results["static"], results["unknown"]
    assert set(page.statuses) == {200} and page.wrong == 0, page.statuses
    assert set(static.statuses) == {200}, static.statuses
    assert set(unknown.statuses) == {404} and unknown.wrong == 0, unknown.statuses
    print(f"unknown_token_vs_static={static.per_second / unknown.per_second:.2f}")
    return {
        "booking_page_p99_ms": page.percentile_ms(0.99),
        "booking_page_vs_static": static.per_second / page.per_second,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=LINKS)
    args = parser.parse_args()
    result = processes.run_with_redis(
        redis_url=CACHE_URL,
        keys="booking_links:*",
        db_prefix="bench_booking_link",
        run=lambda: run(args.links),
    )
    if result is None:
        return 1
    missed = [name for name, bar in BARS.items() if result[name] >= bar]
    return processes.verdict(
        f"booking_page_p99_ms={result['booking_page_p99_ms']:.1f} "
        f"booking_page_vs_static={result['booking_page_vs_static']:.2f}",
        missed,
    )


if __name__ == "__main__":
    sys.exit(main())
