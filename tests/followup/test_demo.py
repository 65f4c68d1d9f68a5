"""The demo clinic (`seed_demo`): loaded once, at every stage, obeying every rule.

It obeys every rule: its history was made by the services.

`seed_demo` books, checks in, completes and marks no-shows through the same
services and controls as the front desk, with `now` set to when each step
would have happened. So no two held slots overlap, for a surgeon or for a
patient, on PostgreSQL (the suite's database) and on SQLite (`make run`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clinic.models import Patient, Procedure, Surgeon
from followup.models import (
    SLOT_HOLDING_STATUSES,
    CancelReason,
    ContactAttempt,
    MriStatus,
    Visit,
    VisitEvent,
    VisitStatus,
)

pytestmark = pytest.mark.django_db

HELD = ", ".join(f"'{status}'" for status in SLOT_HOLDING_STATUSES)
# The statuses are our own constants, not input.
OVERLAPS = f"""
    SELECT a.id, b.id FROM followup_visit a JOIN followup_visit b
      ON a.id < b.id
     AND (a.surgeon_id = b.surgeon_id OR a.patient_id = b.patient_id)
     AND a.start < b."end" AND b.start < a."end"
     WHERE a.status IN ({HELD}) AND b.status IN ({HELD})
"""  # noqa: S608


def test_the_demo_holds_no_overlapping_slots_on_this_database() -> None:
    call_command("seed_demo", stdout=io.StringIO())

    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS)
        assert cursor.fetchall() == []
    assert Visit.objects.filter(status__in=SLOT_HOLDING_STATUSES).count() > 30


def test_the_demo_holds_no_overlapping_slots_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "true",
        "CLINIC_VAR_DIR": str(tmp_path),
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    for args in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        done = subprocess.run(
            [*manage, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr

    with sqlite3.connect(database) as db:
        assert db.execute(OVERLAPS).fetchall() == []
        held = db.execute(
            f"SELECT count(*) FROM followup_visit WHERE status IN ({HELD})"  # noqa: S608
        ).fetchone()
    assert held[0] > 30


def test_the_demo_has_late_bookings_and_todays_check_in_history() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()

    late = Visit.objects.filter(late_by_days__isnull=False)
    assert late.filter(status="completed").exists()
    assert all(v.start and v.start.date() > v.window_end for v in late)
    # History carries the moment each step happened, not the seeding time.
    first = VisitEvent.objects.filter(action="booked").order_by("at").first()
    assert first is not None and first.at.date() < today
    for event in VisitEvent.objects.filter(action="checked_in"):
        assert event.start_after is not None
        assert timezone.localdate(event.at) == timezone.localdate(event.start_after)


def test_the_demo_patients_have_every_consent_with_what_it_needs() -> None:
    call_command("seed_demo", stdout=io.StringIO())

    consents = {
        (p.reminders, bool(p.phone), bool(p.email)) for p in Patient.objects.all()
    }
    assert consents == {
        ("sms", True, False),
        ("email", True, True),
        ("none", True, False),
        ("none", False, False),
    }
    assert Patient.objects.search("+34 600 000 004").count() == 1


def test_seed_demo_loads_the_clinic_once_and_prints_the_logins() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = (Patient.objects.count(), Procedure.objects.count(), Visit.objects.count())

    again = io.StringIO()
    call_command("seed_demo", stdout=again)

    assert first[0] == 50
    assert first[2] > 100
    assert (
        Patient.objects.count(),
        Procedure.objects.count(),
        Visit.objects.count(),
    ) == first
    assert "already loaded" in again.getvalue()
    for username in ("admin", "desk", "surgeon1", "surgeon2"):
        assert username in out.getvalue()
    assert User.objects.get(username="surgeon1").surgeon is not None


def test_seed_demo_leaves_visits_in_every_state_and_surgeons_with_sessions() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()  # seed_demo runs on the real clock

    statuses = set(Visit.objects.values_list("status", flat=True))

    assert statuses == set(VisitStatus.values)
    assert Visit.objects.overdue(today).exists()
    assert Visit.objects.filter(status="booked", start__gt=timezone.now()).exists()
    assert all(s.sessions.exists() for s in Surgeon.objects.all())
    before = Visit.objects.values_list("pk", "status", "start").order_by("pk")
    snapshot_rows = list(before)
    call_command("seed_demo", stdout=io.StringIO())
    assert list(before.all()) == snapshot_rows


def test_the_demo_has_a_follow_up_history_to_show() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    today = timezone.localdate()

    outcomes = set(ContactAttempt.objects.values_list("outcome", flat=True))
    assert {"no_answer", "call_back_later", "will_book", "declined"} <= outcomes
    assert Visit.objects.unreachable().count() >= 2
    assert Visit.objects.filter(cancelled_by=CancelReason.DECLINED).count() == 1
    flagged = {vars(visit)["mri_status"] for visit in Visit.objects.mri_flagged(today)}
    assert flagged == {MriStatus.MISSING, MriStatus.REPORT_PENDING}
    soon = Visit.objects.filter(
        requires_mri=True,
        status__in=SLOT_HOLDING_STATUSES,
        start__date__lte=today + dt.timedelta(days=14),
        start__date__gte=today,
    ).with_mri_status()
    assert MriStatus.DONE in {vars(visit)["mri_status"] for visit in soon}
