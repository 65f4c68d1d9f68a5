"""Reads on visits that the pages use: a surgeon's held slots in a period."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import Surgeon
from followup.models import Visit, VisitStatus
from tests.followup.world import madrid, postop

pytestmark = pytest.mark.django_db

MONDAY = madrid(2026, 11, 23, 0)
NEXT_MONDAY = MONDAY + dt.timedelta(days=7)


def held(surgeon: Surgeon, status: VisitStatus, start: dt.datetime) -> Visit:
    visit = postop()
    Visit.objects.filter(pk=visit.pk).update(
        status=status,
        start=start,
        end=start + dt.timedelta(minutes=20),
        surgeon=surgeon,
    )
    return visit


def test_booked_with_lists_the_slots_a_surgeon_holds_in_the_period_in_time_order(
    surgeon_a: Surgeon, surgeon_b: Surgeon
) -> None:
    friday = held(surgeon_a, VisitStatus.BOOKED, madrid(2026, 11, 27, 9))
    monday = held(surgeon_a, VisitStatus.COMPLETED, MONDAY + dt.timedelta(hours=9))
    sunday_late = held(surgeon_a, VisitStatus.CHECKED_IN, madrid(2026, 11, 29, 23, 40))
    held(surgeon_a, VisitStatus.NO_SHOW, madrid(2026, 11, 24, 9))  # slot freed
    held(surgeon_a, VisitStatus.CANCELLED, madrid(2026, 11, 24, 10))
    held(surgeon_a, VisitStatus.BOOKED, NEXT_MONDAY + dt.timedelta(hours=9))
    held(surgeon_b, VisitStatus.BOOKED, madrid(2026, 11, 25, 9))

    found = Visit.objects.booked_with(surgeon_a.pk, MONDAY, NEXT_MONDAY)

    assert list(found) == [monday, friday, sunday_late]
