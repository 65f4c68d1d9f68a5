"""Load: 50 clerks booking, rescheduling, checking in and cancelling
through the API, across 20 surgeons, for LOAD_SECONDS (60 in `make
reliability`, a few in CI), against gunicorn (3 workers), PostgreSQL, Redis
and a real Celery worker pushing to Radicale.

Afterwards: no overlapping held slots in the database, no 5xx, and, once
the reconciliation has run, every surgeon's Radicale calendar equal to the
database. Refusals (409: a slot taken, a visit moved by another clerk
first) are expected and counted. Figures (bookings/s, p50/p99) go to the
reliability table; no assert on time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.feeds.conftest import Radicale, WorkerProcess, worker_database_url
from tests.reliability import faults
from tests.reliability.seeding import FULL_LENGTH, LOAD_SECONDS, Clinic
from tests.reliability.servers import Gunicorn

pytestmark = [
    pytest.mark.celery,
    pytest.mark.redis,
    pytest.mark.caldav,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
CLERKS = 50


def test_fifty_clerks_never_double_book_and_every_change_reaches_radicale(
    make_clinic: Callable[..., Clinic],
    gunicorn: Gunicorn,
    celery_worker: WorkerProcess,
    radicale: Radicale,
) -> None:
    # Enough visits that 50 clerks rarely wait on one visit's row lock, and
    # (at full length) that they still have moves to make after 60 s.
    clinic = make_clinic(
        clerks=CLERKS, surgeons=20, per_surgeon=40 if FULL_LENGTH else 3
    )
    celery_worker.env["LOG_LEVEL"] = "WARNING"
    celery_worker.start()

    started = time.monotonic()
    tally = faults.run_clerks_once(
        faults.plan_for(clinic, gunicorn.url, seconds=LOAD_SECONDS)
    )
    # The clerks stop at the deadline, or sooner once every visit is done.
    held = time.monotonic() - started
    outcome = faults.account(worker_database_url(), radicale, clinic)
    requests = sum(tally.statuses.values())
    faults.record(
        "clerk_load",
        load=f"{CLERKS} clerks, 20 surgeons, {held:.0f} s",
        faults="none",
        tally=tally,
        outcome=outcome,
        allow_503=False,
        bookings_per_s=round(tally.count("book") / held, 1),
        requests_per_s=round(requests / held, 1),
        refusals=sum(n for k, n in tally.actions.items() if k.endswith(":refused")),
    )

    assert tally.count("book") > 0
    assert tally.fivexx() == 0, tally.server_error_bodies[:3]
    assert tally.transport_errors == 0
    assert outcome.double_bookings == 0
    assert outcome.left_pending == [], celery_worker.output()
    assert outcome.calendar.lost == []
    assert outcome.calendar.doubled == []
