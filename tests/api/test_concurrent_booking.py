"""Clerks booking one surgeon's slot at the same moment, through the API: one
success, every other a 409 `slot_taken`, never a 500, one booking stored."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from clinic.models import Surgeon
from followup.models import SLOT_HOLDING_STATUSES, Visit
from tests.api.conftest import FREE_SLOT, SURGERY, TODAY, postop
from tests.factories import make_procedure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLERKS = 6


def test_simultaneous_bookings_of_one_slot_give_one_success_and_409s(
    surgeon_a: Surgeon, front_desk: Any
) -> None:
    visits = [
        postop(make_procedure(surgeon=surgeon_a, surgery_date=SURGERY, today=TODAY))
        for _ in range(CLERKS)
    ]
    barrier = threading.Barrier(CLERKS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def clerk(visit: Visit) -> None:
        client = APIClient()
        client.force_authenticate(front_desk)
        try:
            barrier.wait(timeout=10)
            response = client.post(
                f"/api/visits/{visit.pk}/book/",
                {"start": FREE_SLOT.isoformat(), "surgeon": surgeon_a.pk},
                format="json",
            )
            with lock:
                results.append(
                    (response.status_code, response.json().get("code", "booked"))
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(v,)) for v in visits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [(200, "booked")] + [(409, "slot_taken")] * (CLERKS - 1)
    assert (
        Visit.objects.filter(
            surgeon=surgeon_a, status__in=SLOT_HOLDING_STATUSES, start=FREE_SLOT
        ).count()
        == 1
    )
