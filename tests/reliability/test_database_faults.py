"""PostgreSQL failing under a running web server (gunicorn, 3 workers) and
a running Celery worker, with clerks booking through the API meanwhile.

A request in flight when its connection dies may get a 503 with
Retry-After, never a 500; no process is restarted, and once the database
answers again every request and export goes through. Afterwards the
database holds no overlapping slots, and each surgeon's Radicale calendar
matches it: nothing lost, nothing doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from tests.feeds.conftest import (
    Radicale,
    RedisBroker,
    WorkerProcess,
    worker_database_url,
)
from tests.reliability import faults
from tests.reliability.seeding import FAULT_CLINIC, FAULT_SECONDS, Clinic, server_env
from tests.reliability.servers import (
    Gunicorn,
    copy_database,
    run_gunicorn,
    terminate_backends,
    throwaway_postgres,
)

pytestmark = [
    pytest.mark.celery,
    pytest.mark.redis,
    pytest.mark.caldav,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_killed_database_connections_cost_at_most_a_503_and_everything_resumes(
    make_clinic: Callable[..., Clinic],
    gunicorn: Gunicorn,
    celery_worker: WorkerProcess,
    radicale: Radicale,
    tmp_path: Path,
) -> None:
    clinic = make_clinic(**FAULT_CLINIC)
    database_url = worker_database_url()
    celery_worker.env["LOG_LEVEL"] = "WARNING"
    celery_worker.start()
    assert gunicorn.process is not None and celery_worker.process is not None
    web_workers = faults.children(gunicorn.process.pid)
    killed = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (own,) = cursor.fetchone()

    tally, rounds = faults.under_load(
        faults.plan_for(clinic, gunicorn.url, seconds=FAULT_SECONDS),
        lambda: killed.append(terminate_backends(database_url, spare=own)),
        every=2.0,
    )
    # The same processes, with no fault now: everything goes through.
    calm = faults.run_clerks_once(
        faults.plan_for(clinic, gunicorn.url, seconds=3, clerks=5)
    )
    resumed = faults.book_one_more(clinic, gunicorn.url)
    outcome = faults.account(database_url, radicale, clinic)
    faults.record(
        "pg_terminate_backend",
        load=f"{FAULT_CLINIC['clerks']} clerks, {FAULT_SECONDS:g} s",
        faults=f"{rounds} rounds, {sum(killed)} backends killed",
        tally=tally,
        outcome=outcome,
        allow_503=True,
        after_faults_5xx=calm.fivexx(),
        after_faults_booking=resumed,
    )

    assert sum(killed) > 0
    assert tally.fivexx(allow_503=True) == 0, tally.server_error_bodies[:3]
    assert tally.transport_errors == 0
    assert tally.changes > 0
    assert calm.fivexx() == 0 and calm.transport_errors == 0, calm.statuses
    assert resumed == 200
    assert gunicorn.process.poll() is None
    assert faults.children(gunicorn.process.pid) == web_workers
    assert celery_worker.process.poll() is None
    assert outcome.left_pending == [], celery_worker.output()
    assert outcome.calendar.lost == []
    assert outcome.calendar.doubled == []
    assert outcome.double_bookings == 0


def test_a_database_restarted_under_load_loses_nothing(
    make_clinic: Callable[..., Clinic],
    redis_broker: RedisBroker,
    radicale: Radicale,
    tmp_path: Path,
) -> None:
    """On a PostgreSQL cluster of the test's own, restarted (fast shutdown:
    every session cut, new ones refused until it is back) twice under load."""
    clinic = make_clinic(**FAULT_CLINIC)
    with throwaway_postgres() as cluster:
        database_url = copy_database(worker_database_url(), cluster, "clinic_restart")
        env = server_env(database_url, redis_broker, tmp_path / "var")
        worker = WorkerProcess(log_dir=tmp_path, env=env)
        with run_gunicorn(env, tmp_path / "gunicorn.log") as web:
            try:
                worker.start()
                tally, restarts = faults.under_load(
                    faults.plan_for(clinic, web.url, seconds=FAULT_SECONDS),
                    cluster.restart,
                    every=FAULT_SECONDS / 3,
                )
                calm = faults.run_clerks_once(
                    faults.plan_for(clinic, web.url, seconds=3, clerks=5)
                )
                resumed = faults.book_one_more(clinic, web.url)
                outcome = faults.account(database_url, radicale, clinic)
                alive = worker.process is not None and worker.process.poll() is None
            finally:
                worker.stop()
    faults.record(
        "postgresql_restart",
        load=f"{FAULT_CLINIC['clerks']} clerks, {FAULT_SECONDS:g} s",
        faults=f"{restarts} restarts (pg_ctl -m fast)",
        tally=tally,
        outcome=outcome,
        allow_503=True,
        after_faults_5xx=calm.fivexx(),
        after_faults_booking=resumed,
    )

    assert restarts > 0
    assert tally.fivexx(allow_503=True) == 0, tally.server_error_bodies[:3]
    assert tally.transport_errors == 0
    assert calm.fivexx() == 0 and calm.transport_errors == 0, calm.statuses
    assert resumed == 200
    assert alive, worker.output()
    assert outcome.left_pending == [], worker.output()
    assert outcome.calendar.lost == []
    assert outcome.calendar.doubled == []
    assert outcome.double_bookings == 0
