"""A contact attempt's note is staff-only: never in a calendar feed of any
scope, never in the visit's history or cancel reason, never in a log line.

The attempts are recorded through the API (the path a clerk takes), on a
booked visit, on a visit that the outcome cancels and on one to call back;
then every feed scope is read as a calendar client reads it.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from feeds import links
from followup.models import ContactAttempt, Visit, VisitEvent
from tests.api.conftest import FREE_SLOT, World

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]

NOTE = "Zx9-PRIVATE-NOTE: lives with her daughter Quintina, deaf left ear"


def record(desk: APIClient, visit: Visit, outcome: str, **extra: str) -> None:
    response = desk.post(
        f"/api/visits/{visit.pk}/contact-attempts/",
        {"channel": "phone", "outcome": outcome, "note": NOTE, **extra},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_a_note_reaches_no_feed_no_history_and_no_log_line(
    world: World, desk: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    booked = desk.post(
        f"/api/visits/{world.visit_a.pk}/book/",
        {"start": FREE_SLOT.isoformat(), "surgeon": world.procedure_a.surgeon_id},
        format="json",
    )
    assert booked.status_code == 200, booked.content
    to_book = Visit.objects.get(
        procedure=world.procedure_a, rule__code="one_month_control"
    )
    record(desk, to_book, "no_answer")  # its window is in the patient's feed
    record(desk, world.visit_a, "declined")  # a booking cancelled: published
    record(desk, world.visit_b, "call_back_later", call_back_on="2026-11-30")
    assert ContactAttempt.objects.filter(note=NOTE).count() == 3
    # A refused attempt is logged (django.request): its note must not be.
    refused = desk.post(
        f"/api/visits/{world.visit_b.pk}/contact-attempts/",
        {"channel": "fax", "outcome": "no_answer", "note": NOTE},
        format="json",
    )
    assert refused.status_code == 400

    surgeon_id = world.procedure_a.surgeon_id
    feeds = {
        "surgeon": links.create_link(scope="surgeon", surgeon_id=surgeon_id),
        "patient": links.create_link(
            scope="patient", patient_id=world.patient_a.pk, by_command=True
        ),
        "patient_b": links.create_link(
            scope="patient", patient_id=world.patient_b.pk, by_command=True
        ),
        "clinic": links.create_link(scope="clinic", by_command=True),
    }
    bodies = {}
    for name, issued in feeds.items():
        response = Client().get(issued.path)
        assert response.status_code == 200, name
        bodies[name] = response.content.decode()

    # The feeds do show these visits: the note would have had its chance.
    assert "STATUS:CANCELLED" in bodies["surgeon"]
    assert "STATUS:CANCELLED" in bodies["patient"]
    assert bodies["clinic"].count("BEGIN:VEVENT") >= 1
    assert "BEGIN:VEVENT" in bodies["patient_b"]
    for name, body in bodies.items():
        assert "PRIVATE-NOTE" not in body, name
        assert "Quintina" not in body, name
    # Nothing copies it onto the visit or its history, which calendars read.
    assert not VisitEvent.objects.filter(reason__contains="PRIVATE-NOTE").exists()
    assert not VisitEvent.objects.filter(details__icontains="PRIVATE-NOTE").exists()
    assert not Visit.objects.filter(cancel_reason__contains="PRIVATE-NOTE").exists()
    # Nor any log line, at any level, of any logger.
    assert caplog.records, "the capture saw nothing: the check would be empty"
    for line in caplog.records:
        assert "PRIVATE-NOTE" not in line.getMessage(), line.name
    assert "Quintina" not in caplog.text
