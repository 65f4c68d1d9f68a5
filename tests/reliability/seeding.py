"""The seeded clinic of the fault and load tests, and the environment its
web server and worker run with.

LOAD_SECONDS sets how long the load runs: short by default (CI), 60 in
`make reliability`. Fault tests run for half of it, at least 5 s.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from knox.models import AuthToken

from feeds.models import SurgeonCalendar
from followup.models import Visit
from tests.factories import SurgeonFactory, UserFactory, make_procedure
from tests.feeds.conftest import Radicale, RedisBroker

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "5"))
# `make reliability`'s full length, against CI's short one: full runs seed
# and load more.
FULL_LENGTH = LOAD_SECONDS >= 30
FAULT_SECONDS = max(5.0, LOAD_SECONDS / 2)
# The fault tests' clinic: what clerks book while the faults come.
FAULT_CLINIC = {
    "clerks": 20 if FULL_LENGTH else 10,
    "surgeons": 20 if FULL_LENGTH else 5,
    "per_surgeon": 15 if FULL_LENGTH else 4,
}


@dataclass
class Clinic:
    surgeon_ids: list[int]
    calendars: dict[int, str]  # surgeon id -> Radicale calendar URL
    visit_ids: list[int]  # postop controls, overdue: bookable from now on
    tokens: list[str]  # one per clerk


def seed_clinic(
    server: Radicale,
    *,
    clerks: int,
    surgeon_count: int,
    procedures_per_surgeon: int,
    calendar_base: str | None = None,
) -> Clinic:
    """Committed rows (the tests are transactional): surgeons with a
    calendar each, and procedures whose postop control window has closed,
    so a clerk may book any slot from now on without an override."""
    today = timezone.localdate()
    surgery = today - dt.timedelta(days=60)
    surgeons = [
        SurgeonFactory.create(given_name=f"Load{n}") for n in range(surgeon_count)
    ]
    calendars = {}
    for surgeon in surgeons:
        calendar = SurgeonCalendar.objects.create(
            surgeon=surgeon, url=server.new_calendar(base_url=calendar_base)
        )
        calendars[surgeon.pk] = calendar.url
    visit_ids = []
    for surgeon in surgeons:
        for _ in range(procedures_per_surgeon):
            procedure = make_procedure(
                surgery_date=surgery, surgeon=surgeon, today=today
            )
            visit_ids.append(
                Visit.objects.get(procedure=procedure, rule__code="postop_control").pk
            )
    tokens = []
    for n in range(clerks):
        user = UserFactory.create(username=f"clerk{n}", group="front_desk")
        _, key = AuthToken.objects.create(user=user, expiry=dt.timedelta(days=1))
        tokens.append(key)
    return Clinic(
        surgeon_ids=[s.pk for s in surgeons],
        calendars=calendars,
        visit_ids=visit_ids,
        tokens=tokens,
    )


def server_env(database_url: str, broker: RedisBroker, var_dir: Path) -> dict[str, str]:
    """What gunicorn and the worker run with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker.url,
        "CELERY_REDIS_KEY_PREFIX": broker.prefix,
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "CLINIC_VAR_DIR": str(var_dir),
        # Every day, all day: a slot booked now can be checked in today.
        "CLINIC_HOURS": "mon-sun 00:00-23:50, slot 10",
        # Fifty clerks, each with a token of their own, stay far under
        # 6,000 requests a minute; the load test measures the server, not
        # the per-user throttle.
        "API_THROTTLE_USER": "6000/minute",
        "CALDAV_TIMEOUT_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
