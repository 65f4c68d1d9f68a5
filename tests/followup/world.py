"""The booking tests' world: a clock, a clinic's hours, a visit, a booking.

The clinic consults Monday to Friday 09:00-14:00 in 10-minute slots; "now"
is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on Friday 20
November gives a post-operative control of 20 minutes whose window runs
from Friday 27 November to Saturday 5 December.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from clinic.models import Patient, Surgeon
from followup import services
from followup.exceptions import DomainError
from followup.models import Visit, VisitEvent
from followup.services.parsing import parse_aware_datetime
from tests.factories import TODAY, make_procedure

MADRID = zoneinfo.ZoneInfo("Europe/Madrid")
SURGERY = dt.date(2026, 11, 20)


def madrid(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MADRID)


NOW = madrid(2026, 11, 25, 8)
FRIDAY_9 = madrid(2026, 11, 27, 9)  # the first slot of the window
WEEKDAYS_9_TO_14 = [(day, dt.time(9), dt.time(14), 10) for day in range(5)]


def postop(
    *,
    surgeon: Surgeon | None = None,
    patient: Patient | None = None,
    surgery_date: dt.date = SURGERY,
) -> Visit:
    procedure = make_procedure(
        surgery_date=surgery_date, surgeon=surgeon, patient=patient, today=TODAY
    )
    return Visit.objects.get(procedure=procedure, rule__code="postop_control")


def other_postop(patient: Patient, *, surgeon: Surgeon | None = None) -> Visit:
    """The post-operative control of the patient's other procedure, operated
    the day before: a second visit of theirs whose window holds the first's
    slots (a patient's procedure of one kind and day is registered once)."""
    return postop(
        patient=patient, surgeon=surgeon, surgery_date=SURGERY - dt.timedelta(days=1)
    )


def snapshot(visit: Visit) -> tuple[object, int]:
    """The visit's row and its number of events: what "nothing changed" means."""
    return (
        Visit.objects.values().get(pk=visit.pk),
        VisitEvent.objects.filter(visit=visit).count(),
    )


def surgeon_of(visit: Visit) -> int:
    assert visit.surgeon_id is not None
    return visit.surgeon_id


def book(
    visit: Visit,
    start: dt.datetime | str = FRIDAY_9,
    *,
    actor: User | None = None,
    surgeon: Surgeon | None = None,
    now: dt.datetime = NOW,
    override_reason: str = "",
) -> Visit:
    # Read as the API and the desk read it: the service takes a datetime.
    return services.book_visit(
        visit_id=visit.pk,
        start=parse_aware_datetime(start),
        surgeon_id=surgeon.pk if surgeon else surgeon_of(visit),
        actor=actor,
        now=now,
        override_reason=override_reason,
    )


TEN_O_CLOCK = madrid(2026, 11, 30, 10)


def bring_to(status: str, visit: Visit, actor: User) -> Visit:
    """Walk a fresh visit to `status` through the services."""
    if status == "to_book":
        return visit
    if status == "cancelled":
        return services.cancel_visit(
            visit_id=visit.pk, reason="Not needed", actor=actor, now=NOW
        )
    book(visit, actor=actor)
    later = FRIDAY_9 + dt.timedelta(minutes=5)
    if status in ("checked_in", "completed"):
        services.check_in_visit(visit_id=visit.pk, actor=actor, now=later)
    if status == "completed":
        services.complete_visit(visit_id=visit.pk, actor=actor, now=later)
    if status == "no_show":
        services.mark_no_show(visit_id=visit.pk, actor=actor, now=later)
    return Visit.objects.get(pk=visit.pk)


def refused(
    visit: Visit,
    call: Callable[[], object],
    error: type[DomainError],
    code: str,
    message: str,
) -> None:
    """The call is refused with this message and code, and nothing changes."""
    before = snapshot(visit)
    visits, events = Visit.objects.count(), VisitEvent.objects.count()

    with pytest.raises(error, match=message) as err:
        call()

    assert err.value.code == code
    assert snapshot(visit) == before
    assert (Visit.objects.count(), VisitEvent.objects.count()) == (visits, events)
