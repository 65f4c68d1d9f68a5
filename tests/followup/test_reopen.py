"""A clinic admin reopens a visit cancelled by mistake (issue 19, D5).

The visit goes back to *to book*, its slot and cancellation cleared, and its
history says who reopened it, when and why. Anything else is refused and
changes nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import ContactChannel, ContactOutcome, Visit, VisitStatus
from followup.services.moves import allowed_moves
from tests.factories import TODAY, make_procedure
from tests.followup.world import NOW, bring_to, postop, refused

pytestmark = pytest.mark.django_db
LATER = NOW + dt.timedelta(hours=1)


def reopen(visit: Visit, actor: User, reason: str = "Cancelled the wrong patient"):
    return services.reopen_visit(
        visit_id=visit.pk, actor=actor, reason=reason, now=LATER
    )


def test_a_cancelled_booking_is_reopened_to_book_with_its_reason_in_the_history(
    desk: User, clinic_admin: User
) -> None:
    visit = bring_to("booked", postop(), desk)
    services.cancel_visit(visit_id=visit.pk, reason="Slip", actor=desk, now=NOW)
    sequence = Visit.objects.get(pk=visit.pk).sequence

    reopened = reopen(visit, clinic_admin)

    fresh = Visit.objects.get(pk=visit.pk)
    assert reopened.status == fresh.status == VisitStatus.TO_BOOK
    assert (fresh.start, fresh.end, fresh.cancel_reason, fresh.cancelled_by) == (
        None,
        None,
        "",
        "",
    )
    assert fresh.sequence == sequence + 1
    event = fresh.events.latest("pk")
    assert (event.action, event.from_status, event.to_status) == (
        "reopened",
        "cancelled",
        "to_book",
    )
    assert (event.reason, event.actor, event.at) == (
        "Cancelled the wrong patient",
        clinic_admin,
        LATER,
    )
    assert event.start_before is not None and event.start_after is None


def test_a_visit_cancelled_by_a_deceased_slip_is_reopened(
    desk: User, clinic_admin: User
) -> None:
    visit = postop()
    services.record_contact_attempt(
        visit_id=visit.pk,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.DECEASED,
        actor=desk,
        now=NOW,
    )
    visit.refresh_from_db()
    assert visit.cancelled_by == "deceased"
    assert "reopen" in allowed_moves(visit, LATER)

    reopen(visit, clinic_admin)

    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (VisitStatus.TO_BOOK, "")
    assert "reopen" not in allowed_moves(visit, LATER)


@pytest.mark.parametrize("status", ["to_book", "booked", "checked_in", "completed"])
def test_only_a_cancelled_visit_can_be_reopened(
    status: str, desk: User, clinic_admin: User
) -> None:
    visit = bring_to(status, postop(), desk)

    refused(
        visit,
        lambda: reopen(visit, clinic_admin),
        Conflict,
        "invalid_transition",
        "cannot be reopened",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_reopening_needs_a_reason(reason: str, desk: User, clinic_admin: User) -> None:
    visit = bring_to("cancelled", postop(), desk)

    refused(
        visit,
        lambda: reopen(visit, clinic_admin, reason),
        InvalidInput,
        "required",
        "reason",
    )


def test_a_visit_of_a_cancelled_procedure_stays_cancelled(
    desk: User, clinic_admin: User
) -> None:
    procedure = make_procedure(today=TODAY)
    visit = Visit.objects.get(procedure=procedure, rule__code="postop_control")
    services.cancel_procedure(procedure_id=procedure.pk, reason="Wrong patient")

    refused(
        visit,
        lambda: reopen(visit, clinic_admin),
        Conflict,
        "procedure_not_active",
        "procedure is cancelled",
    )
