"""The booking controls (SPEC section 3), and the window override.

The cast: the clinic consults Monday to Friday 09:00-14:00 in 10-minute
slots; "now" is Wednesday 25 November 2026, 08:00 in Madrid; a procedure on
Friday 20 November gives a post-operative control of 20 minutes whose
window runs from Friday 27 November to Saturday 5 December
(tests/followup/world.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User

from followup import services
from followup.exceptions import Conflict, InvalidInput
from followup.models import VisitStatus
from tests.factories import (
    PatientFactory,
    SurgeonFactory,
    UserFactory,
)
from tests.followup.world import (
    FRIDAY_9,
    NOW,
    SURGERY,
    book,
    madrid,
    postop,
    refused,
    surgeon_of,
)

pytestmark = pytest.mark.django_db


# --- the booking controls -----------------------------------------------------


@pytest.mark.parametrize(
    ("start", "code", "message"),
    [
        (
            madrid(2026, 12, 7, 9),
            "outside_window",
            r"2026-12-07 is outside the visit's booking window \(2026-11-27 to "
            r"2026-12-05\); only a user allowed to override",
        ),
        (
            madrid(2026, 11, 26, 13, 50),
            "outside_window",
            "2026-11-26 is outside the visit's booking window",
        ),
        (
            madrid(2026, 11, 28, 9),
            "outside_sessions",
            r"has no consultation on Saturday 2026-11-28",
        ),
        (
            madrid(2026, 11, 27, 14),
            "outside_sessions",
            r"Fri 2026-11-27 14:00 to 14:20 does not fit .*'s consultation on "
            r"Fridays \(09:00-14:00 every 10 min\)",
        ),
        (madrid(2026, 11, 27, 13, 50), "outside_sessions", "does not fit"),
        (madrid(2026, 11, 27, 9, 5), "outside_sessions", "start on its slot grid"),
        (madrid(2026, 11, 27, 8, 50), "outside_sessions", "does not fit"),
        (
            madrid(2026, 11, 27, 9) + dt.timedelta(seconds=30),
            "outside_sessions",
            "does not fit",
        ),
    ],
)
def test_a_booking_outside_the_window_or_the_sessions_is_refused(
    start: dt.datetime, code: str, message: str, desk: User
) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(visit, start, actor=desk),
        InvalidInput,
        code,
        message,
    )


def test_a_booking_in_the_past_is_refused(desk: User) -> None:
    visit = postop()
    later = madrid(2026, 11, 30, 12, 1)

    refused(
        visit,
        lambda: book(visit, FRIDAY_9, actor=desk, now=later),
        InvalidInput,
        "start_in_past",
        r"Fri 2026-11-27 09:00 is in the past; choose a time after Mon 2026-11-30 "
        "12:01",
    )


def test_a_reschedule_is_held_to_the_same_controls(desk: User) -> None:
    visit = book(postop(), actor=desk)

    refused(
        visit,
        lambda: services.reschedule_visit(
            visit_id=visit.pk,
            start=madrid(2026, 11, 28, 9),
            surgeon_id=surgeon_of(visit),
            actor=desk,
            now=NOW,
        ),
        InvalidInput,
        "outside_sessions",
        "no consultation on Saturday",
    )


@pytest.mark.parametrize(
    ("start", "code", "message"),
    [
        ("2026-11-27T09:00:00", "naive_datetime", "has no UTC offset"),
        ("2026-11-27", "naive_datetime", "has no UTC offset"),
        ("next friday", "invalid_datetime", "'next friday' is not a date and time"),
        ("2026-02-30T09:00:00+01:00", "invalid_datetime", "is not a date and time"),
        (dt.datetime(2026, 11, 27, 9), "naive_datetime", "has no UTC offset"),
        ("0001-01-01T00:00:00+01:00", "invalid_datetime", "is out of range"),
        ("9999-12-31T23:59:00+00:00", "invalid_datetime", "is out of range"),
        (12, "invalid_datetime", "must be an ISO 8601 date and time"),
    ],
)
def test_a_start_without_an_offset_or_unreadable_is_refused(
    start: Any, code: str, message: str, desk: User
) -> None:
    visit = postop()

    refused(visit, lambda: book(visit, start, actor=desk), InvalidInput, code, message)


def test_a_start_in_another_offset_is_the_same_instant(desk: User) -> None:
    visit = book(postop(), "2026-11-27T08:00:00Z", actor=desk)

    assert visit.start == FRIDAY_9


def test_an_unknown_or_inactive_surgeon_is_refused(desk: User) -> None:
    visit = postop()
    retired = SurgeonFactory.create(active=False)

    refused(
        visit,
        lambda: services.book_visit(
            visit_id=visit.pk, start=FRIDAY_9, surgeon_id=999999, actor=desk, now=NOW
        ),
        InvalidInput,
        "unknown_surgeon",
        "Surgeon 999999 does not exist",
    )
    refused(
        visit,
        lambda: book(visit, actor=desk, surgeon=retired),
        InvalidInput,
        "surgeon_inactive",
        "is no longer active",
    )


def test_an_overlap_with_the_surgeons_booking_is_refused_and_the_next_slot_is_free(
    desk: User,
) -> None:
    first = book(postop(), actor=desk)  # 09:00-09:20
    visit = postop(surgeon=first.surgeon)

    refused(
        visit,
        lambda: book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk),
        Conflict,
        "slot_taken",
        rf"Dr\. .* is already booked Fri 2026-11-27 09:00-09:20 \(visit {first.pk}\)",
    )
    assert book(visit, FRIDAY_9 + dt.timedelta(minutes=20), actor=desk).status == (
        VisitStatus.BOOKED
    )


def test_an_overlap_with_the_patients_booking_elsewhere_is_refused(
    desk: User,
) -> None:
    patient = PatientFactory.create()
    first = book(postop(patient=patient), actor=desk)
    visit = postop(patient=patient, surgery_date=SURGERY - dt.timedelta(days=1))

    refused(
        visit,
        lambda: book(visit, FRIDAY_9 + dt.timedelta(minutes=10), actor=desk),
        Conflict,
        "slot_taken",
        rf"The patient already has a visit Fri 2026-11-27 09:00-09:20 with Dr\. "
        rf".* \(visit {first.pk}\)",
    )


def test_a_checked_in_visit_still_holds_its_slot(desk: User) -> None:
    first = book(postop(), actor=desk)
    services.check_in_visit(visit_id=first.pk, actor=desk, now=FRIDAY_9)
    visit = postop(surgeon=first.surgeon)

    refused(
        visit,
        lambda: book(visit, actor=desk),
        Conflict,
        "slot_taken",
        "is already booked",
    )


# --- the window override ------------------------------------------------------

OUTSIDE = madrid(2026, 12, 7, 9)


def test_an_allowed_user_with_a_reason_books_outside_the_window(
    clinic_admin: User,
) -> None:
    visit = postop()

    booked = book(
        visit, OUTSIDE, actor=clinic_admin, override_reason="Surgeon on leave"
    )

    assert booked.start == OUTSIDE
    event = booked.events.get(action="booked")
    assert event.reason == "Surgeon on leave"
    assert event.details["window_override"] == {
        "reason": "Surgeon on leave",
        "window": ["2026-11-27", "2026-12-05"],
        "date": "2026-12-07",
    }


def test_an_allowed_user_without_a_reason_is_refused(clinic_admin: User) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(visit, OUTSIDE, actor=clinic_admin, override_reason="  "),
        InvalidInput,
        "outside_window",
        "give an override reason to book it anyway",
    )


@pytest.mark.parametrize("who", ["desk", "nobody"])
def test_a_reason_without_the_permission_does_not_override(
    who: str, desk: User
) -> None:
    visit = postop()
    actor = desk if who == "desk" else None

    refused(
        visit,
        lambda: book(visit, OUTSIDE, actor=actor, override_reason="Please"),
        InvalidInput,
        "outside_window",
        "only a user allowed to override the window can book it",
    )


def test_the_override_permission_alone_is_enough(db: None) -> None:
    user = UserFactory.create(username="senior_desk", group="front_desk")
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="followup", codename="override_booking_window"
        )
    )
    user = User.objects.get(pk=user.pk)  # drop the cached permissions
    visit = postop()

    assert book(visit, OUTSIDE, actor=user, override_reason="Agreed").start == OUTSIDE


def test_the_override_does_not_lift_the_other_controls(clinic_admin: User) -> None:
    visit = postop()

    refused(
        visit,
        lambda: book(
            visit,
            madrid(2026, 12, 6, 9),
            actor=clinic_admin,
            override_reason="Sunday clinic",
        ),
        InvalidInput,
        "outside_sessions",
        "no consultation on Sunday",
    )
