"""The CalDAV server failing while clerks book: first refusing connections,
then accepting them and never answering nor passing them on (each request
waits out the client's CALDAV_TIMEOUT_SECONDS, 2 s here, 10 by default). The bookings go
on; the exports fail, are retried, and after the server is back and the
reconciliation has run, each calendar matches the database exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.feeds.conftest import (
    CalDAVProxy,
    Radicale,
    WorkerProcess,
    worker_database_url,
)
from tests.reliability import faults
from tests.reliability.seeding import FAULT_CLINIC, FAULT_SECONDS, Clinic
from tests.reliability.servers import Gunicorn

pytestmark = [
    pytest.mark.celery,
    pytest.mark.redis,
    pytest.mark.caldav,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def failures_like(database_url: str, text: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM feeds_calendarentry WHERE export_error LIKE %s",
            [f"%{text}%"],
        ).fetchone()
    return int(row[0]) if row else 0


def test_caldav_refusing_then_timing_out_loses_and_doubles_nothing(
    make_clinic: Callable[..., Clinic],
    caldav_proxy: CalDAVProxy,
    gunicorn: Gunicorn,
    celery_worker: WorkerProcess,
    radicale: Radicale,
) -> None:
    clinic = make_clinic(**FAULT_CLINIC, base=caldav_proxy.url)
    database_url = worker_database_url()
    celery_worker.env.update(CALDAV_TIMEOUT_SECONDS="2", LOG_LEVEL="WARNING")
    celery_worker.start()
    half = FAULT_SECONDS / 2

    caldav_proxy.down()
    refused = faults.run_clerks_once(
        faults.plan_for(clinic, gunicorn.url, seconds=half)
    )
    refusals = failures_like(database_url, "connection refused")
    caldav_proxy.silent = True
    caldav_proxy.up()
    slow = faults.run_clerks_once(faults.plan_for(clinic, gunicorn.url, seconds=half))
    # Let the worker's retries meet the silent server before it recovers.
    faults.wait_until(lambda: failures_like(database_url, "s timeout") > 0, timeout=30)
    timeouts = failures_like(database_url, "s timeout")
    caldav_proxy.silent = False
    outcome = faults.account(database_url, radicale, clinic)
    tally = refused.merged(slow)
    faults.record(
        "caldav_refusing_then_timing_out",
        load=f"{FAULT_CLINIC['clerks']} clerks, {FAULT_SECONDS:g} s",
        faults=f"down {half:g} s, then silent {half:g} s",
        tally=tally,
        outcome=outcome,
        allow_503=False,
        exports_refused=refusals,
        exports_timed_out=timeouts,
    )

    assert refusals > 0 and timeouts > 0
    assert tally.fivexx() == 0 and tally.transport_errors == 0
    assert tally.changes > 0
    assert outcome.left_pending == [], celery_worker.output()
    assert outcome.calendar.lost == []
    assert outcome.calendar.doubled == []
    assert outcome.double_bookings == 0
