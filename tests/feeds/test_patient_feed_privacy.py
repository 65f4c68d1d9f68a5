"""A patient's own feed names no patient.

It goes to whatever calendar provider the patient subscribes with: no
record number, and no label holding one, anywhere in the calendar.
"""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinic.models import ProcedureKind, Surgeon
from tests.factories import PatientFactory, make_procedure
from tests.feeds.helpers import book

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]


def test_the_patients_feed_holds_no_record_number_nor_label(
    front_desk: User, surgeon_a: Surgeon
) -> None:
    patient = PatientFactory.create(
        record_number="HC-778899", given_name="Lucía", family_name="Garcia"
    )
    procedure = make_procedure(
        patient=patient,
        surgeon=surgeon_a,
        kind=ProcedureKind.ENDOSCOPIC_STEM_CELL,
        surgery_date=dt.date(2026, 6, 25),
        today=dt.date(2026, 6, 1),
    )
    book(procedure.visits.get(rule__code="postop_control"), dt.date(2026, 7, 6), 9)
    # The surgeon's feed has rendered and stored the shared entries first.
    client = Client()
    client.force_login(front_desk)
    created = client.post(
        "/api/calendar-links/",
        {"scope": "patient", "patient": patient.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    path = "/" + created.json()["url"].split("/", 3)[3]

    response = Client().get(path)

    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    texts = [str(value) for _, value in calendar.property_items()]
    events = calendar.walk("VEVENT")
    assert len(events) >= 3  # the booked visit, windows, milestones
    assert calendar["X-WR-CALNAME"]
    for secret in ("HC-778899", patient.label(), patient.initials, "Garcia"):
        assert all(secret not in text for text in texts), secret
        assert secret.encode() not in response.content
