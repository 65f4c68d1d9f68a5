"""Clerks booking at the same moment through the API: ten at once for one
surgeon's slot, or for one patient with ten surgeons. One success, nine 409
`slot_taken`, never a 500, one booking stored."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from clinic.models import ProcedureKind, Surgeon
from followup.models import SLOT_HOLDING_STATUSES, Visit
from tests.api.conftest import FREE_SLOT, SURGERY, TODAY, postop
from tests.factories import PatientFactory, SurgeonFactory, make_procedure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLERKS = 10


def book_at_once(front_desk: Any, bookings: list[tuple[Visit, Surgeon]]) -> list[Any]:
    """Every clerk books FREE_SLOT at the same moment; their (status, code)."""
    barrier = threading.Barrier(len(bookings))
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def clerk(visit: Visit, surgeon: Surgeon) -> None:
        client = APIClient()
        client.force_authenticate(front_desk)
        try:
            barrier.wait(timeout=10)
            response = client.post(
                f"/api/visits/{visit.pk}/book/",
                {"start": FREE_SLOT.isoformat(), "surgeon": surgeon.pk},
                format="json",
            )
            with lock:
                results.append(
                    (response.status_code, response.json().get("code", "booked"))
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=pair) for pair in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


def test_one_patient_booked_with_ten_surgeons_at_once_gets_one_booking(
    front_desk: Any,
) -> None:
    patient = PatientFactory.create()
    bookings = []
    for n in range(CLERKS):
        surgeon = SurgeonFactory.create()
        # Ten procedures of one patient (each kind and day registered once),
        # every post-operative window holding FREE_SLOT.
        procedure = make_procedure(
            patient=patient,
            surgeon=surgeon,
            kind=list(ProcedureKind)[n % 2],
            surgery_date=SURGERY - dt.timedelta(days=n // 2),
            today=TODAY,
        )
        bookings.append((postop(procedure), surgeon))

    results = book_at_once(front_desk, bookings)

    assert results == [(200, "booked")] + [(409, "slot_taken")] * (CLERKS - 1)
    assert (
        Visit.objects.filter(patient=patient, status__in=SLOT_HOLDING_STATUSES).count()
        == 1
    )


def test_simultaneous_bookings_of_one_slot_give_one_success_and_409s(
    surgeon_a: Surgeon, front_desk: Any
) -> None:
    visits = [
        postop(make_procedure(surgeon=surgeon_a, surgery_date=SURGERY, today=TODAY))
        for _ in range(CLERKS)
    ]

    results = book_at_once(front_desk, [(visit, surgeon_a) for visit in visits])

    assert results == [(200, "booked")] + [(409, "slot_taken")] * (CLERKS - 1)
    assert (
        Visit.objects.filter(
            surgeon=surgeon_a, status__in=SLOT_HOLDING_STATUSES, start=FREE_SLOT
        ).count()
        == 1
    )
