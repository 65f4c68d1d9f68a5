"""A patient's feed: the window to book turns into the booking, SEQUENCE up.

The patient's calendar shows a visit still to book as an all-day event over
its window; booking it turns that event, under the same UID, into a timed
one. RFC 5545 requires a higher SEQUENCE when DTSTART changes, or a client
may keep the all-day copy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.test import Client

from feeds import links
from feeds.rendering import visit_uid
from followup import services
from tests.factories import PatientFactory, SurgeonFactory, make_procedure
from tests.feeds.helpers import MADRID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_feed_cache")]
NOW = dt.datetime(2026, 11, 25, 8, tzinfo=MADRID)


def event_of(path: str, uid: str) -> Any:
    response = Client().get(path)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid]
    return event


def test_booking_a_published_window_raises_its_sequence(front_desk: Any) -> None:
    patient = PatientFactory.create()
    procedure = make_procedure(
        patient=patient,
        surgeon=SurgeonFactory.create(),
        surgery_date=dt.date(2026, 11, 20),
    )
    visit = procedure.visits.get(rule__code="postop_control")
    path = links.create_link(
        scope="patient", patient_id=patient.pk, by_command=True
    ).path
    uid = visit_uid(visit)

    window = event_of(path, uid)
    services.book_visit(
        visit_id=visit.pk,
        start=dt.datetime(2026, 11, 27, 9, tzinfo=MADRID),
        surgeon_id=procedure.surgeon_id,
        actor=front_desk,
        now=NOW,
    )
    booked = event_of(path, uid)

    assert window.decoded("DTSTART") == dt.date(2026, 11, 27)  # all day
    assert isinstance(booked.decoded("DTSTART"), dt.datetime)
    assert booked.decoded("DTSTART") == dt.datetime(2026, 11, 27, 9, tzinfo=MADRID)
    assert int(booked["SEQUENCE"]) > int(window["SEQUENCE"])
