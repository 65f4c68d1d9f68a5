"""Send 10,000 due reminders through two Celery workers and a Twilio stand-in.

Run with DATABASE_URL pointing at PostgreSQL and Redis on 127.0.0.1:6379::

    PYTHONPATH=. .venv/bin/python bench/messages.py [--messages N]

It never touches the developer's data: it creates and migrates a throwaway
database (`bench_messages_<pid>`) and drops it at the end, and its tasks go
to Redis db 6 under a key prefix of its own, deleted at the end.

It books 10,000 visits for the next day (each patient with a mobile number
of their own and SMS consent; rows written in bulk) and lets the outbox
(`messaging.outbox.write_due_messages`) write their reminders, all due now.
Then two `celery worker` processes (one process each, prefork, as
production runs them) start, on this database and Redis, with
`SMS_BACKEND=twilio` pointed at the loopback stand-in of Twilio's Messages
API (tests/messaging/stand_ins.py) that this process serves, and quiet hours
off (the bench runs at any hour). Once both answer a ping, two
`messaging.tasks.send_due_messages` tasks are sent at once, as when beat's
next run finds the last one still sending: each worker runs the sender, and
the two share the queue. The clock runs from the send until every message
is claimed and has the provider's id.

It prints the throughput, the duplicates (stand-in requests beyond one per
number, plus provider ids kept twice), and the cost per message: CPU of the
workers (pool children included), of their PostgreSQL backends and of this
process (the stand-in), PostgreSQL transactions per message, and SQL
statements per message (counted on 500 more reminders sent in this process
by the same code). Last: `messages_per_second=<x> duplicates=<n>`. Bars:
duplicates 0 and at least 100 messages a second (exit status 1 when missed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REDIS_URL = "redis://127.0.0.1:6379/6"
PREFIX = f"bench-messages-{os.getpid()}:"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# This process sends the tasks: to the workers' broker, under our prefix.
os.environ["CELERY_BROKER_URL"] = REDIS_URL
os.environ["CELERY_REDIS_KEY_PREFIX"] = PREFIX

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import _processes as processes  # noqa: E402
from clinic.models import Patient, Procedure, Reminders, Surgeon  # noqa: E402
from config.celery import app  # noqa: E402
from followup.models import FollowUpRule, Visit, VisitStatus  # noqa: E402
from messaging import outbox  # noqa: E402
from messaging.models import Message, Status  # noqa: E402
from messaging.services import send_due_messages  # noqa: E402
from tests.messaging import stand_ins  # noqa: E402
from tests.processes import (  # noqa: E402
    celery_worker_command,
    stop_group,
    wait_until,
    worker_database_url,
)

MESSAGES = 10_000
SAMPLE = 500
WORKERS = 2
SURGEONS = 200
BARS = {"messages_per_second": 100.0, "duplicates": 0}
SID = "AC" + "0" * 32
TWILIO = {
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": SID,
    "TWILIO_AUTH_TOKEN": "bench-token",
    "TWILIO_FROM": "+34911111111",
}


def book_visits(count: int, now: dt.datetime, first_number: int) -> list[int]:
    """`count` visits booked over the next day, each of a patient of their
    own with SMS consent; rows in bulk, the reminders by the outbox."""
    surgeons = list(Surgeon.objects.order_by("pk"))
    if not surgeons:
        surgeons = Surgeon.objects.bulk_create(
            Surgeon(given_name="Ana", family_name=f"Bench {n}") for n in range(SURGEONS)
        )
    patients = Patient.objects.bulk_create(
        Patient(
            record_number=f"M{first_number + n:07d}",
            given_name="Lucia",
            family_name="Garcia",
            birth_date=dt.date(1970, 1, 1),
            phone=f"+3461{first_number + n:07d}",
            reminders=Reminders.SMS,
        )
        for n in range(count)
    )
    procedures = Procedure.objects.bulk_create(
        Procedure(
            patient=patient,
            surgeon=surgeons[n % len(surgeons)],
            kind="endoscopic",
            surgery_date=now.date() - dt.timedelta(days=10),
        )
        for n, patient in enumerate(patients)
    )
    rule = FollowUpRule.objects.get(code="postop_control")
    # Two slots of each surgeon an hour, from the next full hour on; in UTC,
    # so no daylight-saving change can make two overlap. Slots are offset
    # by the numbers already booked, so a second batch finds them free.
    first = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    visits = []
    for n, procedure in enumerate(procedures):
        slot = (first_number + n) // len(surgeons)
        start = first + dt.timedelta(minutes=30 * slot)
        day = timezone.localdate(start)
        visits.append(
            Visit(
                procedure=procedure,
                patient_id=procedure.patient_id,
                rule=rule,
                occurrence=1,
                due_date=day,
                window_start=day,
                window_end=day,
                duration_minutes=20,
                status=VisitStatus.BOOKED,
                start=start,
                end=start + dt.timedelta(minutes=20),
                surgeon=surgeons[(first_number + n) % len(surgeons)],
            )
        )
    ids = [visit.pk for visit in Visit.objects.bulk_create(visits, batch_size=2_000)]
    outbox.write_due_messages(ids, now=now)
    return ids


def worker_env(stand_in: stand_ins.TwilioStandIn, log_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **TWILIO,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_REDIS_KEY_PREFIX": PREFIX,
        "TWILIO_API_BASE_URL": stand_in.url,
        # The bench runs at any hour; quiet hours would hold everything.
        "MESSAGE_QUIET_HOURS": "",
        "CLINIC_VAR_DIR": str(log_dir),
        "PYTHONUNBUFFERED": "1",
    }


def start_workers(env: dict[str, str], log_dir: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for n in range(WORKERS):
        command = celery_worker_command(f"bench{n}-{os.getpid()}@%h")
        workers.append(
            processes.start(command, env=env, log=log_dir / f"worker{n}.log")
        )
    return workers


def all_ready(expected: int) -> bool:
    answers = app.control.ping(timeout=0.5) or []
    return len(answers) >= expected


def sent_out() -> bool:
    """Every message claimed, and each one claimed as sent has its id."""
    waiting = Message.objects.filter(status=Status.QUEUED).exists()
    unsent = Message.objects.filter(status=Status.SENT, provider_id="").exists()
    return not waiting and not unsent


def commits() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        (count,) = cursor.fetchone()
    return int(count)


def duplicates(stand_in: stand_ins.TwilioStandIn) -> int:
    """Texts a number received beyond its one reminder, and provider ids
    kept on two messages."""
    per_number = Counter(request["To"] for request in stand_in.requests)
    extra_texts = sum(n - 1 for n in per_number.values() if n > 1)
    shared_ids = (
        Message.objects.exclude(provider_id="")
        .values("provider_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return extra_texts + shared_ids


def statements_per_message(stand_in: stand_ins.TwilioStandIn) -> float:
    """SQL statements the sender runs per message, counted in this process
    on `SAMPLE` more reminders (the same code the workers run)."""
    now = timezone.now()
    book_visits(SAMPLE, now, first_number=Message.objects.count())
    for name, value in {**TWILIO, "TWILIO_API_BASE_URL": stand_in.url}.items():
        setattr(settings, name, value)
    settings.MESSAGE_QUIET_HOURS = ""
    logging.getLogger("messaging").setLevel(logging.WARNING)  # a line a text
    with CaptureQueriesContext(connection) as queries:
        report = send_due_messages(now=timezone.now())
    assert report.sent == SAMPLE, report
    return len(queries) / SAMPLE


class BackendCpu:
    """CPU of this database's other PostgreSQL backends (the workers'),
    sampled while they live: a worker closes its connection after a task."""

    def __init__(self) -> None:
        self.before = {
            pid: processes.cpu_seconds([pid]) for pid in processes.backend_pids()
        }
        self.seen: dict[int, float] = {}

    def sample(self) -> None:
        for pid in processes.backend_pids():
            self.seen[pid] = processes.cpu_seconds([pid]) or self.seen.get(pid, 0.0)

    def used(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def measure(stand_in: stand_ins.TwilioStandIn, log_dir: Path) -> dict[str, float]:
    workers = start_workers(worker_env(stand_in, log_dir), log_dir)
    try:
        if not wait_until(lambda: all_ready(WORKERS), timeout=60):
            logs = "\n".join(p.read_text()[-2000:] for p in log_dir.glob("*.log"))
            raise RuntimeError(f"the workers did not start:\n{logs}")
        trees = [pid for w in workers for pid in [w.pid, *processes.children(w.pid)]]
        postgres = BackendCpu()
        own_before = time.process_time()
        workers_before = processes.cpu_seconds(trees)
        commits_before = commits()
        started = time.perf_counter()
        for _ in range(WORKERS):
            app.send_task("messaging.tasks.send_due_messages")

        def done() -> bool:
            postgres.sample()
            return sent_out()

        if not wait_until(done, timeout=600, every=0.1):
            raise RuntimeError("the workers did not send every message in 10 minutes")
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "workers_cpu": processes.cpu_seconds(trees) - workers_before,
            "postgres_cpu": postgres.used(),
            # This process: the stand-in's threads, and the polling above.
            "stand_in_cpu": time.process_time() - own_before,
            "commits": commits() - commits_before,
        }
    finally:
        for worker in workers:
            stop_group(worker, timeout=20)


def run(count: int) -> dict[str, float]:
    now = timezone.now()
    started = time.perf_counter()
    book_visits(count, now, first_number=0)
    queued = Message.objects.filter(
        status=Status.QUEUED, scheduled_for__lte=now
    ).count()
    assert queued == count, f"{queued} reminders due, not {count}"
    print(
        f"reminders={queued} setup_seconds={time.perf_counter() - started:.1f} "
        f"load_before={processes.load_average()}"
    )
    twilio = contextlib.contextmanager(stand_ins.twilio_server)
    with twilio() as stand_in:
        with tempfile.TemporaryDirectory(prefix="bench-messages-") as folder:
            figures = measure(stand_in, Path(folder))
        sent = Message.objects.filter(status=Status.SENT).count()
        assert sent == count, f"{sent} sent, not {count}"
        assert len(stand_in.requests) >= count, len(stand_in.requests)
        figures["duplicates"] = duplicates(stand_in)
        figures["statements"] = statements_per_message(stand_in)
    rate = count / figures["seconds"]
    print(
        f"seconds={figures['seconds']:.1f} workers={WORKERS} "
        f"load_after={processes.load_average()}"
    )
    print(
        "per message: "
        f"workers_cpu_ms={figures['workers_cpu'] / count * 1000:.2f} "
        f"postgres_cpu_ms={figures['postgres_cpu'] / count * 1000:.2f} "
        f"stand_in_cpu_ms={figures['stand_in_cpu'] / count * 1000:.2f} "
        f"transactions={figures['commits'] / count:.2f} "
        f"sql_statements={figures['statements']:.2f}"
    )
    return {"messages_per_second": rate, "duplicates": figures["duplicates"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args()
    result = processes.run_with_redis(
        redis_url=REDIS_URL,
        keys=f"{PREFIX}*",
        db_prefix="bench_messages",
        run=lambda: run(args.messages),
    )
    if result is None:
        return 1
    missed = [
        name
        for name, bar in BARS.items()
        if (result[name] > bar if name == "duplicates" else result[name] < bar)
    ]
    return processes.verdict(
        f"messages_per_second={result['messages_per_second']:.0f} "
        f"duplicates={result['duplicates']:.0f}",
        missed,
    )


if __name__ == "__main__":
    sys.exit(main())
